import { randomBytes } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import type { MessageRow } from '../rows';
import { hex32, toSqlTime } from '../sql';

/*
 * Exactly-once archiving of a batch.
 *
 * Kafka delivers at least once: a batch can come again after a crash, a rebalance, or while a
 * "zombie" consumer that lost its partition is still finishing. The batch transaction therefore
 *
 * 1. locks the partition's row in `archive_offset` (so two consumers of one partition serialise),
 * 2. claims the archive ids of its records in `message_key` (INSERT IGNORE with a random claim
 *    number, then reads back which ids carry its number): a record is "fresh" for exactly one
 *    transaction ever, whichever consumer, group or replay delivers it,
 * 3. writes message rows, recipients, search tokens, conversation counters and the hooks'
 *    rows (evidence-log leaves) only for fresh records,
 * 4. advances `archive_offset.next_offset` past the batch,
 *
 * and commits; only then are the offsets committed to Kafka. A batch redelivered after the commit
 * is recognised by its offsets before any decoding (`splitReplayed`) and only re-checked for DLQ
 * records. Because freshness is decided by the claim, not by the offset, exactly-once holds even if
 * Kafka's committed offsets were lost, the group was renamed, or two consumers raced; the offset
 * row makes the common replay cheap and serialises racing consumers.
 */

export interface KafkaPosition {
  groupId: string;
  topic: string;
  partition: number;
  /** offset after the last record of the batch */
  nextOffset: string;
}

export interface ClaimedBatch {
  /** whether this row is the one to insert (its id claimed here, first row of that id in the batch) */
  isFresh: (row: MessageRow) => boolean;
  fresh: MessageRow[];
}

const CLAIM_CHUNK = 1000;

/** Steps 1 and 2: lock the partition's offset row, claim the batch's archive ids. */
export async function claimBatch(
  tx: EntityManager,
  rows: MessageRow[],
  position: KafkaPosition | undefined,
): Promise<ClaimedBatch> {
  if (position) {
    // an upsert takes the row's exclusive lock even when the row already exists
    await tx.query(
      `INSERT INTO archive_offset (group_id, topic, partition_no, next_offset, updated_at) VALUES (?, ?, ?, 0, ?)
       ON DUPLICATE KEY UPDATE next_offset = next_offset`,
      [position.groupId, position.topic, position.partition, new Date()],
    );
  }
  const firstOfId = new Map<string, MessageRow>();
  for (const row of rows) if (!firstOfId.has(row.message.id)) firstOfId.set(row.message.id, row);
  // a fixed order, so two transactions claiming overlapping ids cannot deadlock
  const ids = [...firstOfId.keys()].sort();
  const claim = randomBytes(8).readBigUInt64BE(0).toString();
  let claimedCount = 0;
  for (let start = 0; start < ids.length; start += CLAIM_CHUNK) {
    const chunk = ids.slice(start, start + CLAIM_CHUNK);
    const values = chunk.map(
      (id) => `(X'${hex32(id)}', '${toSqlTime(firstOfId.get(id)!.message.msgtime)}', ${claim})`,
    );
    const result = await tx.query<{ affectedRows?: number }>(
      `INSERT IGNORE INTO message_key (id, msgtime, claim) VALUES ${values.join(', ')}`,
    );
    claimedCount += result.affectedRows ?? 0;
  }
  let claimed: Set<string>;
  if (claimedCount === ids.length) claimed = new Set(ids);
  else if (claimedCount === 0) claimed = new Set();
  else {
    claimed = new Set();
    for (let start = 0; start < ids.length; start += CLAIM_CHUNK) {
      const chunk = ids.slice(start, start + CLAIM_CHUNK);
      const found = await tx.query<{ id: string }[]>(
        `SELECT LOWER(HEX(id)) AS id FROM message_key WHERE claim = ? AND id IN (${chunk.map((id) => `X'${hex32(id)}'`).join(', ')})`,
        [claim],
      );
      for (const { id } of found) claimed.add(id);
    }
  }
  const fresh = ids.filter((id) => claimed.has(id)).map((id) => firstOfId.get(id)!);
  const freshRows = new Set(fresh);
  return { isFresh: (row) => freshRows.has(row), fresh };
}

/** Step 4, still inside the transaction: the partition's stored offset moves past the batch. */
export async function advanceOffset(tx: EntityManager, position: KafkaPosition | undefined): Promise<void> {
  if (!position) return;
  await tx.query(
    `UPDATE archive_offset SET next_offset = GREATEST(next_offset, ?), updated_at = ?
     WHERE group_id = ? AND topic = ? AND partition_no = ?`,
    [position.nextOffset, new Date(), position.groupId, position.topic, position.partition],
  );
}

/**
 * Splits a delivered batch into records already archived by an earlier transaction (offset below
 * the partition's stored next offset: a replay) and the rest. Replayed records need no storing;
 * the caller still decodes them to re-send any DLQ record, since the DLQ send happens after commit.
 */
export async function splitReplayed(
  db: DataSource,
  where: Omit<KafkaPosition, 'nextOffset'>,
  messages: KafkaMessage[],
): Promise<{ replayed: KafkaMessage[]; fresh: KafkaMessage[]; position: KafkaPosition | undefined }> {
  const last = messages[messages.length - 1];
  if (!last) return { replayed: [], fresh: [], position: undefined };
  const rows = await db.query<{ next_offset: string }[]>(
    'SELECT next_offset FROM archive_offset WHERE group_id = ? AND topic = ? AND partition_no = ?',
    [where.groupId, where.topic, where.partition],
  );
  const archivedUpTo = BigInt(rows[0]?.next_offset ?? '0');
  const replayed: KafkaMessage[] = [];
  const fresh: KafkaMessage[] = [];
  for (const message of messages) (BigInt(message.offset) < archivedUpTo ? replayed : fresh).push(message);
  return { replayed, fresh, position: { ...where, nextOffset: (BigInt(last.offset) + 1n).toString() } };
}
