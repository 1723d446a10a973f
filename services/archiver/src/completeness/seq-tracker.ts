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
import type { EntityManager } from 'typeorm';
import type { AlertV1 } from '@cz/contracts';
import { completenessAlert, insertCompletenessAlerts } from '@cz/common';
import type { MessageRow } from '../rows';
import { dayIn } from './calendar-day';

/** `source` of the completeness alerts the archiver raises. */
export const COMPLETENESS_SOURCE = 'archiver';

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
    for (const r of await tx.query<{ seq: string; msgid: string }[]>(
      'SELECT seq, msgid FROM message WHERE corp_id = ? AND seq IN (?)',
      [corpId, seqs],
    )) {
      const set = bySeq.get(Number(r.seq)) ?? new Set<string>();
      set.add(r.msgid);
      bySeq.set(Number(r.seq), set);
    }
    for (const r of await tx.query<{ msgid: string; seq: string | null }[]>(
      'SELECT msgid, seq FROM message WHERE corp_id = ? AND msgid IN (?)',
      [corpId, msgids],
    )) {
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
              source: COMPLETENESS_SOURCE,
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
            source: COMPLETENESS_SOURCE,
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
