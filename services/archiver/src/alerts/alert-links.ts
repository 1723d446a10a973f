import type { EntityManager } from 'typeorm';
import { SearchDocKinds, type SearchDocKind } from '@cz/common/search';
import type { ArchiveHook } from '../rows';
import { hex32, hexIds, inChunks } from '../sql';

/*
 * The link between an alert and the archived record it names (see alert-store.ts for the protocol):
 * `alert_target` rows turn from pending to linked, `alert_record` keeps the count and highest
 * severity per record. Used by the alert batch, the chat batch (hook) and the call batch.
 */

const IN_CHUNK = 1000;

export interface LinkedTarget {
  id: string;
  kind: SearchDocKind;
  time: Date;
  rank: number;
}

/** Adds linked targets to `alert_record` (count and highest severity per record), in a fixed order. */
export async function addToRecords(tx: EntityManager, linked: LinkedTarget[]): Promise<void> {
  const perRecord = new Map<
    string,
    { id: string; kind: SearchDocKind; time: Date; count: number; rank: number }
  >();
  for (const t of linked) {
    const key = `${t.time.getTime()}:${t.id}`;
    const record = perRecord.get(key);
    if (record) {
      record.count += 1;
      record.rank = Math.max(record.rank, t.rank);
    } else perRecord.set(key, { id: t.id, kind: t.kind, time: t.time, count: 1, rank: t.rank });
  }
  const records = [...perRecord.values()].sort(
    (a, b) => a.time.getTime() - b.time.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  for (const chunk of inChunks(records, IN_CHUNK)) {
    await tx.query(
      `INSERT INTO alert_record (doc_time, doc_id, doc_kind, alert_count, max_severity)
       VALUES ${chunk.map((r) => `(?, X'${hex32(r.id)}', ${r.kind}, ${r.count}, ${r.rank})`).join(', ')}
       ON DUPLICATE KEY UPDATE alert_count = alert_count + VALUES(alert_count),
         max_severity = GREATEST(max_severity, VALUES(max_severity))`,
      chunk.map((r) => r.time),
    );
  }
}

/**
 * Links the alerts waiting for records that this transaction archives (messages: the chat batch
 * hook; calls: the call batch). Only targets still pending are taken, under a lock, so a record
 * archived again (or by two racing transactions) links each alert once. Returns the links made.
 */
export async function linkArchivedRecords(
  tx: EntityManager,
  records: readonly { id: string; kind: SearchDocKind; time: Date }[],
): Promise<number> {
  if (records.length === 0) return 0;
  const byId = new Map(records.map((r) => [r.id, r]));
  const waiting: { doc_id: string; alert_id: string; severity_rank: number | string }[] = [];
  for (const chunk of inChunks([...byId.keys()].sort(), IN_CHUNK)) {
    waiting.push(
      ...(await tx.query<typeof waiting>(
        `SELECT LOWER(HEX(doc_id)) AS doc_id, alert_id, severity_rank FROM alert_target
         WHERE doc_id IN (${hexIds(chunk)}) AND doc_time IS NULL FOR UPDATE`,
      )),
    );
  }
  if (waiting.length === 0) return 0;
  const linked: LinkedTarget[] = [];
  for (const id of [...new Set(waiting.map((w) => w.doc_id))].sort()) {
    const record = byId.get(id)!;
    await tx.query(
      `UPDATE alert_target SET doc_time = ? WHERE doc_id = X'${hex32(id)}' AND doc_time IS NULL`,
      [record.time],
    );
  }
  for (const w of waiting) {
    const record = byId.get(w.doc_id)!;
    linked.push({ id: w.doc_id, kind: record.kind, time: record.time, rank: Number(w.severity_rank) });
  }
  await addToRecords(tx, linked);
  return linked.length;
}

/** The chat batch's hook: links alerts that arrived before the messages this batch archives. */
export const alertLinkHook: ArchiveHook = {
  name: 'alert-link',
  apply: async (tx, fresh) => {
    await linkArchivedRecords(
      tx,
      fresh.map(({ message: m }) => ({ id: m.id, kind: SearchDocKinds.message, time: new Date(m.msgtime) })),
    );
  },
};
