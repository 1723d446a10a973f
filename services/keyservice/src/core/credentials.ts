import { createHash, randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { DataClass } from '@cz/common/crypto';
import type { AuditTrail } from './audit-trail';
import { actorOf, type Principal } from './principal';

const PRINCIPAL_CACHE_MS = 30000;

const tokenHash = (token: string) => createHash('sm3').update(token, 'utf8').digest('hex');

/** A fresh bearer credential: `cko_…` for officers, `cks_…` for services. */
export const newToken = (prefix: 'cko' | 'cks') => `${prefix}_${randomBytes(32).toString('base64url')}`;

/**
 * Officers' and services' bearer credentials (ks_principal): only their SM3 hashes are stored.
 * A looked-up credential is cached for 30 seconds; re-issuing one clears the cache.
 */
export class Credentials {
  private readonly principals = new Map<string, { principal: Principal | null; at: number }>();

  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditTrail,
  ) {}

  async authenticate(token: string): Promise<Principal | null> {
    const hash = tokenHash(token);
    const cached = this.principals.get(hash);
    if (cached && Date.now() - cached.at < PRINCIPAL_CACHE_MS) return cached.principal;
    const [row] = await this.db.query<{ kind: Principal['kind']; name: string; classes: string }[]>(
      'SELECT kind, name, classes FROM ks_principal WHERE token_hash = ? AND disabled = 0',
      [hash],
    );
    const principal = row
      ? { kind: row.kind, name: row.name, classes: row.classes.split(',').filter(Boolean) as DataClass[] }
      : null;
    if (this.principals.size > 1000) this.principals.clear();
    this.principals.set(hash, { principal, at: Date.now() });
    return principal;
  }

  /** Issues (or re-issues, invalidating the old one) a service credential. */
  async issueCaller(
    officer: Principal,
    name: string,
    classes: DataClass[],
  ): Promise<{ name: string; token: string }> {
    const token = newToken('cks');
    await this.db.transaction(async (tx) => {
      await this.insert(tx, 'service', name, token, classes, actorOf(officer));
      await this.audit.record(
        {
          actor: actorOf(officer),
          action: 'caller.issue',
          outcome: 'ok',
          target: `service:${name}`,
          detail: { classes },
        },
        tx,
      );
    });
    this.principals.clear();
    return { name, token };
  }

  /** Stores a credential's hash inside `tx`, replacing (and re-enabling) one of the same name. */
  async insert(
    tx: EntityManager,
    kind: Principal['kind'],
    name: string,
    token: string,
    classes: DataClass[],
    createdBy: string,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO ks_principal (kind, name, token_hash, classes, disabled, created_at, created_by) VALUES (?, ?, ?, ?, 0, ?, ?)
       ON DUPLICATE KEY UPDATE token_hash = VALUES(token_hash), classes = VALUES(classes), disabled = 0, created_at = VALUES(created_at), created_by = VALUES(created_by)`,
      [kind, name, tokenHash(token), classes.join(','), new Date(), createdBy],
    );
  }
}
