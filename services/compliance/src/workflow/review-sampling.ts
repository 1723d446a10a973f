import { randomBytes, randomInt } from 'node:crypto';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/** Sampling when neither the corp nor `*` has a review_config row. */
export const DEFAULT_REVIEW_SAMPLING = { samplePercent: 5, maxPerDay: 50 } as const;

const SHANGHAI_OFFSET_MS = 8 * 3600000;
const DAY_MS = 24 * 3600000;

/** The Asia/Shanghai calendar day (YYYY-MM-DD) of an instant (China keeps no daylight saving). */
export const shanghaiDay = (at: Date): string =>
  new Date(at.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);

/** [start, end) of a Shanghai day in UTC instants. */
export function shanghaiDayWindow(day: string): { start: Date; end: Date } {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`not a day: ${day}`);
  const start = new Date(Date.parse(`${day}T00:00:00.000Z`) - SHANGHAI_OFFSET_MS);
  return { start, end: new Date(start.getTime() + DAY_MS) };
}

export const previousShanghaiDay = (now: Date) => shanghaiDay(new Date(now.getTime() - DAY_MS));

export interface SamplingResult {
  day: string;
  corps: Record<string, { alert: number; sample: number; candidates: number }>;
  /** false when another replica was sampling the same day at that moment */
  ran: boolean;
}

export interface SamplingOptions {
  /** YYYY-MM-DD (Asia/Shanghai); default: yesterday */
  day?: string;
  /** only these corps (default: every corp with messages that day) */
  corpIds?: readonly string[];
  now?: Date;
}

/**
 * The review queue for one day (抽检复核): for each corp, every conversation-day of that Shanghai
 * day with alerts becomes a review item (reason `alert`, with its alert count), and a random sample
 * of the alert-free conversation-days (review_config: percent of them, at most `maxPerDay`) becomes
 * reason `sample`. One item per (corp, conversation, day): running again adds only what is missing
 * (alerts raised since, samples still short of the target), never a second sample set. Replicas
 * serialise on a database lock per day; a replica that finds it taken skips.
 */
export async function sampleReviews(db: DataSource, options: SamplingOptions = {}): Promise<SamplingResult> {
  const now = options.now ?? new Date();
  const day = options.day ?? previousShanghaiDay(now);
  const result: SamplingResult = { day, corps: {}, ran: false };
  const runner = db.createQueryRunner();
  await runner.connect();
  const lockName = `cz.review_sampling.${day}`;
  try {
    const [lock] = await rows<{ got: number | string }>(runner, 'SELECT GET_LOCK(?, 0) AS got', [lockName]);
    if (Number(lock?.got) !== 1) return result;
    try {
      const { start, end } = shanghaiDayWindow(day);
      const corpIds =
        options.corpIds ??
        (
          await rows<{ corp_id: string }>(
            runner,
            'SELECT DISTINCT corp_id FROM message WHERE msgtime >= ? AND msgtime < ? ORDER BY corp_id',
            [start, end],
          )
        ).map((r) => r.corp_id);
      for (const corpId of corpIds)
        result.corps[corpId] = await sampleCorpDay(runner, corpId, day, start, end, now);
      result.ran = true;
    } finally {
      await runner.query('SELECT RELEASE_LOCK(?)', [lockName]);
    }
  } finally {
    await runner.release();
  }
  return result;
}

