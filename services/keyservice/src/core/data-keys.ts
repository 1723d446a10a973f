import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from '@cz/common';
import { CryptoError, type DataClass } from '@cz/common/crypto';
import type { AuditTrail } from './audit-trail';
import type { Keyring, Keyrings, RootKeySource } from './keyrings';
import {
  classOfKekId,
  decodeHandle,
  encodeHandle,
  kekIdOf,
  newDataKeyId,
  newSm4Key,
  unwrapDataKey,
  unwrapIndexKey,
  wrapDataKey,
  wrapIndexKey,
  INDEX_KEY_BYTES,
} from './material';
import { actorOf, type Principal } from './principal';

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

interface DataKeyRow {
  id: Buffer;
  data_class: DataClass;
  kek_version: number;
  wrapped_key: Buffer | null;
  destroyed_at: Date | null;
}

/**
 * Data keys for the services: the daily key of each class (ks_data_key, a handle travels with
 * sealed objects), per-object keys wrapped under the newest KEK version, the blind-index keys
 * (ks_index_key), unwrap and rewrap of blobs, and crypto-shredding of old daily keys.
 */
export class DataKeys {
  constructor(
    private readonly db: DataSource,
    private readonly dayOffsetMinutes: number,
    private readonly root: RootKeySource,
    private readonly keyrings: Keyrings,
    private readonly audit: AuditTrail,
  ) {}

  /** The calendar day (YYYY-MM-DD) of `at` in the configured time zone, and when it ends. */
  dayOf(at = new Date()): { day: string; endsAt: Date } {
    const offsetMs = this.dayOffsetMinutes * 60000;
    const day = new Date(at.getTime() + offsetMs).toISOString().slice(0, 10);
    return { day, endsAt: new Date(Date.parse(`${day}T00:00:00Z`) + 86400000 - offsetMs) };
  }

