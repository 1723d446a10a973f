import type { DataSource } from 'typeorm';
import type { Producer } from 'kafkajs';
import { Topics, type AlertV1 } from '@cz/contracts';
import { alertRecord, completenessAlert, insertCompletenessAlerts, sendDurably } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { COMPLETENESS_SOURCE } from './seq-tracker';

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
      const result = await tx.query<{ affectedRows?: number }>(
        `UPDATE completeness_gap SET state = 'alerted', alerted_at = NOW(3) WHERE id = ? AND state = 'suspected'`,
        [gap.id],
      );
      if ((result.affectedRows ?? 0) === 0) return;
      const from = Number(gap.from_seq);
      const to = Number(gap.to_seq);
      await insertCompletenessAlerts(tx, [
        completenessAlert({
          corpId: gap.corp_id,
          kind: 'seq_gap',
          severity: 'critical',
          source: COMPLETENESS_SOURCE,
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
