import type { DataSource } from 'typeorm';
import type { ArchivedMessageV1 } from '@cz/contracts';
import { completenessTimeZone, trackSeqs } from './completeness';
import { storeWecomModel, type ConsentRow, type ContentConflictObserver } from './wecom-store';

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
 * is left exactly as it was (INSERT IGNORE on the unique key), so redelivery never duplicates; a
 * different record under the same msgid is kept as a variant (see storeWecomModel).
 */
export async function storeMessages(
  db: DataSource,
  rows: MessageRow[],
  observer?: ContentConflictObserver,
): Promise<number> {
  if (rows.length === 0) return 0;
  let inserted = 0;
  await db.transaction(async (tx) => {
    // before the idempotent insert: tracking tells new seqs from duplicates by what is stored
    await trackSeqs(tx, rows, completenessTimeZone());
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
          chunk.map(({ message: m, sealedRecord, kekId, kekVersion }) => ({
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
      inserted += (result.raw as { affectedRows?: number }).affectedRows ?? 0;
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
  });
  return inserted;
}
