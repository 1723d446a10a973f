import type { KafkaMessage } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { Topics } from '@cz/contracts';
import type { PoisonRecord } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import type { ArchiveHook, MessageRow } from '../rows';
import { completenessDefaults } from '../config';
import { decodeMessages } from '../chat/decode-messages';
import { insertMessages, insertRecipients } from '../chat/message-store';
import { prepareConsents, storeWecomModel, type ContentConflictObserver } from '../chat/wecom-model';
import { trackSeqs } from '../completeness/seq-tracker';
import { advanceOffset, claimBatch, splitReplayed, type KafkaPosition } from './exactly-once';

/*
 * The path of a chat (cz.msg.v1) batch, each step once:
 *
 *   offsets (a replay is only re-checked for the DLQ) → decode → prepare (consent subjects, hooks'
 *   sealing) → one transaction: completeness tracking → claim (exactly-once) → message rows, the
 *   WeCom model (variants, recalls, consent), recipients → hooks (customers, conversations, search
 *   index, alert links) → the partition's offset.
 *
 * Tracking runs before the inserts because it tells new seqs from duplicates by what is stored.
 */

export interface ArchiveOptions {
  /** the batch's Kafka position; without it (tests, benches) no offset row is kept */
  position?: KafkaPosition;
  hooks?: readonly ArchiveHook[];
  /** calendar of the completeness counters (default: completenessDefaults.timeZone) */
  timeZone?: string;
}

const INSERT_CHUNK = 500;

/**
 * Stores a batch in one transaction. Idempotent: a message already archived under (corp, msgid)
 * is left exactly as it was (its archive id is claimed once in message_key, see exactly-once.ts),
 * so redelivery never duplicates; `archive` adds the hooks (search index …) and the Kafka offset; a
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
  const hooks = archive.hooks ?? [];
  const prepared: unknown[] = [];
  for (const hook of hooks) prepared.push(hook.prepare ? await hook.prepare(rows) : undefined);
  // READ COMMITTED: locking reads on the (non-unique) message id index take no gap locks, so
  // concurrent batches (replicas, partitions) do not deadlock on each other's inserts
  await db.transaction('READ COMMITTED', async (tx) => {
    // before the idempotent insert: tracking tells new seqs from duplicates by what is stored
    await trackSeqs(tx, rows, archive.timeZone ?? completenessDefaults.timeZone);
    // exactly once: only records whose archive id this transaction claimed are written
    const batch = await claimBatch(tx, rows, archive.position);
    for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
      const chunk = rows.slice(start, start + INSERT_CHUNK);
      inserted += await insertMessages(tx, chunk, batch.isFresh);
      const kept = await storeWecomModel(tx, chunk, observer);
      await insertRecipients(tx, kept);
    }
    // customers, conversations, search index, alert links (evidence-log leaves); then the offset
    for (const [i, hook] of hooks.entries()) {
      if (batch.fresh.length > 0) await hook.apply(tx, batch.fresh, prepared[i]);
    }
    await advanceOffset(tx, archive.position);
  });
  return inserted;
}

interface ChatBatchContext {
  db: DataSource;
  keys: KeyProvider;
  /** the consumer group whose offsets the archive keeps */
  groupId: string;
  hooks: readonly ArchiveHook[];
  timeZone: string;
}

interface ChatBatchResult {
  /** records to dead-letter: this delivery's and a replay's (the DLQ send follows the commit) */
  poison: PoisonRecord[];
  /** records of the batch not archived before (not a replay) */
  received: number;
  /** rows decoded and handed to the transaction */
  decoded: number;
  inserted: number;
  /** records that reused an archived msgid with different content, stored as variants */
  conflicts: MessageRow[];
  /** poison among the records not archived before */
  deadLettered: number;
}

/** One delivered batch of one partition of cz.msg.v1, through every step once (see above). */
export async function archiveChatBatch(
  context: ChatBatchContext,
  messages: KafkaMessage[],
  partition: number,
): Promise<ChatBatchResult> {
  const { db, keys } = context;
  // a replay of records an earlier transaction archived: only re-check them for the DLQ
  const where = { groupId: context.groupId, topic: Topics.messages, partition };
  const { replayed, fresh, position } = await splitReplayed(db, where, messages);
  const replayPoison = replayed.length ? (await decodeMessages(replayed, keys)).poison : [];
  const { rows, poison } = await decodeMessages(fresh, keys);
  // outside the transaction: a key-source failure here is transient and must retry the batch
  await prepareConsents(rows, keys);
  // reported after the transaction committed, so a retried batch is not counted twice
  const conflicts: MessageRow[] = [];
  const inserted = await storeMessages(
    db,
    rows,
    { contentConflict: (row) => void conflicts.push(row) },
    { position, hooks: context.hooks, timeZone: context.timeZone },
  );
  return {
    poison: [...replayPoison, ...poison],
    received: fresh.length,
    decoded: rows.length,
    inserted,
    conflicts,
    deadLettered: poison.length,
  };
}
