import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AppError } from '@cz/common';
import { CryptoError, type DataClass } from '@cz/common/crypto';
import type { RewrapJobView } from '@cz/contracts';
import type { AuditTrail } from './audit-trail';
import type { DataKeys } from './data-keys';
import { DATA_CLASSES, type Keyrings, type RootKeySource } from './keyrings';
import {
  kekIdOf,
  unwrapDataKey,
  unwrapIndexKey,
  unwrapPeriodKek,
  wrapDataKey,
  wrapIndexKey,
  wrapPeriodKek,
} from './material';
import { actorOf, type Principal } from './principal';

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

const REWRAP_CHUNK = 500;
const REWRAP_STALE_MS = 60000;

const iso = (value: Date | string) => new Date(value).toISOString();

const rewrapView = (row: RewrapRow): RewrapJobView => {
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
};

/**
 * Rewrap jobs (ks_rewrap_job): move every stored key to its keyring's newest KEK version, in the
 * background of this process, so that old versions can then be retired. Daily keys are wrapped
 * under their month's period KEK, so a rotation re-wraps the period KEKs (a dozen a year), not
 * every daily key; daily keys stored before period KEKs existed are moved under their month's
 * period KEK by the first job that runs (whatever version they are under). Progress counts daily
 * keys (and index keys).
 */
export class RewrapJobs {
  private readonly runs = new Set<Promise<void>>();
  private closing = false;

  constructor(
    private readonly db: DataSource,
    private readonly root: RootKeySource & { readonly sealed: boolean },
    private readonly keyrings: Keyrings,
    private readonly dataKeys: DataKeys,
    private readonly audit: AuditTrail,
  ) {}

  async get(id: string): Promise<RewrapJobView> {
    const [row] = await this.db.query<RewrapRow[]>('SELECT * FROM ks_rewrap_job WHERE id = ?', [id]);
    if (!row) throw new AppError(404, 'job_not_found', `no rewrap job ${id}`);
    return rewrapView(row);
  }

