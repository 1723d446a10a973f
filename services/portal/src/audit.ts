import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';

export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

/**
 * Appends to the audit trail, an SM3 hash chain: each event's hash covers the previous hash and
 * its own canonical content, so deleting or editing an event breaks every later link. The chain
 * head row serialises appends across portal replicas.
 */
export async function appendAudit(
  db: DataSource,
  entry: AuditEntry,
  at = new Date(),
): Promise<{ seq: string; hash: string }> {
  return db.transaction(async (tx) => {
    const [head] = (await tx.query('SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE')) as {
      seq: string;
      hash: string;
    }[];
    if (!head) throw new Error('audit chain head missing: run migrations');
    const seq = (BigInt(head.seq) + 1n).toString();
    const detail = JSON.stringify(entry.detail);
    const hash = auditHash(head.hash, seq, at, entry, detail);
    await tx.query(
      'INSERT INTO audit_event (seq, at, actor, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [seq, at, entry.actor, entry.action, entry.target, detail, head.hash, hash],
    );
    await tx.query('UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1', [seq, hash]);
    return { seq, hash };
  });
}

export function auditHash(
  prevHash: string,
  seq: string,
  at: Date,
  entry: AuditEntry,
  detailJson: string,
): string {
  return createHash('sm3')
    .update([prevHash, seq, at.toISOString(), entry.actor, entry.action, entry.target, detailJson].join('\n'))
    .digest('hex');
}

interface AuditRow {
  seq: string;
  at: Date;
  actor: string;
  action: string;
  target: string;
  detail: string | Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** Recomputes the chain; returns the first broken sequence number, or null when intact. */
export async function verifyAuditChain(db: DataSource): Promise<string | null> {
  const rows: AuditRow[] = await db.query(
    'SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_event ORDER BY seq',
  );
  let prev = '0'.repeat(64);
  for (const row of rows) {
    const detail = typeof row.detail === 'string' ? row.detail : JSON.stringify(row.detail);
    const expected = auditHash(
      prev,
      row.seq,
      new Date(row.at),
      { actor: row.actor, action: row.action, target: row.target, detail: {} },
      detail,
    );
    if (row.prev_hash !== prev || row.hash !== expected) return row.seq;
    prev = row.hash;
  }
  return null;
}