async function sampleCorpDay(
  db: QueryRunner,
  corpId: string,
  day: string,
  start: Date,
  end: Date,
  now: Date,
): Promise<{ alert: number; sample: number; candidates: number }> {
  const conversations = (
    await rows<{ conversation_id: string }>(
      db,
      'SELECT DISTINCT conversation_id FROM message WHERE corp_id = ? AND msgtime >= ? AND msgtime < ?',
      [corpId, start, end],
    )
  ).map((r) => r.conversation_id);
  const alerted = new Map<string, number>(
    (
      await rows<{ conversation_id: string; n: number | string }>(
        db,
        `SELECT conversation_id, COUNT(*) AS n FROM compliance_alert
         WHERE corp_id = ? AND conversation_id IS NOT NULL AND doc_time >= ? AND doc_time < ?
         GROUP BY conversation_id`,
        [corpId, start, end],
      )
    ).map((r) => [r.conversation_id, Number(r.n)] as const),
  );

  let alertItems = 0;
  for (const [conversationId, count] of alerted) {
    // an alert found later (a retroactive scan) turns a sampled conversation-day into an alert one
    await db.query(
      `INSERT INTO review_item (id, corp_id, conversation_id, day, reason, alert_count, org_unit_id, status, created_at)
       VALUES (?, ?, ?, ?, 'alert', ?, ?, 'pending', ?)
       ON DUPLICATE KEY UPDATE reason = 'alert', alert_count = VALUES(alert_count)`,
      [newId(), corpId, conversationId, day, count, await unitOf(db, corpId, conversationId), now],
    );
    alertItems += 1;
  }

  const existing = new Set<string>(
    (
      await rows<{ conversation_id: string }>(
        db,
        'SELECT conversation_id FROM review_item WHERE corp_id = ? AND day = ?',
        [corpId, day],
      )
    ).map((r) => r.conversation_id),
  );
  const [counted] = await rows<{ n: number | string }>(
    db,
    "SELECT COUNT(*) AS n FROM review_item WHERE corp_id = ? AND day = ? AND reason = 'sample'",
    [corpId, day],
  );
  const sampledCount = Number(counted?.n ?? 0);
  const clean = conversations.filter((c) => !alerted.has(c));
  const config = await samplingConfig(db, corpId);
  const target = Math.min(config.maxPerDay, Math.ceil((clean.length * config.samplePercent) / 100));
  const pool = clean.filter((c) => !existing.has(c));
  const wanted = Math.max(0, Math.min(target - sampledCount, pool.length));
  // partial Fisher–Yates with a cryptographic RNG: which conversations are checked is not guessable
  for (let i = 0; i < wanted; i++) {
    const j = i + randomInt(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  let sampled = 0;
  for (const conversationId of pool.slice(0, wanted)) {
    const inserted = (await db.query(
      `INSERT IGNORE INTO review_item (id, corp_id, conversation_id, day, reason, alert_count, org_unit_id, status, created_at)
       VALUES (?, ?, ?, ?, 'sample', 0, ?, 'pending', ?)`,
      [newId(), corpId, conversationId, day, await unitOf(db, corpId, conversationId), now],
    )) as { affectedRows?: number };
    sampled += inserted.affectedRows ?? 0;
  }
  return { alert: alertItems, sample: sampled, candidates: clean.length };
}

/** The corp's sampling settings, else the `*` row, else the defaults. */
export async function samplingConfig(
  db: DataSource | EntityManager | QueryRunner,
  corpId: string,
): Promise<{ samplePercent: number; maxPerDay: number }> {
  const [row] = (await db.query(
    `SELECT sample_percent, max_per_day FROM review_config WHERE corp_id IN (?, '*')
     ORDER BY corp_id = '*' LIMIT 1`,
    [corpId],
  )) as { sample_percent: string | number; max_per_day: string | number }[];
  if (!row) return { ...DEFAULT_REVIEW_SAMPLING };
  return { samplePercent: Number(row.sample_percent), maxPerDay: Number(row.max_per_day) };
}

/** The org unit of the conversation's most active employee (its scope in the portal). */
async function unitOf(db: QueryRunner, corpId: string, conversationId: string): Promise<string | null> {
  const [row] = (await db.query(
    `SELECT e.org_unit_id FROM conversation_participant p
     JOIN employee e ON e.corp_id = p.corp_id AND e.userid = p.participant
     WHERE p.corp_id = ? AND p.conversation_id = ? AND e.org_unit_id IS NOT NULL
     ORDER BY p.sent_count DESC, p.participant LIMIT 1`,
    [corpId, conversationId],
  )) as { org_unit_id: string }[];
  return row?.org_unit_id ?? null;
}

const newId = () => randomBytes(16).toString('hex');

/** QueryRunner.query is untyped: the rows of a SELECT as `T`. */
const rows = async <T>(db: QueryRunner, sql: string, params: unknown[]): Promise<T[]> =>
  (await db.query(sql, params)) as T[];
