import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { KafkaMessage } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { ArchivedBehaviourEventV1 } from '@cz/contracts';
import type { PoisonRecord } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { conformingTo, decodeRecords } from '../records/open-record';

const readEvent = conformingTo(TypeCompiler.Compile(ArchivedBehaviourEventV1), 'cz.event.v1');

export interface EventBatchResult {
  stored: number;
  duplicates: number;
  poison: PoisonRecord[];
}

const INSERT_CHUNK = 500;

/**
 * Archives one batch of `cz.event.v1` in one transaction: the sealed record as it travelled, plus
 * filter columns (type, employee, time, consent category; the customer only as blind indexes).
 * Idempotent on (corp, eventId); a different event reusing an eventId goes to the DLQ.
 */
export async function archiveEventBatch(
  db: DataSource,
  keys: KeyProvider,
  messages: KafkaMessage[],
): Promise<EventBatchResult> {
  const { records: rows, poison } = await decodeRecords(messages, keys, readEvent);
  const result: EventBatchResult = { stored: 0, duplicates: 0, poison };
  if (rows.length === 0) return result;
  let conflicts = 0;
  await db.transaction(async (tx) => {
    for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
      const chunk = rows.slice(start, start + INSERT_CHUNK);
      const insert = await tx
        .createQueryBuilder()
        .insert()
        .orIgnore()
        .into('behaviour_event', [
          'id',
          'corp_id',
          'event_id',
          'type',
          'staff_id',
          'customer_index',
          'phone_index',
          'consent_category',
          'occurred_at',
          'received_at',
          'content_mac',
          'kek_id',
          'kek_version',
          'sealed_record',
        ])
        .values(
          chunk.map(({ value: e, sealed, kekId, kekVersion }) => ({
            id: e.id,
            corp_id: e.corpId,
            event_id: e.event.eventId,
            type: e.event.type,
            staff_id: e.event.staffId,
            customer_index: e.customerIndex ?? null,
            phone_index: e.phoneIndex ?? null,
            consent_category: 'category' in e.event ? e.event.category : null,
            occurred_at: new Date(e.event.occurredAt),
            received_at: new Date(e.receivedAt),
            content_mac: e.contentMac,
            kek_id: kekId,
            kek_version: kekVersion,
            sealed_record: sealed,
          })),
        )
        .execute();
      result.stored += (insert.raw as { affectedRows?: number }).affectedRows ?? 0;
    }
    const ids = [...new Set(rows.map((r) => r.value.id))];
    const archived: { id: string; content_mac: string }[] = await tx.query(
      `SELECT id, content_mac FROM behaviour_event WHERE id IN (${ids.map(() => '?').join(',')})`,
      ids,
    );
    const macOf = new Map(archived.map((row) => [row.id, row.content_mac]));
    for (const { message, value: event } of rows) {
      if (macOf.get(event.id) === event.contentMac) continue;
      conflicts += 1;
      poison.push({
        message,
        error: `conflict: event ${event.event.eventId} of ${event.corpId} is already archived with different content; the first is kept`,
      });
    }
  });
  result.duplicates = rows.length - result.stored - conflicts;
  return result;
}
