import type { FastifyInstance } from 'fastify';
import type { SlaPolicyRule } from '@cz/contracts';
import type { ArchivedMessageV1 } from '@cz/contracts';
import { CryptoError, openSealed } from '@cz/common/crypto';
import type { CompiledLexicon } from '../engine';
import { insertAlerts, sealDrafts } from './alerts';
import { lexiconVersion } from './lexicon-access';
import { messageScanRecord, type ScanRecord } from './records';
import { draftsOf, withDeadlockRetry } from './scan-batch';

/*
 * Retroactive scans (`compliance_rescan`, created by the lexicon routes): one replica leases a job,
 * walks the archived messages of its period (and corp, org unit) in (msgtime, id) order, scans them
 * with the job's version and raises alerts marked retroactive, with the same deterministic ids as
 * the live scan, so a record already alerted by that version is not alerted again. Each page's
 * alerts and the job's cursor and counters are written in one transaction: a restart resumes at
 * the cursor with nothing counted or raised twice.
 */

export interface RescanJobRow {
  id: string;
  version: number;
  corp_id: string | null;
  org_unit_id: string | null;
  from_time: Date;
  to_time: Date;
  rate_per_second: number;
  status: string;
  cursor_time: Date | null;
  cursor_id: Buffer | null;
  scanned: number;
  total: number | null;
  alerts: number;
}

const CLAIMABLE = `(status = 'queued' OR (status = 'running' AND (lease_until IS NULL OR lease_until < NOW(3))))`;

/** Leases the oldest queued job (or one whose replica stopped renewing), or returns null. */
export async function leaseRescanJob(
  app: FastifyInstance,
  owner: string,
  leaseMs: number,
): Promise<RescanJobRow | null> {
  const candidates = await app.db.query<{ id: string }[]>(
    `SELECT id FROM compliance_rescan WHERE ${CLAIMABLE} ORDER BY created_at LIMIT 5`,
  );
  for (const { id } of candidates) {
    const result = await app.db.query<{ affectedRows?: number }>(
      `UPDATE compliance_rescan SET status = 'running', lease_owner = ?,
              lease_until = DATE_ADD(NOW(3), INTERVAL ? MICROSECOND), updated_at = NOW(3)
        WHERE id = ? AND ${CLAIMABLE}`,
      [owner, leaseMs * 1000, id],
    );
    if ((result.affectedRows ?? 0) === 0) continue;
    const [job] = await app.db.query<RescanJobRow[]>(
      `SELECT id, version, corp_id, org_unit_id, from_time, to_time, rate_per_second, status, cursor_time,
              cursor_id, scanned, total, alerts FROM compliance_rescan WHERE id = ?`,
      [id],
    );
    if (job) return { ...job, scanned: Number(job.scanned), alerts: Number(job.alerts) };
  }
  return null;
}

