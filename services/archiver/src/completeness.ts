/**
 * Completeness of the WeCom archive, per corp, by Finance-SDK seq.
 *
 * The archiver is the authority: every record reaches the archive through it, whether the puller
 * or another client posted it, and it sees what was actually stored. Tracking runs inside the
 * batch transaction that stores the messages, under a per-corp row lock, so replicas consuming
 * different partitions serialise per corp and the tracker never disagrees with the message table.
 *
 * Records of one corp travel on several partitions (keyed by conversation), so seqs arrive out of
 * order: a hole is first recorded as a `suspected` gap and only alerted when it is still open after
 * a grace period; a late record shrinks, splits or fills it.
 */
import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Producer } from 'kafkajs';
import { Topics, type AlertV1 } from '@cz/contracts';
import { alertRecord, completenessAlert, insertCompletenessAlerts, sendDurably } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import type { MessageRow } from './store';

const SOURCE = 'archiver';

/** Days of the daily reconciliation are calendar days in this zone (CZ_COMPLETENESS_TZ). */
export function completenessTimeZone(): string {
  const zone = process.env.CZ_COMPLETENESS_TZ || 'Asia/Shanghai';
  new Intl.DateTimeFormat('en-CA', { timeZone: zone }); // throws a RangeError for an unknown zone
  return zone;
}

