import { createHash, randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from '@cz/common';
import { CryptoError, DATA_CLASS_CODES, type DataClass } from '@cz/common/crypto';
import type {
  CreateKeyRequest,
  KeyInitReply,
  KeyInitRequest,
  KeyRequestStatus,
  KeyRequestView,
  KeyServiceStatus,
  KeyringView,
  RewrapJobView,
} from '@cz/contracts';
import type { KeyServiceSettings } from '../config';
import { appendKeyAudit, verifyKeyAuditChain, type ChainVerification, type KeyAuditEntry } from './audit';
import {
  classOfKekId,
  decodeHandle,
  encodeHandle,
  kekIdOf,
  newDataKeyId,
  newRootKey,
  newSm4Key,
  rootCheckValue,
  shareCheckValue,
  unwrapDataKey,
  unwrapIndexKey,
  unwrapKek,
  wrapDataKey,
  wrapIndexKey,
  wrapKek,
  INDEX_KEY_BYTES,
} from './material';
import { SealState, parseShare, splitRootKey, type SealConfig } from './seal';

export const DATA_CLASSES = Object.keys(DATA_CLASS_CODES) as DataClass[];

export interface Principal {
  kind: 'officer' | 'service';
  name: string;
  /** data classes a service may use; empty = all */
  classes: DataClass[];
}

export const actorOf = (principal: Principal | undefined | null): string =>
  principal ? `${principal.kind}:${principal.name}` : 'anonymous';

export interface Keyring {
  dataClass: DataClass;
  latestVersion: number;
  minDecryptionVersion: number;
  autoRotateSeconds: number;
  deletionAllowed: boolean;
  rotatedAt: Date;
}

export interface IssuedDataKey {
  plaintext: Buffer;
  kekId: string;
  kekVersion: number;
  wrapped: Buffer;
  useUntil?: Date;
}

export interface WrappedInput {
  kekId: string;
  kekVersion: number;
  wrapped: Buffer;
}

interface KeyringRow {
  data_class: DataClass;
  latest_version: number;
  min_decryption_version: number;
  auto_rotate_seconds: number;
  deletion_allowed: number;
  rotated_at: Date;
}

interface DataKeyRow {
  id: Buffer;
  data_class: DataClass;
  kek_version: number;
  wrapped_key: Buffer | null;
  destroyed_at: Date | null;
}

interface RequestRow {
  id: string;
  kind: KeyRequestView['kind'];
  data_class: DataClass;
  params: string | Record<string, unknown>;
  reason: string;
  status: KeyRequestStatus;
  requested_by: string;
  requested_at: Date;
  expires_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  result: string | Record<string, unknown> | null;
}

interface RewrapRow {
  id: string;
  data_class: DataClass | null;
  status: RewrapJobView['status'];
  total: number;
  done: number;
  failed: number;
  requested_by: string;
  started_at: Date;
  heartbeat_at: Date;
  finished_at: Date | null;
  error: string | null;
}

const RING_CACHE_MS = 2000;
const PRINCIPAL_CACHE_MS = 30000;
const SEALED_AUDIT_EVERY_MS = 60000;
const REWRAP_CHUNK = 500;
const REWRAP_STALE_MS = 60000;

const tokenHash = (token: string) => createHash('sm3').update(token, 'utf8').digest('hex');
const newToken = (prefix: 'cko' | 'cks') => `${prefix}_${randomBytes(32).toString('base64url')}`;
const parseJson = <T>(value: string | T): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);
const iso = (value: Date | string) => new Date(value).toISOString();

/**
 * Everything the key service does, over its own database and the in-memory root key. Routes only
 * authenticate and translate; every refusal and every change is audited here.
 */
export class KeyStore {
  readonly seal: SealState;
  private config: SealConfig | undefined;
  private readonly keks = new Map<string, Buffer>();
  private readonly rings = new Map<DataClass, { ring: Keyring; at: number }>();
  private readonly principals = new Map<string, { principal: Principal | null; at: number }>();
  private readonly sealedAuditAt = new Map<string, number>();
  private readonly rewrapRuns = new Set<Promise<void>>();
  private closing = false;

  constructor(
    readonly db: DataSource,
    readonly settings: KeyServiceSettings,
  ) {
    this.seal = new SealState(settings.unsealRoundTimeoutMs);
  }

  // -------------------------------------------------------------------------------------------
  // Audit helpers

  async audit(entry: KeyAuditEntry, tx?: EntityManager): Promise<void> {
    await appendKeyAudit(tx ?? this.db, entry);
  }

  /** Audits a refusal (in its own transaction: nothing else changed) and returns the error to throw. */
  private async refuse(
    principal: Principal | null | undefined,
    action: string,
    target: string,
    error: AppError,
    detail: Record<string, unknown> = {},
  ): Promise<AppError> {
    await this.audit({
      actor: actorOf(principal),
      action,
      outcome: 'refused',
      code: error.code,
      target,
      detail: { ...detail, reason: error.message },
    });
    return error;
  }

