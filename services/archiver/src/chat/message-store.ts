import type { EntityManager } from 'typeorm';
import type { MessageRow } from '../rows';

const toDate = (ms: number) => new Date(ms);

/**
 * Inserts the `message` rows of the chunk's records that this batch claimed (INSERT IGNORE, so a
 * row already there is left exactly as it was). Returns the rows inserted.
 */
export async function insertMessages(
  tx: EntityManager,
  chunk: readonly MessageRow[],
  isFresh: (row: MessageRow) => boolean,
): Promise<number> {
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
      chunk.filter(isFresh).map(({ message: m, sealedRecord, kekId, kekVersion }) => ({
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
  return (result.raw as { affectedRows?: number } | undefined)?.affectedRows ?? 0;
}

/** Inserts one `message_recipient` row per distinct recipient of each stored message (idempotent). */
export async function insertRecipients(tx: EntityManager, kept: readonly MessageRow[]): Promise<void> {
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
