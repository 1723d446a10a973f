import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type {
  ReviewDecisionRequest,
  ReviewItemView,
  ReviewQuery,
  ReviewReason,
  ReviewSamplingConfig,
  ReviewStatus,
} from '@cz/contracts';
import { openBuffer, sealBuffer, sealedKeyInfo, type KeyProvider, type SealBinding } from '@cz/common/crypto';
import type { KeysetPosition } from '../cursor';
import { isIntegrityError, reportIntegrityFailure, type IntegrityContext } from '../integrity';
import type { Access } from '../scope';
import { pushCondition, reviewScopeCondition } from './scope';

/*
 * The review queue (抽检复核): conversation-days the compliance service put in `review_item`
 * (every one with an alert, and a random sample of the rest). Reviewers see the items of their
 * data scope and record a decision once; notes are sealed and bound to their item.
 */

/** What the sampler uses when neither the corp nor `*` has a row (the compliance service's defaults). */
export const DEFAULT_SAMPLING: ReviewSamplingConfig = { samplePercent: 5, maxPerDay: 50 };

export const reviewNoteBinding = (row: { id: string; corp_id: string }): SealBinding => ({
  kind: 'review_item',
  corp: row.corp_id,
  id: row.id,
});

export interface ReviewRow {
  id: string;
  corp_id: string;
  conversation_id: string;
  day: string;
  reason: ReviewReason;
  alert_count: number | string;
  org_unit_id: string | null;
  org_unit_name: string | null;
  status: ReviewStatus;
  decided_by: string | null;
  decided_at: Date | null;
  sealed_note: Buffer | null;
  created_at: Date;
}

const REVIEW_COLUMNS = `r.id, r.corp_id, r.conversation_id, DATE_FORMAT(r.day, '%Y-%m-%d') AS day, r.reason,
  r.alert_count, r.org_unit_id, ou.name AS org_unit_name, r.status, r.decided_by, r.decided_at,
  r.sealed_note, r.created_at`;
const REVIEW_FROM = `review_item r LEFT JOIN org_unit ou ON ou.corp_id = r.corp_id AND ou.id = r.org_unit_id`;

export async function reviewView(
  keys: KeyProvider,
  integrity: IntegrityContext,
  row: ReviewRow,
): Promise<ReviewItemView> {
  let note: string | null = null;
  if (row.sealed_note) {
    const binding = reviewNoteBinding(row);
    try {
      note = (await openBuffer(row.sealed_note, keys, binding)).toString('utf8');
    } catch (err) {
      if (!isIntegrityError(err)) throw err;
      await reportIntegrityFailure(integrity, binding, err);
    }
  }
  return {
    id: row.id,
    corpId: row.corp_id,
    conversationId: row.conversation_id,
    day: row.day,
    reason: row.reason,
    alertCount: Number(row.alert_count),
    orgUnitId: row.org_unit_id,
    orgUnitName: row.org_unit_name,
    status: row.status,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at === null ? null : new Date(row.decided_at).toISOString(),
    note,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export const reviewFingerprint = (query: ReviewQuery) =>
  createHash('sm3')
    .update(JSON.stringify([query.status, query.reason, query.corpId]))
    .digest('hex')
    .slice(0, 24);

/** One page of the queue within the caller's scope, newest first (keyset on created_at, id). */
export async function reviewPage(
  db: DataSource,
  access: Access,
  query: ReviewQuery,
  after: KeysetPosition | undefined,
): Promise<ReviewRow[]> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  pushCondition(conditions, params, reviewScopeCondition(access));
  for (const [column, value] of [
    ['r.status', query.status],
    ['r.reason', query.reason],
    ['r.corp_id', query.corpId],
  ] as const) {
    if (value === undefined) continue;
    conditions.push(`${column} = ?`);
    params.push(value);
  }
  if (after) {
    conditions.push('(r.created_at < ? OR (r.created_at = ? AND r.id < ?))');
    params.push(new Date(after.t), new Date(after.t), after.id);
  }
  return db.query<ReviewRow[]>(
    `SELECT ${REVIEW_COLUMNS} FROM ${REVIEW_FROM} ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
     ORDER BY r.created_at DESC, r.id DESC LIMIT ?`,
    [...params, (query.limit ?? 50) + 1],
  );
}

export async function findReview(db: DataSource, access: Access, id: string): Promise<ReviewRow | undefined> {
  const conditions = ['r.id = ?'];
  const params: unknown[] = [id];
  pushCondition(conditions, params, reviewScopeCondition(access));
  const [row] = await db.query<ReviewRow[]>(
    `SELECT ${REVIEW_COLUMNS} FROM ${REVIEW_FROM} WHERE ${conditions.join(' AND ')}`,
    params,
  );
  return row;
}

/** Records a decision on a pending item; false when someone decided it first. */
export async function decideReview(
  db: DataSource,
  keys: KeyProvider,
  item: ReviewRow,
  decision: ReviewDecisionRequest['decision'],
  note: string | null,
  actor: string,
): Promise<boolean> {
  const sealed =
    note === null
      ? null
      : await sealBuffer(Buffer.from(note, 'utf8'), keys, 'audit', reviewNoteBinding(item));
  const info = sealed ? sealedKeyInfo(sealed) : null;
  const result = await db.query<{ affectedRows?: number }>(
    `UPDATE review_item SET status = ?, decided_by = ?, decided_at = ?, kek_id = ?, kek_version = ?, sealed_note = ?
     WHERE id = ? AND status = 'pending'`,
    [decision, actor, new Date(), info?.kekId ?? null, info?.kekVersion ?? null, sealed, item.id],
  );
  return (result.affectedRows ?? 0) === 1;
}

/** The sampling settings of a corp: its own row, else `*`'s, else the defaults. */
export async function samplingConfig(
  db: DataSource,
  corpId: string,
): Promise<ReviewSamplingConfig & { source: string }> {
  const rows = await db.query<{ corp_id: string; sample_percent: string; max_per_day: number | string }[]>(
    `SELECT corp_id, sample_percent, max_per_day FROM review_config WHERE corp_id IN (?, '*')`,
    [corpId],
  );
  const row = rows.find((r) => r.corp_id === corpId) ?? rows.find((r) => r.corp_id === '*');
  if (!row) return { ...DEFAULT_SAMPLING, source: 'default' };
  return {
    samplePercent: Number(row.sample_percent),
    maxPerDay: Number(row.max_per_day),
    source: row.corp_id,
  };
}

export async function setSamplingConfig(
  db: DataSource,
  corpId: string,
  config: ReviewSamplingConfig,
  actor: string,
): Promise<void> {
  await db.query(
    `INSERT INTO review_config (corp_id, sample_percent, max_per_day, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE sample_percent = VALUES(sample_percent), max_per_day = VALUES(max_per_day),
       updated_by = VALUES(updated_by), updated_at = VALUES(updated_at)`,
    [corpId, config.samplePercent, config.maxPerDay, actor, new Date()],
  );
}