  /** Runs `work`; an AppError it throws is audited as a refusal of `action` before it propagates. */
  private async audited<T>(
    principal: Principal | null | undefined,
    action: string,
    target: string,
    work: () => Promise<T>,
    detail: Record<string, unknown> = {},
  ): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof AppError && err.statusCode < 500)
        throw await this.refuse(principal, action, target, err, detail);
      if (err instanceof AppError && err.code === 'sealed') {
        await this.auditSealedRefusal(principal, action);
      }
      throw err;
    }
  }

  /** Key operations refused while sealed are audited at most once a minute per caller (callers retry). */
  private async auditSealedRefusal(principal: Principal | null | undefined, action: string): Promise<void> {
    const actor = actorOf(principal);
    const last = this.sealedAuditAt.get(actor) ?? 0;
    if (Date.now() - last < SEALED_AUDIT_EVERY_MS) return;
    this.sealedAuditAt.set(actor, Date.now());
    await this.audit({ actor, action, outcome: 'refused', code: 'sealed', target: 'keyservice' });
  }

  // -------------------------------------------------------------------------------------------
  // Initialisation and seal

  private async loadConfig(): Promise<SealConfig | undefined> {
    if (this.config) return this.config;
    const [row] = (await this.db.query(
      'SELECT threshold, share_count, root_check FROM ks_config WHERE id = 1',
    )) as { threshold: number; share_count: number; root_check: string }[];
    if (!row) return undefined;
    const checks = (await this.db.query('SELECT x, check_hash FROM ks_share_check')) as {
      x: number;
      check_hash: string;
    }[];
    this.config = {
      threshold: row.threshold,
      shareCount: row.share_count,
      rootCheck: row.root_check,
      shareChecks: new Map(checks.map((c) => [Number(c.x), c.check_hash])),
    };
    return this.config;
  }

  private async requireConfig(): Promise<SealConfig> {
    const config = await this.loadConfig();
    if (!config)
      throw new AppError(503, 'not_initialized', 'the key service has not been initialised (keys init)');
    return config;
  }

  /** The root key, or 503 `sealed` / `not_initialized`. */
  private async root(): Promise<Buffer> {
    return this.seal.rootKey(await this.requireConfig());
  }

  async status(): Promise<KeyServiceStatus> {
    const config = await this.loadConfig();
    return {
      initialized: config !== undefined,
      sealed: this.seal.sealed,
      threshold: config?.threshold ?? 0,
      shares: config?.shareCount ?? 0,
      progress: this.seal.progress,
    };
  }

  /**
   * Generates the root key, splits it, creates version 1 of every keyring and the officers' and
   * services' credentials. Returns shares and credentials once; stores neither. The service stays
   * sealed: officers unseal it with their shares like after any restart.
   */
  async init(request: KeyInitRequest): Promise<KeyInitReply> {
    const target = 'keyservice';
    if (request.threshold > request.shares) {
      throw await this.refuse(
        null,
        'init',
        target,
        new AppError(400, 'invalid_init', 'threshold cannot exceed the number of shares'),
      );
    }
    const names = new Set(request.callers.map((c) => c.name));
    if (names.size !== request.callers.length) {
      throw await this.refuse(
        null,
        'init',
        target,
        new AppError(400, 'invalid_init', 'caller names must be unique'),
      );
    }
    if (await this.loadConfig()) {
      throw await this.refuse(
        null,
        'init',
        target,
        new AppError(
          409,
          'already_initialized',
          'the key service is already initialised; shares are never shown again',
        ),
      );
    }
    const root = newRootKey();
    try {
      const shares = await splitRootKey(root, request.shares, request.threshold);
      const officers = request.officers.map((name) => ({ name, token: newToken('cko') }));
      const callers = request.callers.map((c) => ({
        name: c.name,
        classes: c.classes ?? [],
        token: newToken('cks'),
      }));
      const now = new Date();
      try {
        await this.db.transaction(async (tx) => {
          await tx.query(
            'INSERT INTO ks_config (id, threshold, share_count, root_check, initialized_at) VALUES (1, ?, ?, ?, ?)',
            [request.threshold, request.shares, rootCheckValue(root), now],
          );
          for (const share of shares) {
            await tx.query('INSERT INTO ks_share_check (x, check_hash) VALUES (?, ?)', [
              share[share.length - 1],
              shareCheckValue(share),
            ]);
          }
          for (const dataClass of DATA_CLASSES) {
            const kek = newSm4Key();
            await tx.query(
              'INSERT INTO ks_kek_version (data_class, version, wrapped_kek, created_at, created_by) VALUES (?, 1, ?, ?, ?)',
              [dataClass, wrapKek(root, dataClass, 1, kek), now, 'init'],
            );
            kek.fill(0);
            await tx.query(
              'INSERT INTO ks_keyring (data_class, latest_version, min_decryption_version, rotated_at, created_at) VALUES (?, 1, 1, ?, ?)',
              [dataClass, now, now],
            );
          }
          for (const officer of officers)
            await this.insertPrincipal(tx, 'officer', officer.name, officer.token, [], 'init');
          for (const caller of callers) {
            await this.insertPrincipal(tx, 'service', caller.name, caller.token, caller.classes, 'init');
          }
          await this.audit(
            {
              actor: 'anonymous',
              action: 'init',
              outcome: 'ok',
              target,
              detail: {
                shares: request.shares,
                threshold: request.threshold,
                officers: request.officers,
                callers: callers.map((c) => ({ name: c.name, classes: c.classes })),
                keyrings: DATA_CLASSES,
              },
            },
            tx,
          );
        });
      } catch (err) {
        if ((err as { code?: string }).code === 'ER_DUP_ENTRY') {
          throw await this.refuse(
            null,
            'init',
            target,
            new AppError(409, 'already_initialized', 'the key service was initialised concurrently'),
          );
        }
        throw err;
      }
      const reply = {
        shares: shares.map((s) => s.toString('base64url')),
        threshold: request.threshold,
        officers: officers.map(({ name, token }) => ({ name, token })),
        callers: callers.map(({ name, token }) => ({ name, token })),
      };
      for (const share of shares) share.fill(0);
      return reply;
    } finally {
      root.fill(0);
    }
  }

  private async insertPrincipal(
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

  /** One share per call; `reset` abandons the round in progress. */
  async unseal(input: { share: string } | { reset: true }): Promise<KeyServiceStatus> {
    const config = await this.loadConfig();
    if (!config) {
      throw await this.refuse(
        null,
        'unseal',
        'keyservice',
        new AppError(409, 'not_initialized', 'the key service has not been initialised (keys init)'),
      );
    }
    if ('reset' in input) {
      this.seal.reset();
      await this.audit({ actor: 'anonymous', action: 'unseal.reset', outcome: 'ok', target: 'keyservice' });
      return this.status();
    }
    if (!this.seal.sealed) return this.status();
    let x: number | undefined;
    try {
      const share = parseShare(input.share);
      x = share[share.length - 1];
      const outcome = await this.seal.submit(share, config);
      share.fill(0);
      await this.audit({
        actor: 'anonymous',
        action: outcome.unsealed ? 'unseal.complete' : 'unseal.share',
        outcome: 'ok',
        target: 'keyservice',
        detail: { shareX: outcome.x, progress: outcome.progress, threshold: config.threshold },
      });
    } catch (err) {
      if (err instanceof AppError) {
        throw await this.refuse(null, 'unseal.share', 'keyservice', err, {
          shareX: x ?? null,
          progress: this.seal.progress,
          threshold: config.threshold,
        });
      }
      throw err;
    }
    return this.status();
  }

  /** Forgets the root key and every unwrapped KEK (e.g. on suspicion of compromise). */
  async sealNow(principal: Principal): Promise<KeyServiceStatus> {
    this.seal.seal();
    this.forgetKeks();
    await this.audit({ actor: actorOf(principal), action: 'seal', outcome: 'ok', target: 'keyservice' });
    return this.status();
  }

  private forgetKeks(): void {
    for (const kek of this.keks.values()) kek.fill(0);
    this.keks.clear();
    this.rings.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Principals

  async authenticate(token: string): Promise<Principal | null> {
    const hash = tokenHash(token);
    const cached = this.principals.get(hash);
    if (cached && Date.now() - cached.at < PRINCIPAL_CACHE_MS) return cached.principal;
    const [row] = (await this.db.query(
      'SELECT kind, name, classes FROM ks_principal WHERE token_hash = ? AND disabled = 0',
      [hash],
    )) as { kind: Principal['kind']; name: string; classes: string }[];
    const principal = row
      ? { kind: row.kind, name: row.name, classes: row.classes.split(',').filter(Boolean) as DataClass[] }
      : null;
    if (this.principals.size > 1000) this.principals.clear();
    this.principals.set(hash, { principal, at: Date.now() });
    return principal;
  }

  async auditAuthFailure(action: string, code: string, detail: Record<string, unknown>): Promise<void> {
    await this.audit({ actor: 'anonymous', action, outcome: 'refused', code, target: 'keyservice', detail });
  }

  /** Issues (or re-issues, invalidating the old one) a service credential. */
  async issueCaller(
    officer: Principal,
    name: string,
    classes: DataClass[],
  ): Promise<{ name: string; token: string }> {
    const token = newToken('cks');
    await this.db.transaction(async (tx) => {
      await this.insertPrincipal(tx, 'service', name, token, classes, actorOf(officer));
      await this.audit(
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

  // -------------------------------------------------------------------------------------------
  // Keyrings and KEKs

  private ringFrom(row: KeyringRow): Keyring {
    return {
      dataClass: row.data_class,
      latestVersion: Number(row.latest_version),
      minDecryptionVersion: Number(row.min_decryption_version),
      autoRotateSeconds: Number(row.auto_rotate_seconds),
      deletionAllowed: Boolean(row.deletion_allowed),
      rotatedAt: new Date(row.rotated_at),
    };
  }

  /** Keyring state, cached for two seconds (other replicas' changes show within that). */
  async keyring(dataClass: DataClass, fresh = false, tx?: EntityManager): Promise<Keyring> {
    const cached = this.rings.get(dataClass);
    if (!fresh && !tx && cached && Date.now() - cached.at < RING_CACHE_MS) return cached.ring;
    const [row] = (await (tx ?? this.db).query(
      `SELECT data_class, latest_version, min_decryption_version, auto_rotate_seconds, deletion_allowed, rotated_at
       FROM ks_keyring WHERE data_class = ?${tx ? ' FOR UPDATE' : ''}`,
      [dataClass],
    )) as KeyringRow[];
    if (!row)
      throw new AppError(
        503,
        'not_initialized',
        `keyring ${dataClass} missing: the key service is not initialised`,
      );
    const ring = this.ringFrom(row);
    if (!tx) this.rings.set(dataClass, { ring, at: Date.now() });
    return ring;
  }

  private async kek(dataClass: DataClass, version: number): Promise<Buffer> {
    const label = `${dataClass}#${version}`;
    const cached = this.keks.get(label);
    if (cached) return cached;
    const root = await this.root();
    const [row] = (await this.db.query(
      'SELECT wrapped_kek FROM ks_kek_version WHERE data_class = ? AND version = ?',
      [dataClass, version],
    )) as { wrapped_kek: Buffer }[];
    if (!row)
      throw new AppError(400, 'unknown_key_version', `KEK ${kekIdOf(dataClass)} has no version ${version}`);
    let kek: Buffer;
    try {
      kek = unwrapKek(root, dataClass, version, row.wrapped_kek);
    } catch (err) {
      if (err instanceof CryptoError) {
        throw new AppError(500, 'kek_integrity', `stored KEK ${label} fails its integrity check`);
      }
      throw err;
    }
    this.keks.set(label, kek);
    return kek;
  }

  async keyrings(): Promise<KeyringView[]> {
    const rows = (await this.db.query(
      'SELECT data_class, latest_version, min_decryption_version, auto_rotate_seconds, deletion_allowed, rotated_at FROM ks_keyring ORDER BY data_class',
    )) as KeyringRow[];
    const counts = (await this.db.query(
      `SELECT data_class, kek_version, COUNT(*) AS n, SUM(destroyed_at IS NOT NULL) AS destroyed
       FROM ks_data_key GROUP BY data_class, kek_version`,
    )) as { data_class: string; kek_version: number; n: string; destroyed: string }[];
    return rows.map((row) => {
      const ring = this.ringFrom(row);
      const byVersion: Record<string, number> = {};
      let destroyed = 0;
      for (const c of counts.filter((c) => c.data_class === ring.dataClass)) {
        const live = Number(c.n) - Number(c.destroyed);
        destroyed += Number(c.destroyed);
        if (live > 0) byVersion[String(c.kek_version)] = live;
      }
      return {
        dataClass: ring.dataClass,
        kekId: kekIdOf(ring.dataClass),
        latestVersion: ring.latestVersion,
        minDecryptionVersion: ring.minDecryptionVersion,
        autoRotatePeriodSeconds: ring.autoRotateSeconds,
        deletionAllowed: ring.deletionAllowed,
        rotatedAt: ring.rotatedAt.toISOString(),
        dataKeys: { byVersion, destroyed },
      };
    });
  }

  /** Adds a KEK version inside `tx` (the keyring row is locked); new data keys use it from now on. */
  private async rotateIn(
    tx: EntityManager,
    dataClass: DataClass,
    actor: string,
  ): Promise<{ version: number }> {
    const root = await this.root();
    const ring = await this.keyring(dataClass, true, tx);
    const version = ring.latestVersion + 1;
    const kek = newSm4Key();
    const now = new Date();
    await tx.query(
      'INSERT INTO ks_kek_version (data_class, version, wrapped_kek, created_at, created_by) VALUES (?, ?, ?, ?, ?)',
      [dataClass, version, wrapKek(root, dataClass, version, kek), now, actor],
    );
    kek.fill(0);
    await tx.query('UPDATE ks_keyring SET latest_version = ?, rotated_at = ? WHERE data_class = ?', [
      version,
      now,
      dataClass,
    ]);
    this.rings.delete(dataClass);
    return { version };
  }

  /** Rotates every keyring whose automatic rotation period has passed (policy approved under dual control). */
  async autoRotate(now = new Date()): Promise<{ dataClass: DataClass; version: number }[]> {
    if (this.seal.sealed || !(await this.loadConfig())) return [];
    const rotated: { dataClass: DataClass; version: number }[] = [];
    for (const dataClass of DATA_CLASSES) {
      const ring = await this.keyring(dataClass, true);
      if (!this.rotationDue(ring, now)) continue;
      await this.db.transaction(async (tx) => {
        const locked = await this.keyring(dataClass, true, tx);
        if (!this.rotationDue(locked, now)) return; // another replica did it
        const { version } = await this.rotateIn(tx, dataClass, 'system');
        await this.audit(
          {
            actor: 'system',
            action: 'keyring.auto_rotate',
            outcome: 'ok',
            target: kekIdOf(dataClass),
            detail: { version, periodSeconds: locked.autoRotateSeconds },
          },
          tx,
        );
        rotated.push({ dataClass, version });
      });
    }
    return rotated;
  }

  private rotationDue(ring: Keyring, now: Date): boolean {
    return (
      ring.autoRotateSeconds > 0 && ring.rotatedAt.getTime() + ring.autoRotateSeconds * 1000 <= now.getTime()
    );
  }

  // -------------------------------------------------------------------------------------------
  // Data keys

  private checkClass(principal: Principal, dataClass: DataClass): void {
    if (principal.classes.length > 0 && !principal.classes.includes(dataClass)) {
      throw new AppError(403, 'class_not_allowed', `service ${principal.name} may not use ${dataClass} keys`);
    }
  }

  /** The calendar day (YYYY-MM-DD) of `at` in the configured time zone, and when it ends. */
  dayOf(at = new Date()): { day: string; endsAt: Date } {
    const offsetMs = this.settings.dayOffsetMinutes * 60000;
    const day = new Date(at.getTime() + offsetMs).toISOString().slice(0, 10);
    return { day, endsAt: new Date(Date.parse(`${day}T00:00:00Z`) + 86400000 - offsetMs) };
  }

  /**
   * Today's data key of a class (created by the first caller of the day): plaintext, and a handle
   * that sealed objects carry instead of a wrapped copy.
   */
  async dailyKey(principal: Principal, dataClass: DataClass): Promise<IssuedDataKey> {
    return this.audited(principal, 'datakey.daily', kekIdOf(dataClass), async () => {
      this.checkClass(principal, dataClass);
      await this.root();
      const { day, endsAt } = this.dayOf();
      let row = await this.dailyRow(dataClass, day);
      if (!row) {
        await this.createDailyKeys(dataClass, [day], actorOf(principal));
        row = await this.dailyRow(dataClass, day);
        if (!row) throw new Error(`daily key ${dataClass}/${day} missing after insert`);
      }
      if (!row.wrapped_key || row.destroyed_at) {
        throw new AppError(410, 'key_destroyed', `the data key of ${dataClass}/${day} was destroyed`);
      }
      const plaintext = unwrapDataKey(await this.kek(dataClass, Number(row.kek_version)), row.wrapped_key);
      return {
        plaintext,
        kekId: kekIdOf(dataClass),
        kekVersion: Number(row.kek_version),
        wrapped: encodeHandle(row.id),
        useUntil: endsAt,
      };
    });
  }

  private async dailyRow(dataClass: DataClass, day: string): Promise<DataKeyRow | undefined> {
    const [row] = (await this.db.query(
      'SELECT id, data_class, kek_version, wrapped_key, destroyed_at FROM ks_data_key WHERE data_class = ? AND day = ?',
      [dataClass, day],
    )) as DataKeyRow[];
    return row;
  }

  /**
   * Creates the daily keys of `days` that do not exist yet, under the newest KEK version; returns
   * how many were created. Also used to load history (benchmarks, tests, imports).
   */
  async createDailyKeys(dataClass: DataClass, days: string[], actor: string): Promise<number> {
    const ring = await this.keyring(dataClass, true);
    // a copy: sealing meanwhile overwrites the cached KEKs, and this loop awaits between chunks
    const kek = Buffer.from(await this.kek(dataClass, ring.latestVersion));
    let created = 0;
    const now = new Date();
    for (let start = 0; start < days.length; start += 1000) {
      const chunk = days.slice(start, start + 1000);
      const values: unknown[] = [];
      for (const day of chunk) {
        const dataKey = newSm4Key();
        values.push(newDataKeyId(), dataClass, day, ring.latestVersion, wrapDataKey(kek, dataKey), now);
        dataKey.fill(0);
      }
      await this.db.transaction(async (tx) => {
        const result = (await tx.query(
          `INSERT IGNORE INTO ks_data_key (id, data_class, day, kek_version, wrapped_key, created_at) VALUES ${chunk
            .map(() => '(?, ?, ?, ?, ?, ?)')
            .join(', ')}`,
          values,
        )) as { affectedRows?: number };
        const inserted = result.affectedRows ?? 0;
        created += inserted;
        if (inserted > 0) {
          await this.audit(
            {
              actor,
              action: 'datakey.daily.create',
              outcome: 'ok',
              target: kekIdOf(dataClass),
              detail: {
                days: chunk.length === 1 ? chunk[0] : `${chunk[0]}..${chunk[chunk.length - 1]}`,
                created: inserted,
                kekVersion: ring.latestVersion,
              },
            },
            tx,
          );
        }
      });
    }
    kek.fill(0);
    return created;
  }

  /**
   * The blind-index key of a purpose: created (random, 32 bytes) by the first caller, wrapped
   * under the `index` keyring, the same for every later caller. Needs the `index` class.
   */
  async indexKey(principal: Principal, purpose: string): Promise<Buffer> {
    return this.audited(principal, 'indexkey.get', `index-key:${purpose}`, async () => {
      this.checkClass(principal, 'index');
      await this.root();
      const select = async () =>
        (
          (await this.db.query('SELECT kek_version, wrapped_key FROM ks_index_key WHERE purpose = ?', [
            purpose,
          ])) as {
            kek_version: number;
            wrapped_key: Buffer;
          }[]
        )[0];
      let row = await select();
      if (!row) {
        const ring = await this.keyring('index', true);
        const key = randomBytes(INDEX_KEY_BYTES);
        const wrapped = wrapIndexKey(await this.kek('index', ring.latestVersion), key);
        key.fill(0);
        await this.db.transaction(async (tx) => {
          const result = (await tx.query(
            'INSERT IGNORE INTO ks_index_key (purpose, kek_version, wrapped_key, created_at) VALUES (?, ?, ?, ?)',
            [purpose, ring.latestVersion, wrapped, new Date()],
          )) as { affectedRows?: number };
          if (result.affectedRows) {
            await this.audit(
              {
                actor: actorOf(principal),
                action: 'indexkey.create',
                outcome: 'ok',
                target: `index-key:${purpose}`,
                detail: { kekVersion: ring.latestVersion },
              },
              tx,
            );
          }
        });
        row = await select();
        if (!row) throw new Error(`index key ${purpose} missing after insert`);
      }
      try {
        return unwrapIndexKey(await this.kek('index', Number(row.kek_version)), row.wrapped_key);
      } catch (err) {
        if (err instanceof CryptoError) {
          throw new AppError(500, 'key_integrity', `stored index key ${purpose} fails its integrity check`);
        }
        throw err;
      }
    });
  }

  /** A fresh per-object data key wrapped under the newest KEK version (Vault transit `datakey`). */
  async generateDataKey(principal: Principal, dataClass: DataClass): Promise<IssuedDataKey> {
    return this.audited(principal, 'datakey.generate', kekIdOf(dataClass), async () => {
      this.checkClass(principal, dataClass);
      const ring = await this.keyring(dataClass);
      const kek = await this.kek(dataClass, ring.latestVersion);
      const plaintext = newSm4Key();
      return {
        plaintext,
        kekId: kekIdOf(dataClass),
        kekVersion: ring.latestVersion,
        wrapped: wrapDataKey(kek, plaintext),
      };
    });
  }

  /**
   * Unwraps a data key: a daily-key handle (looked up, whatever KEK version it is wrapped under
   * now) or a wrapped blob (its KEK version must exist and be ≥ min_decryption_version).
   */
  async unwrap(principal: Principal, input: WrappedInput): Promise<Buffer> {
    const dataClass = classOfKekId(input.kekId);
    const target = `${input.kekId}#${input.kekVersion}`;
    return this.audited(principal, 'datakey.unwrap', target, async () => {
      if (!dataClass)
        throw new AppError(400, 'unknown_key_version', `no keyring ${input.kekId} in this key service`);
      this.checkClass(principal, dataClass);
      await this.root();
      const ring = await this.checkedVersion(dataClass, input.kekVersion);
      return this.unwrapChecked(dataClass, ring, input);
    });
  }

  private async checkedVersion(dataClass: DataClass, version: number): Promise<Keyring> {
    let ring = await this.keyring(dataClass);
    if (version > ring.latestVersion) ring = await this.keyring(dataClass, true);
    if (!Number.isInteger(version) || version < 1 || version > ring.latestVersion) {
      throw new AppError(400, 'unknown_key_version', `KEK ${kekIdOf(dataClass)} has no version ${version}`);
    }
    return ring;
  }

  private async unwrapChecked(dataClass: DataClass, ring: Keyring, input: WrappedInput): Promise<Buffer> {
    const id = decodeHandle(input.wrapped);
    if (id) {
      const [row] = (await this.db.query(
        'SELECT id, data_class, kek_version, wrapped_key, destroyed_at FROM ks_data_key WHERE id = ?',
        [id],
      )) as DataKeyRow[];
      if (!row || row.data_class !== dataClass) {
        throw new AppError(
          400,
          'unwrap_failed',
          'no such data key: the wrapped key was altered or comes from another key service',
        );
      }
      if (!row.wrapped_key || row.destroyed_at) {
        throw new AppError(410, 'key_destroyed', 'this data key was destroyed (crypto-shredded)');
      }
      if (Number(row.kek_version) < ring.minDecryptionVersion) {
        throw new AppError(
          400,
          'key_version_retired',
          `the data key is still wrapped under a retired KEK version`,
        );
      }
      return this.unwrapOrRefuse(await this.kek(dataClass, Number(row.kek_version)), row.wrapped_key);
    }
    if (input.kekVersion < ring.minDecryptionVersion) {
      throw new AppError(
        400,
        'key_version_retired',
        `KEK ${kekIdOf(dataClass)} version ${input.kekVersion} is below min_decryption_version ${ring.minDecryptionVersion}`,
      );
    }
    return this.unwrapOrRefuse(await this.kek(dataClass, input.kekVersion), input.wrapped);
  }

  private unwrapOrRefuse(kek: Buffer, wrapped: Buffer): Buffer {
    try {
      return unwrapDataKey(kek, wrapped);
    } catch (err) {
      if (err instanceof CryptoError) {
        throw new AppError(
          400,
          'unwrap_failed',
          'the wrapped data key fails its integrity check (altered, or another KEK)',
        );
      }
      throw err;
    }
  }

  /**
   * Vault transit `rewrap` for callers that store wrapped blobs themselves: each blob comes back
   * wrapped under the newest version, the data key never leaves the service. Handles of daily
   * keys come back unchanged (the rewrap job keeps those current).
   */
  async rewrapBlobs(principal: Principal, items: WrappedInput[]): Promise<WrappedInput[]> {
    return this.audited(principal, 'datakey.rewrap', `${items.length} keys`, async () => {
      await this.root();
      const out: WrappedInput[] = [];
      for (const item of items) {
        const dataClass = classOfKekId(item.kekId);
        if (!dataClass)
          throw new AppError(400, 'unknown_key_version', `no keyring ${item.kekId} in this key service`);
        this.checkClass(principal, dataClass);
        const ring = await this.checkedVersion(dataClass, item.kekVersion);
        if (decodeHandle(item.wrapped)) {
          out.push(item);
          continue;
        }
        const dataKey = await this.unwrapChecked(dataClass, ring, item);
        const latest = await this.keyring(dataClass, true);
        out.push({
          kekId: item.kekId,
          kekVersion: latest.latestVersion,
          wrapped: wrapDataKey(await this.kek(dataClass, latest.latestVersion), dataKey),
        });
        dataKey.fill(0);
      }
      return out;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Dual control

  private requestView(row: RequestRow): KeyRequestView {
    return {
      id: row.id,
      kind: row.kind,
      dataClass: row.data_class,
      params: parseJson<Record<string, unknown>>(row.params),
      reason: row.reason,
      status: row.status,
      requestedBy: row.requested_by,
      requestedAt: iso(row.requested_at),
      expiresAt: iso(row.expires_at),
      decidedBy: row.decided_by,
      decidedAt: row.decided_at ? iso(row.decided_at) : null,
      result: row.result === null ? null : parseJson<Record<string, unknown>>(row.result),
    };
  }

  private requestParams(body: CreateKeyRequest): Record<string, unknown> {
    const need = <T>(value: T | undefined, name: string): T => {
      if (value === undefined) throw new AppError(400, 'invalid_request', `${body.kind} needs ${name}`);
      return value;
    };
    switch (body.kind) {
      case 'rotate':
        return {};
      case 'set_min_decryption_version':
        return { version: need(body.version, 'version') };
      case 'set_auto_rotate_period':
        return { periodSeconds: need(body.periodSeconds, 'periodSeconds') };
      case 'set_deletion_allowed':
        return { allowed: need(body.allowed, 'allowed') };
      case 'destroy_data_keys': {
        const before = need(body.before, 'before');
        if (Number.isNaN(Date.parse(`${before}T00:00:00Z`)))
          throw new AppError(400, 'invalid_request', 'before is not a date');
        if (before > this.dayOf().day) {
          throw new AppError(400, 'invalid_request', "before may not lie after today: today's key is in use");
        }
        return { before };
      }
    }
  }

  /** Checks that would make the approval fail, run both when requesting and when approving. */
  private async checkExecutable(
    kind: CreateKeyRequest['kind'],
    dataClass: DataClass,
    params: Record<string, unknown>,
    tx?: EntityManager,
  ): Promise<void> {
    const ring = await this.keyring(dataClass, true, tx);
    if (kind === 'set_min_decryption_version') {
      const version = Number(params.version);
      if (version > ring.latestVersion) {
        throw new AppError(
          400,
          'invalid_version',
          `version ${version} does not exist (latest is ${ring.latestVersion})`,
        );
      }
    }
    if (kind === 'destroy_data_keys' && !ring.deletionAllowed) {
      throw new AppError(
        409,
        'deletion_not_allowed',
        `deletion is not allowed on keyring ${dataClass}; it must first be allowed (set_deletion_allowed, dual control)`,
      );
    }
  }

  async createRequest(officer: Principal, body: CreateKeyRequest): Promise<KeyRequestView> {
    return this.audited(officer, `request.create.${body.kind}`, kekIdOf(body.dataClass), async () => {
      const params = this.requestParams(body);
      await this.checkExecutable(body.kind, body.dataClass, params);
      const id = randomBytes(16).toString('hex');
      const now = new Date();
      await this.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO ks_request (id, kind, data_class, params, reason, status, requested_by, requested_at, expires_at)
           VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
          [
            id,
            body.kind,
            body.dataClass,
            JSON.stringify(params),
            body.reason,
            officer.name,
            now,
            new Date(now.getTime() + this.settings.requestTtlMs),
          ],
        );
        await this.audit(
          {
            actor: actorOf(officer),
            action: `request.create.${body.kind}`,
            outcome: 'ok',
            target: `request:${id}`,
            detail: { dataClass: body.dataClass, params, reason: body.reason },
          },
          tx,
        );
      });
      return this.getRequest(id);
    });
  }

  async getRequest(id: string): Promise<KeyRequestView> {
    const [row] = (await this.db.query('SELECT * FROM ks_request WHERE id = ?', [id])) as RequestRow[];
    if (!row) throw new AppError(404, 'request_not_found', `no request ${id}`);
    return this.requestView(row);
  }

  async listRequests(status?: KeyRequestStatus): Promise<KeyRequestView[]> {
    const rows = (await this.db.query(
      `SELECT * FROM ks_request ${status ? 'WHERE status = ?' : ''} ORDER BY requested_at DESC LIMIT 200`,
      status ? [status] : [],
    )) as RequestRow[];
    return rows.map((row) => this.requestView(row));
  }

  /**
   * The second officer's approval executes the request in the same transaction. Refused, with
   * nothing changed and the attempt audited: unknown id, a request no longer pending (a replayed
   * approval), an expired one, approval by the officer who requested it, a failed precondition.
   */
  async approve(officer: Principal, id: string): Promise<KeyRequestView> {
    return this.audited(officer, 'request.approve', `request:${id}`, async () => {
      await this.db.transaction(async (tx) => {
        const [row] = (await tx.query('SELECT * FROM ks_request WHERE id = ? FOR UPDATE', [
          id,
        ])) as RequestRow[];
        if (!row) throw new AppError(404, 'request_not_found', `no request ${id}`);
        if (row.status !== 'pending') {
          throw new AppError(
            409,
            'request_not_pending',
            `request ${id} is already ${row.status}; an approval counts once`,
          );
        }
        if (new Date(row.expires_at).getTime() < Date.now()) {
          throw new AppError(
            410,
            'request_expired',
            `request ${id} expired at ${iso(row.expires_at)}; request again`,
          );
        }
        if (row.requested_by === officer.name) {
          throw new AppError(
            403,
            'same_officer',
            'dual control: the approver must be a different officer than the requester',
          );
        }
        const params = parseJson<Record<string, unknown>>(row.params);
        const result = await this.execute(tx, row.kind, row.data_class, params, actorOf(officer));
        await tx.query(
          "UPDATE ks_request SET status = 'executed', decided_by = ?, decided_at = ?, result = ? WHERE id = ?",
          [officer.name, new Date(), JSON.stringify(result), id],
        );
        await this.audit(
          {
            actor: actorOf(officer),
            action: `request.approve.${row.kind}`,
            outcome: 'ok',
            target: `request:${id}`,
            detail: { dataClass: row.data_class, params, requestedBy: row.requested_by, result },
          },
          tx,
        );
      });
      this.rings.clear();
      return this.getRequest(id);
    });
  }

  async reject(officer: Principal, id: string): Promise<KeyRequestView> {
    return this.audited(officer, 'request.reject', `request:${id}`, async () => {
      await this.db.transaction(async (tx) => {
        const [row] = (await tx.query('SELECT * FROM ks_request WHERE id = ? FOR UPDATE', [
          id,
        ])) as RequestRow[];
        if (!row) throw new AppError(404, 'request_not_found', `no request ${id}`);
        if (row.status !== 'pending')
          throw new AppError(409, 'request_not_pending', `request ${id} is already ${row.status}`);
        await tx.query(
          "UPDATE ks_request SET status = 'rejected', decided_by = ?, decided_at = ? WHERE id = ?",
          [officer.name, new Date(), id],
        );
        await this.audit(
          {
            actor: actorOf(officer),
            action: 'request.reject',
            outcome: 'ok',
            target: `request:${id}`,
            detail: { kind: row.kind },
          },
          tx,
        );
      });
      return this.getRequest(id);
    });
  }

  private async execute(
    tx: EntityManager,
    kind: CreateKeyRequest['kind'],
    dataClass: DataClass,
    params: Record<string, unknown>,
    actor: string,
  ): Promise<Record<string, unknown>> {
    await this.checkExecutable(kind, dataClass, params, tx);
    switch (kind) {
      case 'rotate':
        return this.rotateIn(tx, dataClass, actor);
      case 'set_min_decryption_version': {
        const version = Number(params.version);
        const [pending] = (await tx.query(
          'SELECT COUNT(*) AS n FROM ks_data_key WHERE data_class = ? AND kek_version < ? AND destroyed_at IS NULL',
          [dataClass, version],
        )) as { n: string }[];
        if (dataClass === 'index') {
          const [indexPending] = (await tx.query(
            'SELECT COUNT(*) AS n FROM ks_index_key WHERE kek_version < ?',
            [version],
          )) as { n: string }[];
          if (pending) pending.n = String(Number(pending.n) + Number(indexPending?.n ?? 0));
        }
        if (Number(pending?.n ?? 0) > 0) {
          throw new AppError(
            409,
            'rewrap_required',
            `${pending!.n} stored data keys of ${dataClass} are still wrapped under versions below ${version}: run rewrap first`,
          );
        }
        await tx.query('UPDATE ks_keyring SET min_decryption_version = ? WHERE data_class = ?', [
          version,
          dataClass,
        ]);
        for (const [label, kek] of this.keks) {
          const [cls, v] = label.split('#');
          if (cls === dataClass && Number(v) < version) {
            kek.fill(0);
            this.keks.delete(label);
          }
        }
        return { minDecryptionVersion: version };
      }
      case 'set_auto_rotate_period':
        await tx.query('UPDATE ks_keyring SET auto_rotate_seconds = ? WHERE data_class = ?', [
          Number(params.periodSeconds),
          dataClass,
        ]);
        return { autoRotatePeriodSeconds: Number(params.periodSeconds) };
      case 'set_deletion_allowed':
        await tx.query('UPDATE ks_keyring SET deletion_allowed = ? WHERE data_class = ?', [
          params.allowed ? 1 : 0,
          dataClass,
        ]);
        return { deletionAllowed: Boolean(params.allowed) };
      case 'destroy_data_keys': {
        const result = (await tx.query(
          'UPDATE ks_data_key SET wrapped_key = NULL, destroyed_at = ? WHERE data_class = ? AND day < ? AND destroyed_at IS NULL',
          [new Date(), dataClass, params.before],
        )) as { affectedRows?: number };
        return { destroyed: result.affectedRows ?? 0, before: params.before };
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Rewrap job

  private rewrapView(row: RewrapRow): RewrapJobView {
    const stale =
      row.status === 'running' && Date.now() - new Date(row.heartbeat_at).getTime() > REWRAP_STALE_MS;
    return {
      id: row.id,
      dataClass: row.data_class,
      status: stale ? 'interrupted' : row.status,
      total: Number(row.total),
      done: Number(row.done),
      failed: Number(row.failed),
      requestedBy: row.requested_by,
      startedAt: iso(row.started_at),
      finishedAt: row.finished_at ? iso(row.finished_at) : null,
      error: row.error,
    };
  }

  async getRewrapJob(id: string): Promise<RewrapJobView> {
    const [row] = (await this.db.query('SELECT * FROM ks_rewrap_job WHERE id = ?', [id])) as RewrapRow[];
    if (!row) throw new AppError(404, 'job_not_found', `no rewrap job ${id}`);
    return this.rewrapView(row);
  }

  /**
   * Starts re-wrapping every stored data key (of one class, or all) that is not under its
   * keyring's newest KEK version. Runs in the background in this process; reads go on meanwhile
   * (a key is readable under its old version until the row is updated, and under the new one
   * after). Progress in ks_rewrap_job. Idempotent: an interrupted job is simply started again.
   */
  async startRewrap(officer: Principal, dataClass?: DataClass): Promise<RewrapJobView> {
    return this.audited(
      officer,
      'rewrap.start',
      dataClass ? kekIdOf(dataClass) : 'all keyrings',
      async () => {
        await this.root();
        const running = (await this.db.query(
          "SELECT id FROM ks_rewrap_job WHERE status = 'running' AND heartbeat_at > ?",
          [new Date(Date.now() - REWRAP_STALE_MS)],
        )) as { id: string }[];
        if (running.length > 0)
          throw new AppError(409, 'rewrap_running', `rewrap job ${running[0]!.id} is still running`);
        const classes = dataClass ? [dataClass] : DATA_CLASSES;
        const targets = new Map<DataClass, number>();
        let total = 0;
        for (const cls of classes) {
          const ring = await this.keyring(cls, true);
          targets.set(cls, ring.latestVersion);
          const [count] = (await this.db.query(
            'SELECT COUNT(*) AS n FROM ks_data_key WHERE data_class = ? AND kek_version < ? AND destroyed_at IS NULL',
            [cls, ring.latestVersion],
          )) as { n: string }[];
          total += Number(count?.n ?? 0);
          if (cls === 'index') {
            const [indexCount] = (await this.db.query(
              'SELECT COUNT(*) AS n FROM ks_index_key WHERE kek_version < ?',
              [ring.latestVersion],
            )) as { n: string }[];
            total += Number(indexCount?.n ?? 0);
          }
        }
        const id = randomBytes(16).toString('hex');
        const now = new Date();
        await this.db.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO ks_rewrap_job (id, data_class, status, total, done, failed, requested_by, started_at, heartbeat_at)
           VALUES (?, ?, 'running', ?, 0, 0, ?, ?, ?)`,
            [id, dataClass ?? null, total, actorOf(officer), now, now],
          );
          await this.audit(
            {
              actor: actorOf(officer),
              action: 'rewrap.start',
              outcome: 'ok',
              target: `rewrap:${id}`,
              detail: { classes, total, targetVersions: Object.fromEntries(targets) },
            },
            tx,
          );
        });
        const run = this.runRewrap(id, targets).finally(() => this.rewrapRuns.delete(run));
        this.rewrapRuns.add(run);
        return this.getRewrapJob(id);
      },
    );
  }

  private async runRewrap(id: string, targets: Map<DataClass, number>): Promise<void> {
    let done = 0;
    let failed = 0;
    try {
      for (const [dataClass, target] of targets) {
        // a copy: sealing meanwhile overwrites the cached KEKs, and the job awaits between chunks
        const newKek = Buffer.from(await this.kek(dataClass, target));
        if (dataClass === 'index') {
          const rewrapped = await this.rewrapIndexKeys(target, newKek);
          done += rewrapped.done;
          failed += rewrapped.failed;
        }
        let after: Buffer = Buffer.alloc(16);
        for (;;) {
          if (this.closing) throw new Error('the key service is shutting down');
          const rows = (await this.db.query(
            `SELECT id, kek_version, wrapped_key FROM ks_data_key
             WHERE data_class = ? AND kek_version < ? AND destroyed_at IS NULL AND id > ? ORDER BY id LIMIT ${REWRAP_CHUNK}`,
            [dataClass, target, after],
          )) as { id: Buffer; kek_version: number; wrapped_key: Buffer }[];
          if (rows.length === 0) break;
          after = rows[rows.length - 1]!.id;
          const updates: { id: Buffer; wrapped: Buffer }[] = [];
          for (const row of rows) {
            try {
              const dataKey = unwrapDataKey(
                await this.kek(dataClass, Number(row.kek_version)),
                row.wrapped_key,
              );
              updates.push({ id: row.id, wrapped: wrapDataKey(newKek, dataKey) });
              dataKey.fill(0);
            } catch (err) {
              if (!(err instanceof CryptoError)) throw err;
              failed++; // a stored key that fails its integrity check stays as it is, and is reported
            }
          }
          if (this.seal.sealed) throw new Error('the key service was sealed during the rewrap');
          if (updates.length > 0) {
            // one statement per chunk; `kek_version < target` keeps a concurrent newer rewrap's result,
            // `destroyed_at IS NULL` never brings back a key shredded in the meantime
            await this.db.query(
              `UPDATE ks_data_key SET wrapped_key = CASE id ${updates.map(() => 'WHEN ? THEN ?').join(' ')} END,
               kek_version = ?, rewrapped_at = ? WHERE id IN (${updates.map(() => '?').join(', ')})
               AND kek_version < ? AND destroyed_at IS NULL`,
              [
                ...updates.flatMap((u) => [u.id, u.wrapped]),
                target,
                new Date(),
                ...updates.map((u) => u.id),
                target,
              ],
            );
          }
          done += rows.length;
          await this.db.query(
            'UPDATE ks_rewrap_job SET done = ?, failed = ?, heartbeat_at = ? WHERE id = ?',
            [done, failed, new Date(), id],
          );
        }
        newKek.fill(0);
      }
      await this.db.transaction(async (tx) => {
        await tx.query(
          "UPDATE ks_rewrap_job SET status = 'done', done = ?, failed = ?, finished_at = ? WHERE id = ?",
          [done, failed, new Date(), id],
        );
        await this.audit(
          {
            actor: 'system',
            action: 'rewrap.finish',
            outcome: failed ? 'failed' : 'ok',
            target: `rewrap:${id}`,
            detail: { done, failed },
          },
          tx,
        );
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.db
        .transaction(async (tx) => {
          await tx.query(
            "UPDATE ks_rewrap_job SET status = 'failed', done = ?, failed = ?, finished_at = ?, error = ? WHERE id = ?",
            [done, failed, new Date(), message.slice(0, 500), id],
          );
          await this.audit(
            {
              actor: 'system',
              action: 'rewrap.finish',
              outcome: 'failed',
              code: 'rewrap_failed',
              target: `rewrap:${id}`,
              detail: { done, failed, error: message },
            },
            tx,
          );
        })
        .catch(() => undefined);
    }
  }

  /** Index keys are few (one per purpose): one by one, each row guarded by its old version. */
  private async rewrapIndexKeys(target: number, newKek: Buffer): Promise<{ done: number; failed: number }> {
    const rows = (await this.db.query(
      'SELECT purpose, kek_version, wrapped_key FROM ks_index_key WHERE kek_version < ?',
      [target],
    )) as { purpose: string; kek_version: number; wrapped_key: Buffer }[];
    let failed = 0;
    for (const row of rows) {
      try {
        const key = unwrapIndexKey(await this.kek('index', Number(row.kek_version)), row.wrapped_key);
        await this.db.query(
          'UPDATE ks_index_key SET wrapped_key = ?, kek_version = ?, rewrapped_at = ? WHERE purpose = ? AND kek_version = ?',
          [wrapIndexKey(newKek, key), target, new Date(), row.purpose, row.kek_version],
        );
        key.fill(0);
      } catch (err) {
        if (!(err instanceof CryptoError)) throw err;
        failed++;
      }
    }
    return { done: rows.length, failed };
  }

  // -------------------------------------------------------------------------------------------

  async verifyAudit(officer: Principal): Promise<ChainVerification> {
    const result = await verifyKeyAuditChain(this.db);
    await this.audit({
      actor: actorOf(officer),
      action: 'audit.verify',
      outcome: result.intact ? 'ok' : 'failed',
      code: result.intact ? '' : 'chain_broken',
      target: 'ks_audit_event',
      detail: { events: result.events, firstBroken: result.firstBroken },
    });
    return result;
  }

  /** Stops background work and forgets every key held in memory. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.rewrapRuns]);
    this.seal.seal();
    this.forgetKeks();
  }
}