/** Calendar day of an instant in a time zone, as YYYY-MM-DD. */
export function dayIn(timeZone: string, at: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

interface SeqRow {
  seq: number;
  msgid: string;
}

async function fillSeq(tx: EntityManager, corpId: string, seq: number): Promise<void> {
  const [gap]: { id: string; from_seq: string; to_seq: string; state: string }[] = await tx.query(
    `SELECT id, from_seq, to_seq, state FROM completeness_gap
      WHERE corp_id = ? AND state IN ('suspected', 'alerted') AND from_seq <= ? AND to_seq >= ? LIMIT 1`,
    [corpId, seq, seq],
  );
  if (!gap) return;
  const from = Number(gap.from_seq);
  const to = Number(gap.to_seq);
  if (from === to) {
    await tx.query(`UPDATE completeness_gap SET state = 'filled', filled_at = NOW(3) WHERE id = ?`, [gap.id]);
  } else if (seq === from) {
    await tx.query('UPDATE completeness_gap SET from_seq = ? WHERE id = ?', [seq + 1, gap.id]);
  } else if (seq === to) {
    await tx.query('UPDATE completeness_gap SET to_seq = ? WHERE id = ?', [seq - 1, gap.id]);
  } else {
    await tx.query('UPDATE completeness_gap SET to_seq = ? WHERE id = ?', [seq - 1, gap.id]);
    await tx.query(
      `INSERT INTO completeness_gap (corp_id, from_seq, to_seq, state, detected_at, alerted_at)
       SELECT corp_id, ?, ?, state, detected_at, alerted_at FROM completeness_gap WHERE id = ?`,
      [seq + 1, to, gap.id],
    );
  }
}

async function openGap(tx: EntityManager, corpId: string, from: number, to: number): Promise<void> {
  await tx.query(
    `INSERT INTO completeness_gap (corp_id, from_seq, to_seq, state, detected_at) VALUES (?, ?, ?, 'suspected', NOW(3))`,
    [corpId, from, to],
  );
}

/**
 * Records the seqs of a batch about to be stored (call inside the batch transaction, BEFORE the
 * idempotent insert): new seqs extend the tracked range or fill gaps, a seq already stored under
 * the same msgid is a duplicate, under another msgid a conflict (alerted at once, and still
 * stored: nothing is dropped).
 */
export async function trackSeqs(tx: EntityManager, rows: MessageRow[], timeZone: string): Promise<void> {
  const byCorp = new Map<string, SeqRow[]>();
  for (const { message } of rows) {
    if (message.seq === undefined) continue;
    const list = byCorp.get(message.corpId) ?? [];
    list.push({ seq: message.seq, msgid: message.msgid });
    byCorp.set(message.corpId, list);
  }
  const day = dayIn(timeZone, new Date());
  // a fixed lock order across corps: two replicas never wait on each other in a cycle
  for (const corpId of [...byCorp.keys()].sort()) {
    const incoming = byCorp.get(corpId)!.sort((a, b) => a.seq - b.seq);
    await tx.query('INSERT IGNORE INTO wecom_seq_tracker (corp_id) VALUES (?)', [corpId]);
    const [tracker]: { low_seq: string | null; high_seq: string | null }[] = await tx.query(
      'SELECT low_seq, high_seq FROM wecom_seq_tracker WHERE corp_id = ? FOR UPDATE',
      [corpId],
    );
    let low = tracker?.low_seq == null ? null : Number(tracker.low_seq);
    let high = tracker?.high_seq == null ? null : Number(tracker.high_seq);

    const seqs = [...new Set(incoming.map((r) => r.seq))];
    const msgids = [...new Set(incoming.map((r) => r.msgid))];
    const bySeq = new Map<number, Set<string>>();
    const storedSeqOf = new Map<string, number | null>();
    for (const r of (await tx.query('SELECT seq, msgid FROM message WHERE corp_id = ? AND seq IN (?)', [
      corpId,
      seqs,
    ])) as { seq: string; msgid: string }[]) {
      const set = bySeq.get(Number(r.seq)) ?? new Set<string>();
      set.add(r.msgid);
      bySeq.set(Number(r.seq), set);
    }
    for (const r of (await tx.query('SELECT msgid, seq FROM message WHERE corp_id = ? AND msgid IN (?)', [
      corpId,
      msgids,
    ])) as { msgid: string; seq: string | null }[]) {
      storedSeqOf.set(r.msgid, r.seq === null ? null : Number(r.seq));
    }

    const alerts: AlertV1[] = [];
    const fresh: number[] = [];
    let duplicates = 0;
    let conflicts = 0;
    for (const { seq, msgid } of incoming) {
      const holders = bySeq.get(seq) ?? new Set<string>();
      if (storedSeqOf.has(msgid)) {
        // this msgid is archived already: the insert will leave it as it is
        duplicates += 1;
        const storedSeq = storedSeqOf.get(msgid);
        if (storedSeq !== seq && storedSeq !== undefined) {
          conflicts += 1;
          alerts.push(
            completenessAlert({
              corpId,
              kind: 'seq_conflict',
              severity: 'warning',
              source: SOURCE,
              fromSeq: seq,
              toSeq: seq,
              msgid,
              detail: { reason: 'msgid archived under another seq', storedSeq },
            }),
          );
        }
        continue;
      }
      storedSeqOf.set(msgid, seq);
      if (holders.size > 0) {
        conflicts += 1;
        alerts.push(
          completenessAlert({
            corpId,
            kind: 'seq_conflict',
            severity: 'critical',
            source: SOURCE,
            fromSeq: seq,
            toSeq: seq,
            msgid,
            detail: { reason: 'seq archived under another msgid', otherMsgids: [...holders].slice(0, 10) },
          }),
        );
        holders.add(msgid);
        continue;
      }
      holders.add(msgid);
      bySeq.set(seq, holders);
      fresh.push(seq);
      if (high === null || low === null) {
        low = seq;
        high = seq;
      } else if (seq > high) {
        if (seq > high + 1) await openGap(tx, corpId, high + 1, seq - 1);
        high = seq;
      } else if (seq < low) {
        if (seq < low - 1) await openGap(tx, corpId, seq + 1, low - 1);
        low = seq;
      } else {
        await fillSeq(tx, corpId, seq);
      }
    }
    await insertCompletenessAlerts(tx, alerts);
    await tx.query(
      `UPDATE wecom_seq_tracker SET low_seq = ?, high_seq = ?, seq_records = seq_records + ?,
         duplicates = duplicates + ?, conflicts = conflicts + ?, updated_at = NOW(3) WHERE corp_id = ?`,
      [low, high, fresh.length, duplicates, conflicts, corpId],
    );
    const stored = incoming.length - duplicates;
    const first = fresh.length > 0 ? Math.min(...fresh) : null;
    const last = fresh.length > 0 ? Math.max(...fresh) : null;
    await tx.query(
      `INSERT INTO completeness_day (corp_id, day, received, stored, duplicates, conflicts, first_seq, last_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE received = received + VALUES(received), stored = stored + VALUES(stored),
         duplicates = duplicates + VALUES(duplicates), conflicts = conflicts + VALUES(conflicts),
         first_seq = CASE WHEN first_seq IS NULL THEN VALUES(first_seq)
                          WHEN VALUES(first_seq) IS NULL THEN first_seq
                          ELSE LEAST(first_seq, VALUES(first_seq)) END,
         last_seq = CASE WHEN last_seq IS NULL THEN VALUES(last_seq)
                         WHEN VALUES(last_seq) IS NULL THEN last_seq
                         ELSE GREATEST(last_seq, VALUES(last_seq)) END`,
      [corpId, day, incoming.length, stored, duplicates, conflicts, first, last],
    );
  }
}

/**
 * Gaps still open after the grace period become alerts. Safe with several replicas: the state
 * change is conditional, and only the replica whose UPDATE changed the row raises the alert.
 */
export async function promoteGaps(db: DataSource, graceMs: number): Promise<number> {
  const due: { id: string; corp_id: string; from_seq: string; to_seq: string }[] = await db.query(
    `SELECT id, corp_id, from_seq, to_seq FROM completeness_gap
      WHERE state = 'suspected' AND detected_at < DATE_SUB(NOW(3), INTERVAL ? MICROSECOND)
      ORDER BY detected_at LIMIT 500`,
    [graceMs * 1000],
  );
  let raised = 0;
  for (const gap of due) {
    await db.transaction(async (tx) => {
      const result = (await tx.query(
        `UPDATE completeness_gap SET state = 'alerted', alerted_at = NOW(3) WHERE id = ? AND state = 'suspected'`,
        [gap.id],
      )) as { affectedRows?: number };
      if ((result.affectedRows ?? 0) === 0) return;
      const from = Number(gap.from_seq);
      const to = Number(gap.to_seq);
      await insertCompletenessAlerts(tx, [
        completenessAlert({
          corpId: gap.corp_id,
          kind: 'seq_gap',
          severity: 'critical',
          source: SOURCE,
          fromSeq: from,
          toSeq: to,
          detail: { missing: to - from + 1, gapId: String(gap.id), graceMs },
        }),
      ]);
      raised += 1;
    });
  }
  return raised;
}

/**
 * Publishes unpublished `completeness_alert` rows (of the archiver and the puller) to cz.alert.v1,
 * sealed like every Cunzheng record, then marks them. At least once: a crash between the send and
 * the mark sends an alert again, with the same id.
 */
export async function publishAlerts(db: DataSource, producer: Producer, keys: KeyProvider): Promise<number> {
  const rows: { id: string; detail: string | AlertV1 }[] = await db.query(
    'SELECT id, detail FROM completeness_alert WHERE published_at IS NULL ORDER BY raised_at LIMIT 200',
  );
  if (rows.length === 0) return 0;
  const records = [];
  for (const row of rows) {
    const alert = (typeof row.detail === 'string' ? JSON.parse(row.detail) : row.detail) as AlertV1;
    records.push(await alertRecord(alert, keys));
  }
  await sendDurably(producer, Topics.alerts, records);
  await db.query(
    'UPDATE completeness_alert SET published_at = NOW(3) WHERE id IN (?) AND published_at IS NULL',
    [rows.map((r) => r.id)],
  );
  return rows.length;
}

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

/** Start (inclusive) and end (exclusive) of a calendar day in a time zone, as UTC instants. */
function dayBounds(day: string, timeZone: string): [Date, Date] {
  const guess = new Date(`${day}T00:00:00Z`);
  // offset of the zone at that day: format the UTC midnight in the zone and compare
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(guess);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asZone = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
  const start = new Date(guess.getTime() - (asZone - guess.getTime()));
  return [start, new Date(start.getTime() + 24 * 3600 * 1000)];
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
  const result = (await db.query(
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
  )) as { affectedRows?: number };
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
