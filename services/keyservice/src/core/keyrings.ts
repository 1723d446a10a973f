import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from '@cz/common';
import { CryptoError, DATA_CLASS_CODES, type DataClass } from '@cz/common/crypto';
import type { KeyringView } from '@cz/contracts';
import type { AuditTrail } from './audit-trail';
import { kekIdOf, newSm4Key, unwrapKek, wrapKek } from './material';

export const DATA_CLASSES = Object.keys(DATA_CLASS_CODES) as DataClass[];

export interface Keyring {
  dataClass: DataClass;
  latestVersion: number;
  minDecryptionVersion: number;
  autoRotateSeconds: number;
  deletionAllowed: boolean;
  rotatedAt: Date;
}

/** Where KEKs get the root key from (the seal). */
export interface RootKeySource {
  /** the root key, or 503 `sealed` / `not_initialized` */
  rootKey(): Promise<Buffer>;
  /** initialised and unsealed */
  usable(): Promise<boolean>;
}

interface KeyringRow {
  data_class: DataClass;
  latest_version: number;
  min_decryption_version: number;
  auto_rotate_seconds: number;
  deletion_allowed: number;
  rotated_at: Date;
}

const RING_CACHE_MS = 2000;

const ringFrom = (row: KeyringRow): Keyring => ({
  dataClass: row.data_class,
  latestVersion: Number(row.latest_version),
  minDecryptionVersion: Number(row.min_decryption_version),
  autoRotateSeconds: Number(row.auto_rotate_seconds),
  deletionAllowed: Boolean(row.deletion_allowed),
  rotatedAt: new Date(row.rotated_at),
});

const rotationDue = (ring: Keyring, now: Date): boolean =>
  ring.autoRotateSeconds > 0 && ring.rotatedAt.getTime() + ring.autoRotateSeconds * 1000 <= now.getTime();

/** Version 1 of every keyring, inside the init transaction. */
export async function createFirstKeyrings(tx: EntityManager, root: Buffer, now: Date): Promise<void> {
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
}

/**
 * One keyring per data class (ks_keyring) and its versioned KEKs (ks_kek_version, wrapped under
 * the root key): keyring state cached for two seconds, unwrapped KEKs kept in memory until the
 * service seals, rotation (by dual control or by the automatic rotation policy).
 */
export class Keyrings {
  private readonly keks = new Map<string, Buffer>();
  private readonly rings = new Map<DataClass, { ring: Keyring; at: number }>();

  constructor(
    private readonly db: DataSource,
    private readonly root: RootKeySource,
    private readonly audit: AuditTrail,
  ) {}

  /** Keyring state, cached for two seconds (other replicas' changes show within that). */
  async keyring(dataClass: DataClass, fresh = false, tx?: EntityManager): Promise<Keyring> {
    const cached = this.rings.get(dataClass);
    if (!fresh && !tx && cached && Date.now() - cached.at < RING_CACHE_MS) return cached.ring;
    const [row] = await (tx ?? this.db).query<KeyringRow[]>(
      `SELECT data_class, latest_version, min_decryption_version, auto_rotate_seconds, deletion_allowed, rotated_at
       FROM ks_keyring WHERE data_class = ?${tx ? ' FOR UPDATE' : ''}`,
      [dataClass],
    );
    if (!row)
      throw new AppError(
        503,
        'not_initialized',
        `keyring ${dataClass} missing: the key service is not initialised`,
      );
    const ring = ringFrom(row);
    if (!tx) this.rings.set(dataClass, { ring, at: Date.now() });
    return ring;
  }

  /** A KEK version in plaintext (cached; callers that keep it across awaits take a copy). */
  async kek(dataClass: DataClass, version: number): Promise<Buffer> {
    const label = `${dataClass}#${version}`;
    const cached = this.keks.get(label);
    if (cached) return cached;
    const root = await this.root.rootKey();
    const [row] = await this.db.query<{ wrapped_kek: Buffer }[]>(
      'SELECT wrapped_kek FROM ks_kek_version WHERE data_class = ? AND version = ?',
      [dataClass, version],
    );
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

  /** Every keyring with its live data keys per KEK version, for officers. */
  async list(): Promise<KeyringView[]> {
    const rows = await this.db.query<KeyringRow[]>(
      'SELECT data_class, latest_version, min_decryption_version, auto_rotate_seconds, deletion_allowed, rotated_at FROM ks_keyring ORDER BY data_class',
    );
    const counts = await this.db.query<
      { data_class: string; kek_version: number; n: string; destroyed: string }[]
    >(
      // a daily key counts under the class KEK version it depends on: its period KEK's, or its own
      // for keys stored before period KEKs
      `SELECT d.data_class, IF(d.period IS NULL, d.kek_version, p.kek_version) AS kek_version,
         COUNT(*) AS n, SUM(d.destroyed_at IS NOT NULL) AS destroyed
       FROM ks_data_key d LEFT JOIN ks_period_kek p ON p.data_class = d.data_class AND p.period = d.period
       GROUP BY d.data_class, IF(d.period IS NULL, d.kek_version, p.kek_version)`,
    );
    return rows.map((row) => {
      const ring = ringFrom(row);
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
  async rotateIn(tx: EntityManager, dataClass: DataClass, actor: string): Promise<{ version: number }> {
    const root = await this.root.rootKey();
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
    if (!(await this.root.usable())) return [];
    const rotated: { dataClass: DataClass; version: number }[] = [];
    for (const dataClass of DATA_CLASSES) {
      const ring = await this.keyring(dataClass, true);
      if (!rotationDue(ring, now)) continue;
      await this.db.transaction(async (tx) => {
        const locked = await this.keyring(dataClass, true, tx);
        if (!rotationDue(locked, now)) return; // another replica did it
        const { version } = await this.rotateIn(tx, dataClass, 'system');
        await this.audit.record(
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

  /** Overwrites the cached KEKs of `dataClass` below `version` (after min_decryption_version rose). */
  forgetVersionsBelow(dataClass: DataClass, version: number): void {
    for (const [label, kek] of this.keks) {
      const [cls, v] = label.split('#');
      if (cls === dataClass && Number(v) < version) {
        kek.fill(0);
        this.keks.delete(label);
      }
    }
  }

  /** Drops the cached keyring state (after a change by dual control). */
  forgetRings(): void {
    this.rings.clear();
  }

  /** Overwrites every unwrapped KEK and drops the cached keyring state (the service sealed). */
  forget(): void {
    for (const kek of this.keks.values()) kek.fill(0);
    this.keks.clear();
    this.rings.clear();
  }
}
