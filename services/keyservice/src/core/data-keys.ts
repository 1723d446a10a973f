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
  unwrapPeriodKek,
  wrapDataKey,
  wrapIndexKey,
  wrapPeriodKek,
  INDEX_KEY_BYTES,
} from './material';
import { actorOf, type Principal } from './principal';
import {
  assertBinlogForgets,
  DEFAULT_RETENTION_MONTHS,
  periodOfDay,
  RetentionGuard,
  TableLegalHolds,
  type Period,
} from './retention';

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

/** What a destruction removed: the audit trail and the request's result say this, never key bytes. */
export interface Shredded {
  before: string;
  /** the months whose key material is gone */
  periods: Period[];
  /** daily data keys overwritten and deleted */
  destroyed: number;
  /** period KEKs overwritten and deleted */
  periodKeks: number;
}

/**
 * A daily key with the period KEK it is wrapped under: `period` set, or (keys stored before period
 * KEKs) wrapped directly under the class KEK version `kek_version`.
 */
interface DataKeyRow {
  id: Buffer;
  data_class: DataClass;
  period: Period | null;
  kek_version: number | null;
  wrapped_key: Buffer | null;
  destroyed_at: Date | null;
  period_kek_version: number | null;
  wrapped_period_kek: Buffer | null;
}

const SELECT_DATA_KEY = `SELECT d.id, d.data_class, d.period, d.kek_version, d.wrapped_key, d.destroyed_at,
    p.kek_version AS period_kek_version, p.wrapped_kek AS wrapped_period_kek
  FROM ks_data_key d LEFT JOIN ks_period_kek p ON p.data_class = d.data_class AND p.period = d.period`;

/** The class KEK version a stored daily key depends on, directly or through its period KEK. */
const kekVersionOf = (row: DataKeyRow): number =>
  Number(row.period === null ? row.kek_version : row.period_kek_version);

const keyDestroyed = (what: string) =>
  new AppError(410, 'key_destroyed', `${what} was destroyed (crypto-shredded)`);

/**
 * Data keys for the services: the daily key of each class (ks_data_key, a handle travels with
 * sealed objects), per-object keys wrapped under the newest KEK version, the blind-index keys
 * (ks_index_key), unwrap and rewrap of blobs, and crypto-shredding by retention period: daily
 * keys are wrapped under their month's period KEK (ks_period_kek), and a month past its retention
 * and under no legal hold is destroyed whole (`retention` guards it).
 */
