import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { dayBounds, dayIn } from './calendar-day';

export interface ReconciliationBody {
  schema: 'cz.reconciliation.v1';
  corpId: string;
  day: string;
  timeZone: string;
  received: number;
  stored: number;
  duplicates: number;
  conflicts: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** every gap still open when the day was reconciled (also older ones) */
  openGaps: { fromSeq: number; toSeq: number; state: string }[];
  missingSeqs: number;
  /** alerts raised during the day, by kind */
  alerts: Record<string, number>;
  trackedRange: { lowSeq: number | null; highSeq: number | null };
}

/**
 * Freezes the reconciliation record of one corp and day: counts, first/last seq stored that day,
 * every open gap, alerts raised. Canonical JSON (fixed key order) plus its SM3 digest, written
 * once (a record, once made, is never rewritten: the evidence log signs it). Returns what is stored.
 */
export async function reconcileDay(
  db: DataSource,
  corpId: string,
  day: string,
  timeZone: string,
): Promise<{ body: ReconciliationBody; digest: string; created: boolean }> {
  const [counts]: {
    received: string;
    stored: string;
    duplicates: string;
    conflicts: string;
    first_seq: string | null;
    last_seq: string | null;
  }[] = await db.query(
    'SELECT received, stored, duplicates, conflicts, first_seq, last_seq FROM completeness_day WHERE corp_id = ? AND day = ?',
    [corpId, day],
  );
  const gaps: { from_seq: string; to_seq: string; state: string }[] = await db.query(
    `SELECT from_seq, to_seq, state FROM completeness_gap
      WHERE corp_id = ? AND state IN ('suspected', 'alerted') ORDER BY from_seq`,
    [corpId],
  );
  const [start, end] = dayBounds(day, timeZone);
  const alertRows: { kind: string; n: string }[] = await db.query(
    `SELECT kind, COUNT(*) AS n FROM completeness_alert
      WHERE corp_id = ? AND raised_at >= ? AND raised_at < ? GROUP BY kind ORDER BY kind`,
    [corpId, start, end],
  );
  const [tracker]: { low_seq: string | null; high_seq: string | null }[] = await db.query(
    'SELECT low_seq, high_seq FROM wecom_seq_tracker WHERE corp_id = ?',
    [corpId],
  );
  const num = (v: string | null | undefined) => (v === null || v === undefined ? null : Number(v));
  const openGaps = gaps.map((g) => ({
    fromSeq: Number(g.from_seq),
    toSeq: Number(g.to_seq),
    state: g.state,
  }));
  const body: ReconciliationBody = {
    schema: 'cz.reconciliation.v1',
    corpId,
    day,
    timeZone,
    received: Number(counts?.received ?? 0),
    stored: Number(counts?.stored ?? 0),
    duplicates: Number(counts?.duplicates ?? 0),
    conflicts: Number(counts?.conflicts ?? 0),
    firstSeq: num(counts?.first_seq),
    lastSeq: num(counts?.last_seq),
    openGaps,
    missingSeqs: openGaps.reduce((sum, g) => sum + (g.toSeq - g.fromSeq + 1), 0),
    alerts: Object.fromEntries(alertRows.map((a) => [a.kind, Number(a.n)])),
    trackedRange: { lowSeq: num(tracker?.low_seq), highSeq: num(tracker?.high_seq) },
  };
  const canonical = JSON.stringify(body);
  const digest = createHash('sm3').update(canonical).digest('hex');
  const result = await db.query<{ affectedRows?: number }>(
    `INSERT IGNORE INTO completeness_reconciliation
       (corp_id, day, time_zone, messages, seq_records, first_seq, last_seq, open_gaps, missing_seqs, body, digest_sm3)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      corpId,
      day,
      timeZone,
      body.stored,
      body.received,
      body.firstSeq,
      body.lastSeq,
      openGaps.length,
      body.missingSeqs,
      canonical,
      digest,
    ],
  );
  if ((result.affectedRows ?? 0) > 0) return { body, digest, created: true };
  const [existing]: { body: string; digest_sm3: string }[] = await db.query(
    'SELECT body, digest_sm3 FROM completeness_reconciliation WHERE corp_id = ? AND day = ?',
    [corpId, day],
  );
  return {
    body: JSON.parse(existing!.body) as ReconciliationBody,
    digest: existing!.digest_sm3,
    created: false,
  };
}

/** Reconciles every finished day that has no record yet: yesterday for every tracked corp, and any day with activity. */
export async function reconcileFinishedDays(
  db: DataSource,
  timeZone: string,
  now = new Date(),
): Promise<number> {
  const today = dayIn(timeZone, now);
  const yesterday = dayIn(timeZone, new Date(now.getTime() - 24 * 3600 * 1000));
  const pending: { corp_id: string; day: string }[] = await db.query(
    `SELECT t.corp_id, ? AS day FROM wecom_seq_tracker t
       LEFT JOIN completeness_reconciliation r ON r.corp_id = t.corp_id AND r.day = ?
      WHERE r.corp_id IS NULL
     UNION
     SELECT d.corp_id, DATE_FORMAT(d.day, '%Y-%m-%d') AS day FROM completeness_day d
       LEFT JOIN completeness_reconciliation r ON r.corp_id = d.corp_id AND r.day = d.day
      WHERE r.corp_id IS NULL AND d.day < ?
     LIMIT 500`,
    [yesterday, yesterday, today],
  );
  for (const { corp_id, day } of pending) await reconcileDay(db, corp_id, day, timeZone);
  return pending.length;
}
