import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { sealBuffer, type KeyProvider, type SealBinding } from '@cz/common/crypto';

export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  /** what was done and shown, without personal data: filters, counts, record ids */
  detail: Record<string, unknown>;
  /** what the person typed that may hold personal data (a search phrase): stored sealed only */
  sensitive?: Record<string, unknown>;
}

export interface AuditOptions {
  /** required when the entry has `sensitive` */
  keys?: KeyProvider;
  at?: Date;
}

/** The sealed detail of an audit event is bound to its actor and time (the chain binds it to its event too). */
export const auditDetailBinding = (actor: string, at: Date): SealBinding => ({
  kind: 'audit',
  corp: '',
  id: `${actor}@${at.toISOString()}`,
});

/**
 * Appends to the audit trail, an SM3 hash chain: each event's hash covers the previous hash and
 * its own canonical content, so deleting or editing an event breaks every later link. The chain
 * head row serialises appends across portal replicas.
 */
export async function appendAudit(
  db: DataSource,
  entry: AuditEntry,
  options: AuditOptions = {},
): Promise<{ seq: string; hash: string }> {
  const at = options.at ?? new Date();
  let sealedDetail: Buffer | null = null;
  if (entry.sensitive) {
    if (!options.keys) throw new Error('appendAudit: an entry with sensitive detail needs the key provider');
    sealedDetail = await sealBuffer(
      Buffer.from(JSON.stringify(entry.sensitive)),
      options.keys,
      'audit',
      auditDetailBinding(entry.actor, at),
    );
  }
  return db.transaction(async (tx) => {
    const [head] = await tx.query<
      {
        seq: string;
        hash: string;
      }[]
    >('SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE');
    if (!head) throw new Error('audit chain head missing: run migrations');
    const seq = (BigInt(head.seq) + 1n).toString();
    const detail = JSON.stringify(entry.detail);
    const hash = auditHash(head.hash, seq, at, entry, detail, sealedDetail);
    await tx.query(
      'INSERT INTO audit_event (seq, at, actor, action, target, detail, sealed_detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [seq, at, entry.actor, entry.action, entry.target, detail, sealedDetail, head.hash, hash],
    );
    await tx.query('UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1', [seq, hash]);
    return { seq, hash };
  });
}

export function auditHash(
  prevHash: string,
  seq: string,
  at: Date,
  entry: Pick<AuditEntry, 'actor' | 'action' | 'target'>,
  detailJson: string,
  sealedDetail: Buffer | null = null,
): string {
  const fields = [prevHash, seq, at.toISOString(), entry.actor, entry.action, entry.target, detailJson];
  // the sealed part is bound by its digest; events without one hash exactly as before
  if (sealedDetail) fields.push(createHash('sm3').update(sealedDetail).digest('hex'));
  return createHash('sm3').update(fields.join('\n')).digest('hex');
}

interface AuditRow {
  seq: string;
  at: Date;
  actor: string;
  action: string;
  target: string;
  detail: string | Record<string, unknown>;
  sealed_detail: Buffer | null;
  prev_hash: string;
  hash: string;
}

/** Recomputes the chain; returns the first broken sequence number, or null when intact. */
export async function verifyAuditChain(db: DataSource): Promise<string | null> {
  const rows: AuditRow[] = await db.query(
    'SELECT seq, at, actor, action, target, detail, sealed_detail, prev_hash, hash FROM audit_event ORDER BY seq',
  );
  let prev = '0'.repeat(64);
  for (const row of rows) {
    const detail = typeof row.detail === 'string' ? row.detail : JSON.stringify(row.detail);
    const expected = auditHash(
      prev,
      row.seq,
      new Date(row.at),
      { actor: row.actor, action: row.action, target: row.target },
      detail,
      row.sealed_detail,
    );
    if (row.prev_hash !== prev || row.hash !== expected) return row.seq;
    prev = row.hash;
  }
  return null;
}
