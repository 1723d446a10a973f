import { createHash } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';

export type Outcome = 'ok' | 'refused' | 'failed';

export interface KeyAuditEntry {
  /** `officer:<name>`, `service:<name>`, `system`, or `anonymous` */
  actor: string;
  action: string;
  outcome: Outcome;
  /** the error code of a refusal, '' when ok */
  code?: string;
  target: string;
  /** never key material, shares or tokens */
  detail?: Record<string, unknown>;
}

const GENESIS = '0'.repeat(64);

export function keyAuditHash(
  prevHash: string,
  seq: string,
  at: Date,
  entry: { actor: string; action: string; outcome: string; code: string; target: string },
  detailJson: string,
): string {
  return createHash('sm3')
    .update(
      [
        prevHash,
        seq,
        at.toISOString(),
        entry.actor,
        entry.action,
        entry.outcome,
        entry.code,
        entry.target,
        detailJson,
      ].join('\n'),
    )
    .digest('hex');
}

/**
 * Appends to the key service's own audit trail, an SM3 hash chain in cz_keys. With an
 * EntityManager of an open transaction the event commits (or rolls back) with the change it
 * describes; with the DataSource it is its own transaction (used for refusals, which change
 * nothing else). The head row serialises appends across replicas.
 */
export async function appendKeyAudit(
  db: DataSource | EntityManager,
  entry: KeyAuditEntry,
  at = new Date(),
): Promise<{ seq: string; hash: string }> {
  const write = async (tx: EntityManager) => {
    const [head] = await tx.query<
      {
        seq: string;
        hash: string;
      }[]
    >('SELECT seq, hash FROM ks_audit_head WHERE id = 1 FOR UPDATE');
    if (!head) throw new Error('key audit chain head missing: run the key-service migrations');
    const seq = (BigInt(head.seq) + 1n).toString();
    const detail = JSON.stringify(entry.detail ?? {});
    const row = { ...entry, code: entry.code ?? '' };
    const hash = keyAuditHash(head.hash, seq, at, row, detail);
    await tx.query(
      'INSERT INTO ks_audit_event (seq, at, actor, action, outcome, code, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [seq, at, row.actor, row.action, row.outcome, row.code, row.target, detail, head.hash, hash],
    );
    await tx.query('UPDATE ks_audit_head SET seq = ?, hash = ? WHERE id = 1', [seq, hash]);
    return { seq, hash };
  };
  return db instanceof DataSource ? db.transaction(write) : write(db);
}

interface AuditRow {
  seq: string;
  at: Date;
  actor: string;
  action: string;
  outcome: string;
  code: string;
  target: string;
  detail: string | Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface ChainVerification {
  intact: boolean;
  events: number;
  firstBroken: string | null;
  headHash: string;
}

/**
 * Recomputes the whole chain (in pages) and compares its end with the head row, so deleting,
 * editing or reordering events, or cutting off the newest ones, all show.
 */
export async function verifyKeyAuditChain(db: DataSource): Promise<ChainVerification> {
  let prev = GENESIS;
  let last = '0';
  let events = 0;
  const page = 5000;
  for (;;) {
    const rows: AuditRow[] = await db.query(
      'SELECT seq, at, actor, action, outcome, code, target, detail, prev_hash, hash FROM ks_audit_event WHERE seq > ? ORDER BY seq LIMIT ?',
      [last, page],
    );
    for (const row of rows) {
      const detail = typeof row.detail === 'string' ? row.detail : JSON.stringify(row.detail);
      const expected = keyAuditHash(prev, row.seq, new Date(row.at), row, detail);
      const expectedSeq = (BigInt(last) + 1n).toString();
      if (row.seq !== expectedSeq || row.prev_hash !== prev || row.hash !== expected) {
        return { intact: false, events, firstBroken: row.seq, headHash: prev };
      }
      prev = row.hash;
      last = row.seq;
      events++;
    }
    if (rows.length < page) break;
  }
  const [head] = await db.query<
    {
      seq: string;
      hash: string;
    }[]
  >('SELECT seq, hash FROM ks_audit_head WHERE id = 1');
  if (!head || head.seq !== last || head.hash !== prev) {
    return { intact: false, events, firstBroken: (BigInt(last) + 1n).toString(), headHash: prev };
  }
  return { intact: true, events, firstBroken: null, headHash: prev };
}
