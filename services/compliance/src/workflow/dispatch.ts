import type { DataSource } from 'typeorm';
import { enabledChannels, queueDeliveries } from './channels';

/**
 * The notification outbox: alerts with `notified_at` NULL get one `raised` delivery per enabled
 * channel that wants them, and `notified_at` is set in the same transaction. Rows are locked with
 * SKIP LOCKED, so replicas share the work without waiting on each other; READ COMMITTED, so the
 * locking read takes no gap locks on the unnotified index that would block (and deadlock with) the
 * scan flow inserting new alerts. Returns the number of alerts taken.
 */
export async function queueRaisedNotifications(
  db: DataSource,
  now = new Date(),
  limit = 100,
): Promise<number> {
  const channels = await enabledChannels(db);
  return db.transaction('READ COMMITTED', async (tx) => {
    const alerts = await tx.query<{ id: string; severity: string; category: string | null }[]>(
      `SELECT id, severity, category FROM compliance_alert WHERE notified_at IS NULL
       LIMIT ? FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    if (alerts.length === 0) return 0;
    for (const alert of alerts) await queueDeliveries(tx, channels, alert, 'raised', now);
    await tx.query(
      `UPDATE compliance_alert SET notified_at = ? WHERE id IN (${alerts.map(() => '?').join(', ')})`,
      [now, ...alerts.map((a) => a.id)],
    );
    return alerts.length;
  });
}