export class DataKeys {
  constructor(
    private readonly db: DataSource,
    private readonly dayOffsetMinutes: number,
    private readonly root: RootKeySource,
    private readonly keyrings: Keyrings,
    private readonly audit: AuditTrail,
    private readonly retention = new RetentionGuard(DEFAULT_RETENTION_MONTHS, new TableLegalHolds(db)),
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
      const plaintext = await this.openStored(row, `the data key of ${dataClass}/${day}`);
      return {
        plaintext,
        kekId: kekIdOf(dataClass),
        kekVersion: kekVersionOf(row),
        wrapped: encodeHandle(row.id),
        useUntil: endsAt,
      };
    });
  }

  private async dailyRow(dataClass: DataClass, day: string): Promise<DataKeyRow | undefined> {
    const [row] = await this.db.query<DataKeyRow[]>(
      `${SELECT_DATA_KEY} WHERE d.data_class = ? AND d.day = ?`,
      [dataClass, day],
    );
    return row;
  }

  /**
   * The plaintext of a stored daily key: through its period KEK, or directly under a class KEK
   * version for keys stored before period KEKs. 410 once its period was destroyed.
   */
  private async openStored(row: DataKeyRow, what: string): Promise<Buffer> {
    if (!row.wrapped_key || row.destroyed_at) throw keyDestroyed(what);
    if (row.period === null) {
      return unwrapOrRefuse(
        await this.keyrings.kek(row.data_class, Number(row.kek_version)),
        row.wrapped_key,
      );
    }
    if (!row.wrapped_period_kek)
      throw keyDestroyed(`the period key ${row.data_class}/${row.period} of ${what}`);
    let periodKek: Buffer;
    try {
      periodKek = unwrapPeriodKek(
        await this.keyrings.kek(row.data_class, Number(row.period_kek_version)),
        row.data_class,
        row.period,
        row.wrapped_period_kek,
      );
    } catch (err) {
      if (err instanceof CryptoError) {
        throw new AppError(
          500,
          'key_integrity',
          `stored period key ${row.data_class}/${row.period} fails its integrity check`,
        );
      }
      throw err;
    }
    try {
      return unwrapOrRefuse(periodKek, row.wrapped_key);
    } finally {
      periodKek.fill(0);
    }
  }

  /**
   * The plaintext KEK of a class's period (a copy the caller overwrites), created under the
   * newest KEK version by the first daily key of the month (or by the rewrap job moving older
   * keys under it). A destroyed period gets no new keys: 410.
   */
  async periodKek(dataClass: DataClass, period: Period, actor: string): Promise<Buffer> {
    const select = async () =>
      (
        await this.db.query<{ kek_version: number; wrapped_kek: Buffer | null; destroyed_at: Date | null }[]>(
          'SELECT kek_version, wrapped_kek, destroyed_at FROM ks_period_kek WHERE data_class = ? AND period = ?',
          [dataClass, period],
        )
      )[0];
    let row = await select();
    if (!row) {
      const ring = await this.keyrings.keyring(dataClass, true);
      const periodKek = newSm4Key();
      const wrapped = wrapPeriodKek(
        await this.keyrings.kek(dataClass, ring.latestVersion),
        dataClass,
        period,
        periodKek,
      );
      periodKek.fill(0);
      await this.db.transaction(async (tx) => {
        // a concurrent first key of the month (another replica) may win: both then use its KEK
        const result = await tx.query<{ affectedRows?: number }>(
          'INSERT IGNORE INTO ks_period_kek (data_class, period, kek_version, wrapped_kek, created_at) VALUES (?, ?, ?, ?, ?)',
          [dataClass, period, ring.latestVersion, wrapped, new Date()],
        );
        if (result.affectedRows) {
          await this.audit.record(
            {
              actor,
              action: 'periodkek.create',
              outcome: 'ok',
              target: `${kekIdOf(dataClass)}/${period}`,
              detail: { kekVersion: ring.latestVersion },
            },
            tx,
          );
        }
      });
      row = await select();
      if (!row) throw new Error(`period key ${dataClass}/${period} missing after insert`);
    }
    if (!row.wrapped_kek || row.destroyed_at) {
      throw keyDestroyed(`the key material of ${dataClass}/${period}`);
    }
    try {
      return unwrapPeriodKek(
        await this.keyrings.kek(dataClass, Number(row.kek_version)),
        dataClass,
        period,
        row.wrapped_kek,
      );
    } catch (err) {
      if (err instanceof CryptoError) {
        throw new AppError(
          500,
          'key_integrity',
          `stored period key ${dataClass}/${period} fails its integrity check`,
        );
      }
      throw err;
    }
  }

  /**
   * Creates the daily keys of `days` that do not exist yet, each under its month's period KEK;
   * returns how many were created. Also used to load history (benchmarks, tests, imports). A day
   * of a destroyed period is refused (410).
   */
  async createDailyKeys(dataClass: DataClass, days: string[], actor: string): Promise<number> {
    await this.keyrings.keyring(dataClass, true); // 503 before anything when not initialised
    const periodKeks = new Map<Period, Buffer>();
    let created = 0;
    const now = new Date();
    try {
      for (let start = 0; start < days.length; start += 1000) {
        const chunk = days.slice(start, start + 1000);
        const values: unknown[] = [];
        for (const day of chunk) {
          const period = periodOfDay(day);
          let periodKek = periodKeks.get(period);
          if (!periodKek) {
            periodKek = await this.periodKek(dataClass, period, actor);
            periodKeks.set(period, periodKek);
          }
          const dataKey = newSm4Key();
          values.push(newDataKeyId(), dataClass, day, period, wrapDataKey(periodKek, dataKey), now);
          dataKey.fill(0);
        }
        created += await this.insertDailyKeys(dataClass, chunk, values, actor);
      }
    } finally {
      for (const periodKek of periodKeks.values()) periodKek.fill(0);
    }
    return created;
  }

  /** One chunk of new daily keys (`values` in column order) and its audit event, in one transaction. */
  private async insertDailyKeys(
    dataClass: DataClass,
    chunk: string[],
    values: unknown[],
    actor: string,
  ): Promise<number> {
    return this.db.transaction(async (tx) => {
      const result = await tx.query<{ affectedRows?: number }>(
        `INSERT IGNORE INTO ks_data_key (id, data_class, day, period, wrapped_key, created_at) VALUES ${chunk
          .map(() => '(?, ?, ?, ?, ?, ?)')
          .join(', ')}`,
        values,
      );
      const inserted = result.affectedRows ?? 0;
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
              wrappedUnder: 'period KEK',
            },
          },
          tx,
        );
      }
      return inserted;
    });
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
      const [row] = await this.db.query<DataKeyRow[]>(`${SELECT_DATA_KEY} WHERE d.id = ?`, [id]);
      if (!row || row.data_class !== dataClass) {
        throw new AppError(
          400,
          'unwrap_failed',
          'no such data key: the wrapped key was altered or comes from another key service',
        );
      }
      if (!row.wrapped_key || row.destroyed_at) throw keyDestroyed('this data key');
      if (row.period !== null && !row.wrapped_period_kek) throw keyDestroyed('the period of this data key');
      if (kekVersionOf(row) < ring.minDecryptionVersion) {
        throw new AppError(
          400,
          'key_version_retired',
          `the data key is still wrapped under a retired KEK version`,
        );
      }
      return this.openStored(row, 'this data key');
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

  /**
   * How many stored keys of a class (daily keys, and index keys for `index`) depend on a class KEK
   * version below `version`: directly (keys stored before period KEKs) or through their period KEK.
   */
  async countWrappedBelow(
    db: DataSource | EntityManager,
    dataClass: DataClass,
    version: number,
  ): Promise<number> {
    const [count] = await db.query<{ n: string }[]>(
      `SELECT COUNT(*) AS n FROM ks_data_key d LEFT JOIN ks_period_kek p ON p.data_class = d.data_class AND p.period = d.period
       WHERE d.data_class = ? AND d.destroyed_at IS NULL
         AND IF(d.period IS NULL, d.kek_version, p.kek_version) < ?`,
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

  /**
   * The retention guard on its own (a request for destruction runs it when it is made): `before`
   * is the first day of a month, every month before it is past its class's retention minimum, and
   * no legal hold covers a day before it. Inside `tx` the holds read stay locked until commit.
   */
  async assertDestroyable(dataClass: DataClass, before: string, tx?: EntityManager): Promise<void> {
    await this.retention.assertDestroyable(dataClass, before, this.dayOf().day, tx);
  }

  /**
   * Crypto-shreds every month of a class before `before` (inside `tx`, the approval's transaction):
   * after the retention guard, the wrapped bytes of the months' period KEKs and daily keys are
   * first overwritten in place and then deleted, and a destroyed month keeps a tombstone so no new
   * key is ever made for it. Refused (nothing changed) if the database would copy the old bytes
   * into its binary log. The audit event names the class, months and counts, never key bytes.
   */
  async destroyBefore(
    tx: EntityManager,
    dataClass: DataClass,
    before: string,
    actor: string,
  ): Promise<Shredded> {
    await this.assertDestroyable(dataClass, before, tx);
    await assertBinlogForgets(tx);
    const beforePeriod = periodOfDay(before);
    const periodRows = await tx.query<{ period: Period }[]>(
      `SELECT DATE_FORMAT(day, '%Y-%m') AS period FROM ks_data_key WHERE data_class = ? AND day < ? AND destroyed_at IS NULL
       UNION SELECT period FROM ks_period_kek WHERE data_class = ? AND period < ? AND destroyed_at IS NULL
       ORDER BY period`,
      [dataClass, before, dataClass, beforePeriod],
    );
    const periods = periodRows.map((row) => row.period);
    const now = new Date();
    // same-length zeros first, so InnoDB overwrites the bytes in their page, then NULL
    await tx.query(
      "UPDATE ks_data_key SET wrapped_key = UNHEX(REPEAT('00', LENGTH(wrapped_key))) WHERE data_class = ? AND day < ? AND wrapped_key IS NOT NULL",
      [dataClass, before],
    );
    const keys = await tx.query<{ affectedRows?: number }>(
      'UPDATE ks_data_key SET wrapped_key = NULL, destroyed_at = ? WHERE data_class = ? AND day < ? AND destroyed_at IS NULL',
      [now, dataClass, before],
    );
    await tx.query(
      "UPDATE ks_period_kek SET wrapped_kek = UNHEX(REPEAT('00', LENGTH(wrapped_kek))) WHERE data_class = ? AND period < ? AND wrapped_kek IS NOT NULL",
      [dataClass, beforePeriod],
    );
    const periodKeks = await tx.query<{ affectedRows?: number }>(
      'UPDATE ks_period_kek SET wrapped_kek = NULL, destroyed_at = ? WHERE data_class = ? AND period < ? AND destroyed_at IS NULL',
      [now, dataClass, beforePeriod],
    );
    if (periods.length > 0) {
      // tombstones for months that had only keys from before period KEKs (kek_version 0: none)
      await tx.query(
        `INSERT IGNORE INTO ks_period_kek (data_class, period, kek_version, wrapped_kek, created_at, destroyed_at) VALUES ${periods
          .map(() => '(?, ?, 0, NULL, ?, ?)')
          .join(', ')}`,
        periods.flatMap((period) => [dataClass, period, now, now]),
      );
    }
    const shredded: Shredded = {
      before,
      periods,
      destroyed: keys.affectedRows ?? 0,
      periodKeks: periodKeks.affectedRows ?? 0,
    };
    await this.audit.record(
      {
        actor,
        action: 'datakey.destroy',
        outcome: 'ok',
        target: kekIdOf(dataClass),
        detail: { dataClass, ...shredded },
      },
      tx,
    );
    return shredded;
  }
}

function checkClass(principal: Principal, dataClass: DataClass): void {
  // deny by default: a caller uses only the classes it was granted (none granted = none)
  if (!principal.classes.includes(dataClass)) {
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
