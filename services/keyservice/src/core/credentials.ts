import { createHash, randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from '@cz/common';
import type { DataClass } from '@cz/common/crypto';
import type { CallerGrants, CallerOperation, CallerView, IntrospectReply, OfficerView } from '@cz/contracts';
import { publicKeyFingerprint } from './officer-envelope';
import { listOf, type Principal } from './principal';

/** How long a looked-up credential is trusted without asking the database again (the default). */
export const DEFAULT_PRINCIPAL_CACHE_MS = 30000;

export const tokenHash = (token: string) => createHash('sm3').update(token, 'utf8').digest('hex');

/** A fresh bearer credential: `cko_…` for officers, `cks_…` for services. */
export const newToken = (prefix: 'cko' | 'cks') => `${prefix}_${randomBytes(32).toString('base64url')}`;

export { publicKeyFingerprint } from './officer-envelope';

export interface Grants {
  classes: DataClass[];
  operations: CallerOperation[];
  corps: string[];
}

interface PrincipalRow {
  kind: Principal['kind'];
  name: string;
  classes: string;
  operations: string;
  corps: string;
  disabled: number;
  public_key: string | null;
  token_hash: string | null;
  created_at: Date;
  created_by: string;
  enrolled_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

const principalOf = (row: PrincipalRow): Principal => ({
  kind: row.kind,
  name: row.name,
  classes: listOf<DataClass>(row.classes),
  operations: listOf<CallerOperation>(row.operations),
  corps: listOf(row.corps),
});

const grantsOf = (principal: Principal): CallerGrants => ({
  name: principal.name,
  kind: principal.kind,
  classes: principal.classes,
  operations: principal.operations,
  corps: principal.corps,
});

const iso = (value: Date | string) => new Date(value).toISOString();
const union = <T>(a: T[], b: T[] = []): T[] => [...new Set([...a, ...b])];

/**
 * Officers' and services' bearer credentials and grants (ks_principal): only SM3 hashes of the
 * credentials are stored. A looked-up credential is trusted for `cacheMs` (≤ 30 s): a credential
 * revoked on another replica stops working here within that window; on this one at once.
 */
export class Credentials {
  private readonly principals = new Map<string, { principal: Principal | null; at: number }>();

  constructor(
    private readonly db: DataSource,
    readonly cacheMs: number = DEFAULT_PRINCIPAL_CACHE_MS,
  ) {}

  /** The active officer or service holding `token`, or null (unknown, revoked, not yet issued). */
  async authenticate(token: string): Promise<Principal | null> {
    const hash = tokenHash(token);
    const cached = this.principals.get(hash);
    if (cached && Date.now() - cached.at < this.cacheMs) return cached.principal;
    const [row] = await this.db.query<PrincipalRow[]>(
      'SELECT * FROM ks_principal WHERE token_hash = ? AND disabled = 0',
      [hash],
    );
    const principal = row ? principalOf(row) : null;
    if (this.principals.size > 1000) this.principals.clear();
    this.principals.set(hash, { principal, at: Date.now() });
    return principal;
  }

  /** POST /v1/callers/introspect: who holds `token` (inactive when unknown or revoked). */
  async introspect(token: string): Promise<IntrospectReply> {
    const principal = await this.authenticate(token);
    return principal ? { active: true, caller: grantsOf(principal) } : { active: false };
  }

  /** An active service caller's grants by name (mTLS callers are named by their certificate CN). */
  async grantsByName(name: string): Promise<CallerGrants | null> {
    const [row] = await this.db.query<PrincipalRow[]>(
      "SELECT * FROM ks_principal WHERE kind = 'service' AND name = ? AND disabled = 0",
      [name],
    );
    return row ? grantsOf(principalOf(row)) : null;
  }

  async listCallers(): Promise<CallerView[]> {
    const rows = await this.db.query<PrincipalRow[]>(
      "SELECT * FROM ks_principal WHERE kind = 'service' ORDER BY name",
    );
    return rows.map((row) => ({
      name: row.name,
      kind: 'service' as const,
      classes: listOf<DataClass>(row.classes),
      operations: listOf<CallerOperation>(row.operations),
      corps: listOf(row.corps),
      state: row.disabled ? ('revoked' as const) : ('active' as const),
      createdAt: iso(row.created_at),
      createdBy: row.created_by,
      revokedAt: row.revoked_at ? iso(row.revoked_at) : null,
      revokedBy: row.revoked_by,
    }));
  }

  async listOfficers(): Promise<OfficerView[]> {
    const rows = await this.db.query<PrincipalRow[]>(
      "SELECT * FROM ks_principal WHERE kind = 'officer' ORDER BY name",
    );
    return rows.map((row) => ({
      name: row.name,
      state: row.disabled ? 'revoked' : row.token_hash ? 'active' : 'enrolled',
      enrolledAt: row.enrolled_at ? iso(row.enrolled_at) : null,
      publicKeyFingerprint: row.public_key ? publicKeyFingerprint(row.public_key) : null,
    }));
  }

  /** Enrolled officers (public key, not revoked), in name order: the holders of the shares. */
  async enrolledOfficers(tx?: EntityManager): Promise<{ name: string; publicKey: string }[]> {
    const rows = await (tx ?? this.db).query<PrincipalRow[]>(
      "SELECT * FROM ks_principal WHERE kind = 'officer' AND disabled = 0 AND public_key IS NOT NULL ORDER BY name",
    );
    return rows.map((row) => ({ name: row.name, publicKey: row.public_key! }));
  }

  /** An active officer's enrolled SM2 public key, or null. */
  async officerPublicKey(name: string, tx?: EntityManager): Promise<string | null> {
    const [row] = await (tx ?? this.db).query<PrincipalRow[]>(
      "SELECT public_key FROM ks_principal WHERE kind = 'officer' AND name = ? AND disabled = 0",
      [name],
    );
    return row?.public_key ?? null;
  }

  /** Stores an officer's public key before init (no credential yet). */
  async enrolOfficer(tx: EntityManager, name: string, publicKey: string): Promise<void> {
    const [existing] = await tx.query<PrincipalRow[]>(
      "SELECT name FROM ks_principal WHERE kind = 'officer' AND name = ? FOR UPDATE",
      [name],
    );
    if (existing) throw new AppError(409, 'officer_exists', `officer ${name} is already enrolled`);
    await tx.query(
      `INSERT INTO ks_principal (kind, name, token_hash, classes, operations, corps, disabled, created_at, created_by, public_key, enrolled_at)
       VALUES ('officer', ?, NULL, '', '', '', 0, ?, 'enrol', ?, ?)`,
      [name, new Date(), publicKey.toLowerCase(), new Date()],
    );
  }

  /** An officer of a key service initialised before enrolment existed registers their key once. */
  async registerOfficerKey(officer: Principal, publicKey: string): Promise<void> {
    const result = await this.db.query<{ affectedRows: number }>(
      "UPDATE ks_principal SET public_key = ?, enrolled_at = ? WHERE kind = 'officer' AND name = ? AND public_key IS NULL AND disabled = 0",
      [publicKey.toLowerCase(), new Date(), officer.name],
    );
    if (result.affectedRows !== 1) {
      throw new AppError(409, 'key_registered', `officer ${officer.name} already has a registered key`);
    }
  }

  /** Sets an enrolled officer's credential (init). */
  async activateOfficer(tx: EntityManager, name: string, token: string): Promise<void> {
    await tx.query("UPDATE ks_principal SET token_hash = ? WHERE kind = 'officer' AND name = ?", [
      tokenHash(token),
      name,
    ]);
    this.forget();
  }

  /** A new service caller; 409 `caller_exists` for a name in use (active or revoked). */
  async issueService(tx: EntityManager, name: string, grants: Grants, createdBy: string): Promise<string> {
    await this.requireNoCaller(tx, name);
    const token = newToken('cks');
    await tx.query(
      `INSERT INTO ks_principal (kind, name, token_hash, classes, operations, corps, disabled, created_at, created_by)
       VALUES ('service', ?, ?, ?, ?, ?, 0, ?, ?)`,
      [
        name,
        tokenHash(token),
        grants.classes.join(','),
        grants.operations.join(','),
        grants.corps.join(','),
        new Date(),
        createdBy,
      ],
    );
    return token;
  }

  async requireNoCaller(tx: EntityManager | DataSource, name: string): Promise<void> {
    const [existing] = await tx.query<PrincipalRow[]>(
      "SELECT name FROM ks_principal WHERE kind = 'service' AND name = ?",
      [name],
    );
    if (existing) {
      throw new AppError(
        409,
        'caller_exists',
        `a caller named ${name} exists; a new credential for it is a re-issue (caller.reissue)`,
      );
    }
  }

  /** The caller's row, or 404 `caller_not_found`. */
  async requireCaller(
    tx: EntityManager | DataSource,
    name: string,
  ): Promise<Principal & { revoked: boolean }> {
    const [row] = await tx.query<PrincipalRow[]>(
      "SELECT * FROM ks_principal WHERE kind = 'service' AND name = ?",
      [name],
    );
    if (!row) throw new AppError(404, 'caller_not_found', `no caller ${name}`);
    return { ...principalOf(row), revoked: row.disabled === 1 };
  }

  /** A fresh credential for an existing caller; the old one stops working (also reactivates). */
  async reissueService(tx: EntityManager, name: string, issuedBy: string): Promise<string> {
    await this.requireCaller(tx, name);
    const token = newToken('cks');
    await tx.query(
      `UPDATE ks_principal SET token_hash = ?, disabled = 0, revoked_at = NULL, revoked_by = NULL, created_at = ?, created_by = ?
       WHERE kind = 'service' AND name = ?`,
      [tokenHash(token), new Date(), issuedBy, name],
    );
    this.forget();
    return token;
  }

  /** Adds grants to an existing caller; returns what it holds afterwards. */
  async widenService(tx: EntityManager, name: string, added: Partial<Grants>): Promise<Grants> {
    const caller = await this.requireCaller(tx, name);
    const grants: Grants = {
      classes: union(caller.classes, added.classes),
      operations: union(caller.operations, added.operations),
      corps: union(caller.corps, added.corps),
    };
    await tx.query(
      "UPDATE ks_principal SET classes = ?, operations = ?, corps = ? WHERE kind = 'service' AND name = ?",
      [grants.classes.join(','), grants.operations.join(','), grants.corps.join(','), name],
    );
    this.forget();
    return grants;
  }

  /** Revokes a caller or an officer: its credential stops authenticating (here now, elsewhere ≤ cacheMs). */
  async revoke(tx: EntityManager, kind: Principal['kind'], name: string, revokedBy: string): Promise<void> {
    const result = await tx.query<{ affectedRows: number }>(
      'UPDATE ks_principal SET disabled = 1, revoked_at = ?, revoked_by = ? WHERE kind = ? AND name = ? AND disabled = 0',
      [new Date(), revokedBy, kind, name],
    );
    if (result.affectedRows !== 1) {
      throw new AppError(
        404,
        `${kind === 'service' ? 'caller' : 'officer'}_not_found`,
        `no active ${kind} ${name}`,
      );
    }
    this.forget();
  }

  /** Forgets every cached credential (after a change on this replica). */
  forget(): void {
    this.principals.clear();
  }
}
