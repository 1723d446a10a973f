import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { RescanJobView, RescanRequest, RescanStatus } from '@cz/contracts';
import { AppError, badRequest, notFound } from '@cz/common';
import { getVersion, versionWithStatus } from './store';

/*
 * Retroactive scan jobs (compliance_rescan): this module creates, lists and cancels them; the
 * rescan worker (plugins/app/rescan-worker.ts) leases queued jobs, runs them and keeps their
 * progress. A cancelled job is left alone by the worker at its next batch.
 */

type Queryable = Pick<DataSource, 'query'> | Pick<EntityManager, 'query'>;

/** records per second when the request names no rate: live traffic keeps its latency */
const DEFAULT_RESCAN_RATE = 2000;

interface RescanRow {
  id: string;
  version: number;
  corp_id: string | null;
  org_unit_id: string | null;
  from_time: Date;
  to_time: Date;
  rate_per_second: number;
  status: RescanStatus;
  scanned: string | number;
  total: string | number | null;
  alerts: string | number;
  requested_by: string;
  created_at: Date;
  updated_at: Date;
  error: string | null;
}

const COLUMNS =
  'id, version, corp_id, org_unit_id, from_time, to_time, rate_per_second, status, scanned, total, alerts, requested_by, created_at, updated_at, error';

function rescanView(row: RescanRow): RescanJobView {
  return {
    id: row.id,
    version: Number(row.version),
    corpId: row.corp_id,
    orgUnitId: row.org_unit_id,
    from: new Date(row.from_time).toISOString(),
    to: new Date(row.to_time).toISOString(),
    ratePerSecond: Number(row.rate_per_second),
    status: row.status,
    scanned: Number(row.scanned),
    total: row.total === null ? null : Number(row.total),
    alerts: Number(row.alerts),
    requestedBy: row.requested_by,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    error: row.error,
  };
}

interface CheckedRescan {
  version: number;
  corpId: string | null;
  orgUnitId: string | null;
  from: Date;
  to: Date;
  ratePerSecond: number;
}

/**
 * Checks a rescan request: a period with from < to, a version that exists and was published (by
 * default the published one; `publishing` is the version a publication is about to make
 * published), an org unit only with its corp and only one that exists.
 */
export async function checkRescan(
  db: Queryable,
  request: RescanRequest,
  publishing?: number,
): Promise<CheckedRescan> {
  const from = new Date(request.from);
  const to = new Date(request.to);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
    throw badRequest('bad_period', '`from` and `to` must be date-times');
  if (from.getTime() >= to.getTime()) throw badRequest('bad_period', '`from` must be before `to`');
  let version: number;
  if (publishing !== undefined) {
    if (request.version !== undefined && request.version !== publishing) {
      throw badRequest(
        'bad_version',
        `a rescan started with a publication uses the version being published (${publishing})`,
      );
    }
    version = publishing;
  } else if (request.version !== undefined) {
    const view = await getVersion(db, request.version);
    if (!view) throw notFound(`lexicon version ${request.version} does not exist`);
    if (view.status === 'draft')
      throw badRequest('not_published', `version ${request.version} is a draft; publish it first`);
    version = view.version;
  } else {
    const published = await versionWithStatus(db, 'published');
    if (!published) throw new AppError(409, 'no_published_version', 'no lexicon version is published yet');
    version = published.version;
  }
  if (request.orgUnitId !== undefined) {
    if (request.corpId === undefined)
      throw badRequest('org_unit_needs_corp', '`orgUnitId` needs `corpId` (org unit ids are per corp)');
    const rows: unknown[] = await db.query('SELECT 1 FROM org_unit WHERE corp_id = ? AND id = ?', [
      request.corpId,
      request.orgUnitId,
    ]);
    if (rows.length === 0)
      throw notFound(`org unit ${request.orgUnitId} of corp ${request.corpId} does not exist`);
  }
  return {
    version,
    corpId: request.corpId ?? null,
    orgUnitId: request.orgUnitId ?? null,
    from,
    to,
    ratePerSecond: request.ratePerSecond ?? DEFAULT_RESCAN_RATE,
  };
}

/** Queues a checked rescan; returns the job. */
export async function queueRescan(db: Queryable, job: CheckedRescan, actor: string): Promise<RescanJobView> {
  const id = randomBytes(16).toString('hex');
  const now = new Date();
  await db.query(
    `INSERT INTO compliance_rescan (id, version, corp_id, org_unit_id, from_time, to_time, rate_per_second, status, scanned, alerts, requested_by, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 0, 0, ?, ?, ?)`,
    [id, job.version, job.corpId, job.orgUnitId, job.from, job.to, job.ratePerSecond, actor, now, now],
  );
  const view = await getRescan(db, id);
  if (!view) throw new AppError(500, 'internal_error', 'queued rescan vanished');
  return view;
}

export async function getRescan(db: Queryable, id: string): Promise<RescanJobView | undefined> {
  const rows: RescanRow[] = await db.query(`SELECT ${COLUMNS} FROM compliance_rescan WHERE id = ?`, [id]);
  return rows[0] ? rescanView(rows[0]) : undefined;
}

/** The latest jobs first. */
export async function listRescans(db: Queryable, limit = 100): Promise<RescanJobView[]> {
  const rows: RescanRow[] = await db.query(
    `SELECT ${COLUMNS} FROM compliance_rescan ORDER BY created_at DESC, id LIMIT ?`,
    [limit],
  );
  return rows.map(rescanView);
}

/** Cancels a queued or running job (404 unknown, 409 already finished). */
export async function cancelRescan(
  db: Queryable,
  id: string,
): Promise<{ view: RescanJobView; before: RescanStatus }> {
  const current = await getRescan(db, id);
  if (!current) throw notFound(`no rescan ${id}`);
  const result: { affectedRows?: number } | [unknown, number] = await db.query(
    "UPDATE compliance_rescan SET status = 'cancelled', updated_at = ? WHERE id = ? AND status IN ('queued', 'running')",
    [new Date(), id],
  );
  const affected = Array.isArray(result) ? Number(result[1]) : Number(result.affectedRows ?? 0);
  const view = await getRescan(db, id);
  if (!view) throw notFound(`no rescan ${id}`);
  if (affected === 0 && view.status !== 'cancelled') {
    throw new AppError(409, 'rescan_finished', `rescan ${id} is already ${view.status}`);
  }
  return { view, before: current.status };
}