  /**
   * Today's data key of a class (created by the first caller of the day): plaintext, and a handle
   * that sealed objects carry instead of a wrapped copy.
   */
  async dailyKey(principal: Principal, dataClass: DataClass): Promise<IssuedDataKey> {
    return this.audit.audited(principal, 'datakey.daily', kekIdOf(dataClass), async () => {
      checkClass(principal, dataClass);
      await this.root.rootKey();
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
      const plaintext = unwrapDataKey(
        await this.keyrings.kek(dataClass, Number(row.kek_version)),
        row.wrapped_key,
      );
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
    const [row] = await this.db.query<DataKeyRow[]>(
      'SELECT id, data_class, kek_version, wrapped_key, destroyed_at FROM ks_data_key WHERE data_class = ? AND day = ?',
      [dataClass, day],
    );
    return row;
  }

  /**
   * Creates the daily keys of `days` that do not exist yet, under the newest KEK version; returns
   * how many were created. Also used to load history (benchmarks, tests, imports).
   */
  async createDailyKeys(dataClass: DataClass, days: string[], actor: string): Promise<number> {
    const ring = await this.keyrings.keyring(dataClass, true);
    // a copy: sealing meanwhile overwrites the cached KEKs, and this loop awaits between chunks
    const kek = Buffer.from(await this.keyrings.kek(dataClass, ring.latestVersion));
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
        const result = await tx.query<{ affectedRows?: number }>(
          `INSERT IGNORE INTO ks_data_key (id, data_class, day, kek_version, wrapped_key, created_at) VALUES ${chunk
            .map(() => '(?, ?, ?, ?, ?, ?)')
            .join(', ')}`,
          values,
        );
        const inserted = result.affectedRows ?? 0;
        created += inserted;
        if (inserted > 0) {
          await this.audit.record(
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
    return this.audit.audited(principal, 'indexkey.get', `index-key:${purpose}`, async () => {
      checkClass(principal, 'index');
      await this.root.rootKey();
      const select = async () =>
        (
          await this.db.query<
            {
              kek_version: number;
              wrapped_key: Buffer;
            }[]
          >('SELECT kek_version, wrapped_key FROM ks_index_key WHERE purpose = ?', [purpose])
        )[0];
      let row = await select();
      if (!row) {
        const ring = await this.keyrings.keyring('index', true);
        const key = randomBytes(INDEX_KEY_BYTES);
        const wrapped = wrapIndexKey(await this.keyrings.kek('index', ring.latestVersion), key);
        key.fill(0);
        await this.db.transaction(async (tx) => {
          const result = await tx.query<{ affectedRows?: number }>(
            'INSERT IGNORE INTO ks_index_key (purpose, kek_version, wrapped_key, created_at) VALUES (?, ?, ?, ?)',
            [purpose, ring.latestVersion, wrapped, new Date()],
          );
          if (result.affectedRows) {
            await this.audit.record(
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
        return unwrapIndexKey(await this.keyrings.kek('index', Number(row.kek_version)), row.wrapped_key);
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
    return this.audit.audited(principal, 'datakey.generate', kekIdOf(dataClass), async () => {
      checkClass(principal, dataClass);
      const ring = await this.keyrings.keyring(dataClass);
      const kek = await this.keyrings.kek(dataClass, ring.latestVersion);
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
    return this.audit.audited(principal, 'datakey.unwrap', target, async () => {
      if (!dataClass)
        throw new AppError(400, 'unknown_key_version', `no keyring ${input.kekId} in this key service`);
      checkClass(principal, dataClass);
      await this.root.rootKey();
      const ring = await this.checkedVersion(dataClass, input.kekVersion);
      return this.unwrapChecked(dataClass, ring, input);
    });
  }

  private async checkedVersion(dataClass: DataClass, version: number): Promise<Keyring> {
    let ring = await this.keyrings.keyring(dataClass);
    if (version > ring.latestVersion) ring = await this.keyrings.keyring(dataClass, true);
    if (!Number.isInteger(version) || version < 1 || version > ring.latestVersion) {
      throw new AppError(400, 'unknown_key_version', `KEK ${kekIdOf(dataClass)} has no version ${version}`);
    }
    return ring;
  }

  private async unwrapChecked(dataClass: DataClass, ring: Keyring, input: WrappedInput): Promise<Buffer> {
    const id = decodeHandle(input.wrapped);
    if (id) {
      const [row] = await this.db.query<DataKeyRow[]>(
        'SELECT id, data_class, kek_version, wrapped_key, destroyed_at FROM ks_data_key WHERE id = ?',
        [id],
      );
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
      return unwrapOrRefuse(await this.keyrings.kek(dataClass, Number(row.kek_version)), row.wrapped_key);
    }
    if (input.kekVersion < ring.minDecryptionVersion) {
      throw new AppError(
        400,
        'key_version_retired',
        `KEK ${kekIdOf(dataClass)} version ${input.kekVersion} is below min_decryption_version ${ring.minDecryptionVersion}`,
      );
    }
    return unwrapOrRefuse(await this.keyrings.kek(dataClass, input.kekVersion), input.wrapped);
  }

  /**
   * Vault transit `rewrap` for callers that store wrapped blobs themselves: each blob comes back
   * wrapped under the newest version, the data key never leaves the service. Handles of daily
   * keys come back unchanged (the rewrap job keeps those current).
   */
  async rewrapBlobs(principal: Principal, items: WrappedInput[]): Promise<WrappedInput[]> {
    return this.audit.audited(principal, 'datakey.rewrap', `${items.length} keys`, async () => {
      await this.root.rootKey();
      const out: WrappedInput[] = [];
      for (const item of items) {
        const dataClass = classOfKekId(item.kekId);
        if (!dataClass)
          throw new AppError(400, 'unknown_key_version', `no keyring ${item.kekId} in this key service`);
        checkClass(principal, dataClass);
        const ring = await this.checkedVersion(dataClass, item.kekVersion);
        if (decodeHandle(item.wrapped)) {
          out.push(item);
          continue;
        }
        const dataKey = await this.unwrapChecked(dataClass, ring, item);
        const latest = await this.keyrings.keyring(dataClass, true);
        out.push({
          kekId: item.kekId,
          kekVersion: latest.latestVersion,
          wrapped: wrapDataKey(await this.keyrings.kek(dataClass, latest.latestVersion), dataKey),
        });
        dataKey.fill(0);
      }
      return out;
    });
  }

  /** How many stored keys of a class (daily keys, and index keys for `index`) are wrapped below `version`. */
  async countWrappedBelow(
    db: DataSource | EntityManager,
    dataClass: DataClass,
    version: number,
  ): Promise<number> {
    const [count] = await db.query<{ n: string }[]>(
      'SELECT COUNT(*) AS n FROM ks_data_key WHERE data_class = ? AND kek_version < ? AND destroyed_at IS NULL',
      [dataClass, version],
    );
    let total = Number(count?.n ?? 0);
    if (dataClass === 'index') {
      const [indexCount] = await db.query<{ n: string }[]>(
        'SELECT COUNT(*) AS n FROM ks_index_key WHERE kek_version < ?',
        [version],
      );
      total += Number(indexCount?.n ?? 0);
    }
    return total;
  }

  /** Crypto-shreds the daily keys of a class from the days before `before` (inside `tx`). */
  async destroyBefore(tx: EntityManager, dataClass: DataClass, before: string): Promise<number> {
    const result = await tx.query<{ affectedRows?: number }>(
      'UPDATE ks_data_key SET wrapped_key = NULL, destroyed_at = ? WHERE data_class = ? AND day < ? AND destroyed_at IS NULL',
      [new Date(), dataClass, before],
    );
    return result.affectedRows ?? 0;
  }
}

function checkClass(principal: Principal, dataClass: DataClass): void {
  if (principal.classes.length > 0 && !principal.classes.includes(dataClass)) {
    throw new AppError(403, 'class_not_allowed', `service ${principal.name} may not use ${dataClass} keys`);
  }
}

function unwrapOrRefuse(kek: Buffer, wrapped: Buffer): Buffer {
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