  /**
   * Starts re-wrapping every stored data key (of one class, or all) that is not under its
   * keyring's newest KEK version. Runs in the background in this process; reads go on meanwhile
   * (a key is readable under its old version until the row is updated, and under the new one
   * after). Progress in ks_rewrap_job. Idempotent: an interrupted job is simply started again.
   */
  async start(officer: Principal, dataClass?: DataClass): Promise<RewrapJobView> {
    return this.audit.audited(
      officer,
      'rewrap.start',
      dataClass ? kekIdOf(dataClass) : 'all keyrings',
      async () => {
        await this.root.rootKey();
        const running = await this.db.query<{ id: string }[]>(
          "SELECT id FROM ks_rewrap_job WHERE status = 'running' AND heartbeat_at > ?",
          [new Date(Date.now() - REWRAP_STALE_MS)],
        );
        if (running.length > 0)
          throw new AppError(409, 'rewrap_running', `rewrap job ${running[0]!.id} is still running`);
        const classes = dataClass ? [dataClass] : DATA_CLASSES;
        const targets = new Map<DataClass, number>();
        let total = 0;
        for (const cls of classes) {
          const ring = await this.keyrings.keyring(cls, true);
          targets.set(cls, ring.latestVersion);
          total += await this.dataKeys.countWrappedBelow(this.db, cls, ring.latestVersion);
          total += await this.countUnderClassKekFrom(cls, ring.latestVersion);
        }
        const id = randomBytes(16).toString('hex');
        const now = new Date();
        await this.db.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO ks_rewrap_job (id, data_class, status, total, done, failed, requested_by, started_at, heartbeat_at)
           VALUES (?, ?, 'running', ?, 0, 0, ?, ?, ?)`,
            [id, dataClass ?? null, total, actorOf(officer), now, now],
          );
          await this.audit.record(
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
        const run = this.run(id, targets).finally(() => this.runs.delete(run));
        this.runs.add(run);
        return this.get(id);
      },
    );
  }

  /** Stops the jobs of this process after their current chunk, and waits for them. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.runs]);
  }

  private async run(id: string, targets: Map<DataClass, number>): Promise<void> {
    let done = 0;
    let failed = 0;
    try {
      for (const [dataClass, target] of targets) {
        // a copy: sealing meanwhile overwrites the cached KEKs, and the job awaits between chunks
        const newKek = Buffer.from(await this.keyrings.kek(dataClass, target));
        if (dataClass === 'index') {
          const rewrapped = await this.rewrapIndexKeys(target, newKek);
          done += rewrapped.done;
          failed += rewrapped.failed;
        }
        const periods = await this.rewrapPeriodKeks(dataClass, target, newKek);
        done += periods.done;
        failed += periods.failed;
        newKek.fill(0);
        await this.progress(id, done, failed);
        let after: Buffer = Buffer.alloc(16);
        for (;;) {
          if (this.closing) throw new Error('the key service is shutting down');
          const rows = await this.db.query<
            { id: Buffer; period: string; kek_version: number; wrapped_key: Buffer }[]
          >(
            `SELECT id, DATE_FORMAT(day, '%Y-%m') AS period, kek_version, wrapped_key FROM ks_data_key
             WHERE data_class = ? AND period IS NULL AND destroyed_at IS NULL AND id > ? ORDER BY id LIMIT ${REWRAP_CHUNK}`,
            [dataClass, after],
          );
          if (rows.length === 0) break;
          after = rows[rows.length - 1]!.id;
          const moved = await this.moveUnderPeriodKeks(dataClass, rows);
          done += rows.length - moved.failed;
          failed += moved.failed;
          await this.progress(id, done, failed);
        }
      }
      await this.db.transaction(async (tx) => {
        await tx.query(
          "UPDATE ks_rewrap_job SET status = 'done', done = ?, failed = ?, finished_at = ? WHERE id = ?",
          [done, failed, new Date(), id],
        );
        await this.audit.record(
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
          await this.audit.record(
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

  private async progress(id: string, done: number, failed: number): Promise<void> {
    await this.db.query('UPDATE ks_rewrap_job SET done = ?, failed = ?, heartbeat_at = ? WHERE id = ?', [
      done,
      failed,
      new Date(),
      id,
    ]);
  }

  /** Daily keys still wrapped directly under a class KEK version ≥ `version` (they move too). */
  private async countUnderClassKekFrom(dataClass: DataClass, version: number): Promise<number> {
    const [count] = await this.db.query<{ n: string }[]>(
      'SELECT COUNT(*) AS n FROM ks_data_key WHERE data_class = ? AND period IS NULL AND kek_version >= ? AND destroyed_at IS NULL',
      [dataClass, version],
    );
    return Number(count?.n ?? 0);
  }

  /**
   * Re-wraps the live period KEKs of a class below `target` (one row each, guarded by its old
   * version and `destroyed_at IS NULL`, so a period shredded meanwhile is never brought back).
   * Counts the daily keys each covers.
   */
  private async rewrapPeriodKeks(
    dataClass: DataClass,
    target: number,
    newKek: Buffer,
  ): Promise<{ done: number; failed: number }> {
    const rows = await this.db.query<
      { period: string; kek_version: number; wrapped_kek: Buffer; keys: string }[]
    >(
      `SELECT p.period, p.kek_version, p.wrapped_kek,
         (SELECT COUNT(*) FROM ks_data_key d WHERE d.data_class = p.data_class AND d.period = p.period AND d.destroyed_at IS NULL) AS \`keys\`
       FROM ks_period_kek p WHERE p.data_class = ? AND p.kek_version < ? AND p.destroyed_at IS NULL`,
      [dataClass, target],
    );
    let done = 0;
    let failed = 0;
    for (const row of rows) {
      if (this.root.sealed) throw new Error('the key service was sealed during the rewrap');
      try {
        const periodKek = unwrapPeriodKek(
          await this.keyrings.kek(dataClass, Number(row.kek_version)),
          dataClass,
          row.period,
          row.wrapped_kek,
        );
        await this.db.query(
          `UPDATE ks_period_kek SET wrapped_kek = ?, kek_version = ?, rewrapped_at = ?
           WHERE data_class = ? AND period = ? AND kek_version = ? AND destroyed_at IS NULL`,
          [
            wrapPeriodKek(newKek, dataClass, row.period, periodKek),
            target,
            new Date(),
            dataClass,
            row.period,
            row.kek_version,
          ],
        );
        periodKek.fill(0);
        done += Number(row.keys);
      } catch (err) {
        if (!(err instanceof CryptoError)) throw err;
        failed += Math.max(1, Number(row.keys)); // stays as it is, and is reported
      }
    }
    return { done, failed };
  }

  /**
   * Moves daily keys stored before period KEKs (wrapped directly under a class KEK version) under
   * their month's period KEK, in one statement per chunk; the data keys themselves do not change.
   */
  private async moveUnderPeriodKeks(
    dataClass: DataClass,
    rows: { id: Buffer; period: string; kek_version: number; wrapped_key: Buffer }[],
  ): Promise<{ failed: number }> {
    const periodKeks = new Map<string, Buffer>();
    const updates: { id: Buffer; period: string; wrapped: Buffer }[] = [];
    let failed = 0;
    try {
      for (const row of rows) {
        try {
          const dataKey = unwrapDataKey(
            await this.keyrings.kek(dataClass, Number(row.kek_version)),
            row.wrapped_key,
          );
          let periodKek = periodKeks.get(row.period);
          if (!periodKek) {
            periodKek = await this.dataKeys.periodKek(dataClass, row.period, 'system');
            periodKeks.set(row.period, periodKek);
          }
          updates.push({ id: row.id, period: row.period, wrapped: wrapDataKey(periodKek, dataKey) });
          dataKey.fill(0);
        } catch (err) {
          // a stored key that fails its integrity check (or lies in a destroyed month) stays, and is reported
          if (!(err instanceof CryptoError) && !(err instanceof AppError && err.code === 'key_destroyed'))
            throw err;
          failed++;
        }
      }
    } finally {
      for (const periodKek of periodKeks.values()) periodKek.fill(0);
    }
    if (this.root.sealed) throw new Error('the key service was sealed during the rewrap');
    if (updates.length > 0) {
      // `period IS NULL` keeps a concurrent job's result, `destroyed_at IS NULL` never brings back
      // a key shredded in the meantime
      await this.db.query(
        `UPDATE ks_data_key SET wrapped_key = CASE id ${updates.map(() => 'WHEN ? THEN ?').join(' ')} END,
           period = CASE id ${updates.map(() => 'WHEN ? THEN ?').join(' ')} END,
           kek_version = NULL, rewrapped_at = ? WHERE id IN (${updates.map(() => '?').join(', ')})
           AND period IS NULL AND destroyed_at IS NULL`,
        [
          ...updates.flatMap((u) => [u.id, u.wrapped]),
          ...updates.flatMap((u) => [u.id, u.period]),
          new Date(),
          ...updates.map((u) => u.id),
        ],
      );
    }
    return { failed };
  }

  /** Index keys are few (one per purpose): one by one, each row guarded by its old version. */
  private async rewrapIndexKeys(target: number, newKek: Buffer): Promise<{ done: number; failed: number }> {
    const rows = await this.db.query<{ purpose: string; kek_version: number; wrapped_key: Buffer }[]>(
      'SELECT purpose, kek_version, wrapped_key FROM ks_index_key WHERE kek_version < ?',
      [target],
    );
    let failed = 0;
    for (const row of rows) {
      try {
        const key = unwrapIndexKey(
          await this.keyrings.kek('index', Number(row.kek_version)),
          row.wrapped_key,
        );
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
}