/** Refills `ratePerSecond` tokens a second (at most one second's worth): scans never go faster. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(private readonly ratePerSecond: number) {
    this.tokens = ratePerSecond;
  }

  async take(count: number, stopped: () => boolean): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(
        this.ratePerSecond,
        this.tokens + ((now - this.last) / 1000) * this.ratePerSecond,
      );
      this.last = now;
      if (this.tokens >= count || stopped()) {
        this.tokens -= count;
        return;
      }
      const waitMs = ((count - this.tokens) / this.ratePerSecond) * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(waitMs, 5), 500)));
    }
  }
}

interface MessageRow {
  id: string;
  corp_id: string;
  msgid: string;
  conversation_id: string;
  msgtime: Date;
  sealed_record: Buffer;
}

/** Opens an archived message against its row; undefined when it does not belong there or cannot be read. */
async function openRow(app: FastifyInstance, row: MessageRow): Promise<ArchivedMessageV1 | undefined> {
  try {
    const { plaintext } = await openSealed(row.sealed_record, app.keys, {
      kind: 'msg',
      corp: row.corp_id,
      id: row.id,
    });
    const message = JSON.parse(plaintext.toString('utf8')) as ArchivedMessageV1;
    const matches = message.id === row.id && message.corpId === row.corp_id && message.msgid === row.msgid;
    return matches ? message : undefined;
  } catch (err) {
    if (err instanceof CryptoError || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** The userids of an org unit and every unit below it (null: no org unit filter). */
async function unitMembers(app: FastifyInstance, job: RescanJobRow): Promise<Set<string> | null> {
  if (!job.org_unit_id || !job.corp_id) return null;
  const [top] = await app.db.query<{ path: string }[]>(
    'SELECT path FROM org_unit WHERE corp_id = ? AND id = ?',
    [job.corp_id, job.org_unit_id],
  );
  if (!top) return new Set();
  const rows = await app.db.query<{ userid: string }[]>(
    `SELECT e.userid FROM employee e JOIN org_unit u ON u.corp_id = e.corp_id AND u.id = e.org_unit_id
      WHERE e.corp_id = ? AND u.path LIKE ?`,
    [job.corp_id, `${top.path.replace(/[\\%_]/g, (c) => `\\${c}`)}%`],
  );
  return new Set(rows.map((r) => r.userid));
}

export interface RescanRunOptions {
  owner: string;
  leaseMs: number;
  batchSize: number;
  slaRules: () => Promise<readonly SlaPolicyRule[]>;
  /** the replica is shutting down: stop after the current page (the job stays leased, resumable) */
  stopped: () => boolean;
  /** after a page that raised alerts */
  raised: () => void;
}

export type RescanOutcome = 'done' | 'stopped' | 'lost' | 'failed';

class LeaseLost extends Error {}

/** Runs a leased job until it is done, cancelled, its lease is lost, or the replica stops. */
export async function runRescanJob(
  app: FastifyInstance,
  job: RescanJobRow,
  options: RescanRunOptions,
): Promise<RescanOutcome> {
  const lexicon: CompiledLexicon | null = await lexiconVersion(app, job.version);
  if (!lexicon) {
    await app.db.query(
      `UPDATE compliance_rescan SET status = 'failed', error = ?, lease_owner = NULL, lease_until = NULL,
              updated_at = NOW(3) WHERE id = ? AND lease_owner = ?`,
      [`lexicon version ${job.version} not found`, job.id, options.owner],
    );
    return 'failed';
  }
  const corpFilter = job.corp_id === null ? '' : ' AND corp_id = ?';
  const corpParams = job.corp_id === null ? [] : [job.corp_id];
  if (job.total === null) {
    const [count] = await app.db.query<{ n: string | number }[]>(
      `SELECT COUNT(*) AS n FROM message WHERE msgtime >= ? AND msgtime < ?${corpFilter}`,
      [job.from_time, job.to_time, ...corpParams],
    );
    await app.db.query('UPDATE compliance_rescan SET total = ? WHERE id = ?', [
      Number(count?.n ?? 0),
      job.id,
    ]);
  }
  const members = await unitMembers(app, job);
  const bucket = new TokenBucket(job.rate_per_second);
  const pageSize = Math.max(1, Math.min(options.batchSize, job.rate_per_second));
  let cursor = job.cursor_time ? { time: job.cursor_time, id: job.cursor_id?.toString('hex') ?? '' } : null;
  for (;;) {
    if (options.stopped()) {
      // resumable at once by any replica (cursor and counters are the last committed page's)
      await app.db.query(
        'UPDATE compliance_rescan SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?',
        [job.id, options.owner],
      );
      return 'stopped';
    }
    await bucket.take(pageSize, options.stopped);
    const after = cursor ? ' AND (msgtime > ? OR (msgtime = ? AND id > ?))' : '';
    const rows = await app.db.query<MessageRow[]>(
      `SELECT id, corp_id, msgid, conversation_id, msgtime, sealed_record FROM message
        WHERE msgtime >= ? AND msgtime < ?${corpFilter}${after} ORDER BY msgtime, id LIMIT ?`,
      [
        job.from_time,
        job.to_time,
        ...corpParams,
        ...(cursor ? [cursor.time, cursor.time, cursor.id] : []),
        pageSize,
      ],
    );
    const records: ScanRecord[] = [];
    for (const row of rows) {
      const message = await openRow(app, row);
      const record = message ? messageScanRecord(message) : null;
      if (!record) continue;
      if (members && !record.people.some((p) => members.has(p))) continue;
      records.push(record);
    }
    const drafts = await draftsOf(app, records, lexicon, {
      retroactive: true,
      slaRules: await options.slaRules(),
      raisedAt: new Date(),
    });
    const sealed = await sealDrafts(app.keys, drafts);
    const last = rows[rows.length - 1];
    const finished = rows.length < pageSize;
    let raised = 0;
    try {
      raised = await withDeadlockRetry(() =>
        app.db.transaction('READ COMMITTED', async (manager) => {
          const inserted = await insertAlerts(manager, sealed);
          const result = await manager.query<{ affectedRows?: number }>(
            `UPDATE compliance_rescan SET scanned = scanned + ?, alerts = alerts + ?,
                  cursor_time = COALESCE(?, cursor_time), cursor_id = COALESCE(UNHEX(?), cursor_id),
                  lease_until = DATE_ADD(NOW(3), INTERVAL ? MICROSECOND), updated_at = NOW(3)
                  ${finished ? ", status = 'done', total = scanned, lease_owner = NULL, lease_until = NULL" : ''}
            WHERE id = ? AND lease_owner = ? AND status = 'running'`,
            [
              rows.length,
              inserted,
              last?.msgtime ?? null,
              last?.id ?? null,
              options.leaseMs * 1000,
              job.id,
              options.owner,
            ],
          );
          // cancelled, or another replica took over after our lease ran out: nothing of this page counts
          if ((result.affectedRows ?? 0) === 0) throw new LeaseLost();
          return inserted;
        }),
      );
    } catch (err) {
      if (err instanceof LeaseLost) return 'lost';
      throw err;
    }
    if (raised > 0) options.raised();
    if (finished) return 'done';
    cursor = { time: last!.msgtime, id: last!.id };
  }
}
