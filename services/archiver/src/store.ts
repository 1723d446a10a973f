import type { DataSource } from 'typeorm';
import type { ArchivedMessageV1 } from '@cz/contracts';
import { completenessTimeZone, trackSeqs } from './completeness';
import { storeWecomModel, type ConsentRow, type ContentConflictObserver } from './wecom-store';
import { claimBatch, finishBatch, prepareHooks, type ArchiveOptions } from './batch/archive-batch';

export interface MessageRow {
  message: ArchivedMessageV1;
  sealedRecord: Buffer;
  kekId: string;
  kekVersion: number;
  /** agree / disagree records: the sealed, blind-indexed subject (see prepareConsent) */
  consent?: ConsentRow;
}

const INSERT_CHUNK = 500;

const toDate = (ms: number) => new Date(ms);

/**
 * Stores a batch in one transaction. Idempotent: a message already archived under (corp, msgid)
 * is left exactly as it was (its archive id is claimed once in message_key, see batch/), so
 * redelivery never duplicates; `archive` adds the hooks (search index …) and the Kafka offset; a
 * different record under the same msgid is kept as a variant (see storeWecomModel).
 */
export async function storeMessages(
  db: DataSource,
  rows: MessageRow[],
  observer?: ContentConflictObserver,
  archive: ArchiveOptions = {},
): Promise<number> {
  if (rows.length === 0) return 0;
  let inserted = 0;
  const prepared = await prepareHooks(rows, archive);
  // READ COMMITTED: locking reads on the (non-unique) message id index take no gap locks, so
  // concurrent batches (replicas, partitions) do not deadlock on each other's inserts
  await db.transaction('READ COMMITTED', async (tx) => {
    // before the idempotent insert: tracking tells new seqs from duplicates by what is stored
    await trackSeqs(tx, rows, completenessTimeZone());
    // exactly once: only records whose archive id this transaction claimed are written (batch/)
    const batch = await claimBatch(tx, rows, archive);
    for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
      const chunk = rows.slice(start, start + INSERT_CHUNK);
      const result = await tx
        .createQueryBuilder()
        .insert()
        .orIgnore()
        .into('message', [
          'id',
          'corp_id',
          'msgid',
          'seq',
          'action',
          'msgtype',
          'sender',
          'room_id',
          'conversation_id',
          'msgtime',
          'received_at',
          'kek_id',
          'kek_version',
          'sealed_record',
          'content_mac',
        ])
        .values(
          chunk.filter(batch.isFresh).map(({ message: m, sealedRecord, kekId, kekVersion }) => ({
            id: m.id,
            corp_id: m.corpId,
            msgid: m.msgid,
            seq: m.seq ?? null,
            action: m.action,
            msgtype: m.msgtype ?? null,
            sender: m.from,
            room_id: m.roomid ?? null,
            conversation_id: m.conversationId,
            msgtime: toDate(m.msgtime),
            received_at: toDate(m.receivedAt),
            kek_id: kekId,
            kek_version: kekVersion,
            sealed_record: sealedRecord,
            content_mac: m.contentMac ?? null,
          })),
        )
        .execute();
      // (no fresh rows: TypeORM skips the statement and returns no raw result)
      inserted += (result.raw as { affectedRows?: number } | undefined)?.affectedRows ?? 0;
      const kept = await storeWecomModel(tx, chunk, observer);
      const recipients = kept.flatMap(({ message: m }) =>
        [...new Set(m.tolist)].map((recipient) => ({
          message_id: m.id,
          recipient,
          msgtime: toDate(m.msgtime),
        })),
      );
      if (recipients.length > 0) {
        await tx
          .createQueryBuilder()
          .insert()
          .orIgnore()
          .into('message_recipient', ['message_id', 'recipient', 'msgtime'])
          .values(recipients)
          .execute();
      }
    }
    // search index, conversations, customers, evidence-log leaves; then the Kafka offset
    await finishBatch(tx, batch, archive, prepared);
  });
  return inserted;
}
