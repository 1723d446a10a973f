import type { DataSource, EntityManager } from 'typeorm';
import type { KeyProvider } from '@cz/common/crypto';
import { openStoredMessage } from '../records/open-record';
import { SearchDocKinds, type TokenHasher } from '@cz/common/search';
import type { ArchiveHook, MessageRow } from '../rows';
import { writeSearchTokens } from './search-index';

/*
 * Indexes messages archived before the search index existed (queued in `search_backfill` by
 * migration SearchBackfill1795608200000): search tokens, customers, and conversation counters
 * recomputed exactly from the stored messages. Idempotent and safe with several replicas (each
 * step locks the queue rows it works on and skips those another replica finished).
 */

interface QueuedRow {
  id: string;
  msgtime: Date;
}

interface StoredMessage {
  id: string;
  corp_id: string;
  msgid: string;
  conversation_id: string;
  msgtime: Date;
  kek_id: string;
  kek_version: number;
  sealed_record: Buffer;
}

const PARTY = `CASE WHEN participant LIKE 'wm%' OR participant LIKE 'wo%' THEN 'customer'
  WHEN participant LIKE 'wb%' THEN 'bot' ELSE 'employee' END`;

/** Recomputes a conversation and its participants from the messages (locking reads: latest data). */
async function recomputeConversation(
  tx: EntityManager,
  corpId: string,
  conversationId: string,
): Promise<void> {
  await tx.query('SELECT 1 FROM conversation WHERE corp_id = ? AND conversation_id = ? FOR UPDATE', [
    corpId,
    conversationId,
  ]);
  await tx.query(
    `INSERT INTO conversation (corp_id, conversation_id, kind, room_id, first_msgtime, last_msgtime, message_count)
     SELECT corp_id, conversation_id, IF(MAX(room_id) IS NULL, 'single', 'group'), MAX(room_id), MIN(msgtime), MAX(msgtime), COUNT(*)
     FROM message WHERE corp_id = ? AND conversation_id = ? GROUP BY corp_id, conversation_id
     ON DUPLICATE KEY UPDATE kind = VALUES(kind), room_id = VALUES(room_id), first_msgtime = VALUES(first_msgtime),
       last_msgtime = VALUES(last_msgtime), message_count = VALUES(message_count)`,
    [corpId, conversationId],
  );
  await tx.query(
    `INSERT INTO conversation_participant (corp_id, conversation_id, participant, party, first_msgtime, last_msgtime, sent_count)
     SELECT corp_id, conversation_id, participant, ${PARTY}, MIN(t), MAX(t), SUM(sent) FROM (
       SELECT corp_id, conversation_id, sender AS participant, msgtime AS t, 1 AS sent
       FROM message WHERE corp_id = ? AND conversation_id = ?
       UNION ALL
       SELECT m.corp_id, m.conversation_id, r.recipient, m.msgtime, 0
       FROM message m JOIN message_recipient r ON r.msgtime = m.msgtime AND r.message_id = m.id
       WHERE m.corp_id = ? AND m.conversation_id = ? AND r.recipient <> m.sender
     ) x GROUP BY corp_id, conversation_id, participant
     ON DUPLICATE KEY UPDATE party = VALUES(party), first_msgtime = VALUES(first_msgtime),
       last_msgtime = VALUES(last_msgtime), sent_count = VALUES(sent_count)`,
    [corpId, conversationId, corpId, conversationId],
  );
}

/** One step of the backfill; returns how many queued messages it handled (0: the queue is empty). */
export async function backfillStep(
  db: DataSource,
  keys: KeyProvider,
  hasher: TokenHasher,
  customers: ArchiveHook,
  batchSize = 200,
): Promise<number> {
  const queued = await db.query<QueuedRow[]>(
    `SELECT LOWER(HEX(id)) AS id, msgtime FROM search_backfill ORDER BY id LIMIT ${Math.floor(batchSize)}`,
  );
  if (queued.length === 0) return 0;
  const stored = await db.query<StoredMessage[]>(
    `SELECT id, corp_id, msgid, conversation_id, msgtime, kek_id, kek_version, sealed_record FROM message
     WHERE ${queued.map(() => '(msgtime = ? AND id = ?)').join(' OR ')}`,
    queued.flatMap((q) => [q.msgtime, q.id]),
  );
  const rows: MessageRow[] = [];
  for (const s of stored) {
    // a value that does not belong to its row is not indexed (its queue entry is still done)
    const message = await openStoredMessage(keys, s);
    if (!message) continue;
    rows.push({ message, sealedRecord: s.sealed_record, kekId: s.kek_id, kekVersion: s.kek_version });
  }
  const prepared = customers.prepare ? await customers.prepare(rows) : undefined;
  await db.transaction(async (tx) => {
    const ids = queued.map((q) => q.id);
    const still = new Set(
      (
        await tx.query<{ id: string }[]>(
          `SELECT LOWER(HEX(id)) AS id FROM search_backfill FORCE INDEX (PRIMARY) WHERE id IN (${ids.map(() => 'UNHEX(?)').join(', ')}) FOR UPDATE`,
          ids,
        )
      ).map((r) => r.id),
    );
    const mine = rows.filter((r) => still.has(r.message.id));
    await writeSearchTokens(
      tx,
      hasher,
      mine.map(({ message: m }) => ({
        id: m.id,
        time: m.msgtime,
        kind: SearchDocKinds.message,
        text: m.text,
      })),
      { ignoreExisting: true },
    );
    if (mine.length > 0) await customers.apply(tx, mine, prepared);
    const conversations = new Map(mine.map(({ message: m }) => [`${m.corpId}\u0000${m.conversationId}`, m]));
    for (const m of [...conversations.values()].sort((a, b) =>
      a.conversationId < b.conversationId ? -1 : 1,
    ))
      await recomputeConversation(tx, m.corpId, m.conversationId);
    if (still.size > 0) {
      const list = [...still].map(() => 'UNHEX(?)').join(', ');
      await tx.query(`UPDATE message_key SET claim = 1 WHERE claim = 0 AND id IN (${list})`, [...still]);
      await tx.query(`DELETE FROM search_backfill WHERE id IN (${list})`, [...still]);
    }
  });
  return queued.length;
}
