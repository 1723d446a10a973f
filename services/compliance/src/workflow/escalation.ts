import type { DataSource } from 'typeorm';
import type { AlertSeverity, LexiconCategory, SlaPolicyRule } from '@cz/contracts';
import { enabledChannels, queueDeliveries, type ChannelFilter } from './channels';
import { loadSlaRules, slaDueAt, slaHours } from './sla';

const ACTIVE = "('open', 'acknowledged', 'escalated')";

export interface OverdueRow {
  id: string;
  corp_id: string;
  category: string | null;
  severity: AlertSeverity;
  status: string;
  org_unit_id: string | null;
  assigned_org_unit_id: string | null;
  row_version: number;
}

/**
 * SLA escalation (REG-11): every active alert whose due time has passed moves one level up the org
 * tree (the parent of the unit it is assigned to; at the root it stays there), becomes
 * `escalated` with a fresh SLA period from now, gets an event row and queues escalation
 * notifications. One level per SLA period: an escalated alert overdue again escalates again.
 *
 * Safe with several replicas and with people acting at the same time: each row changes only if
 * its `row_version` is still the one read (a concurrent acknowledge or resolve wins; a second
 * replica's update changes nothing). Returns the number of alerts escalated.
 */
export async function escalateOverdue(db: DataSource, now = new Date(), limit = 200): Promise<number> {
  const overdue = await overdueAlerts(db, now, limit);
  if (overdue.length === 0) return 0;
  const context = { rules: await loadSlaRules(db), channels: await enabledChannels(db) };
  let escalated = 0;
  for (const alert of overdue) if (await escalateAlert(db, alert, context, now)) escalated += 1;
  return escalated;
}

/**
 * Escalates one alert as read in `alert`; false when the row changed since (its row_version moved
 * on: a person acted, or another replica escalated it first) or is no longer overdue.
 */
export async function escalateAlert(
  db: DataSource,
  alert: OverdueRow,
  context: { rules: SlaPolicyRule[]; channels: ChannelFilter[] },
  now = new Date(),
): Promise<boolean> {
  const current = alert.assigned_org_unit_id ?? alert.org_unit_id;
  const parent = current ? await parentUnit(db, alert.corp_id, current) : null;
  const assigned = parent ?? current;
  const hours = slaHours(context.rules, alert.category as LexiconCategory | null, alert.severity);
  const dueAt = slaDueAt(hours, { category: null, recordTime: null, raisedAt: now, retroactive: true });
  return db.transaction('READ COMMITTED', async (tx) => {
    const result = await tx.query<{ affectedRows?: number }>(
      `UPDATE compliance_alert
       SET status = 'escalated', escalation_level = LEAST(escalation_level + 1, 255),
           assigned_org_unit_id = ?, due_at = ?, updated_at = ?, last_actor = 'system',
           row_version = row_version + 1
       WHERE id = ? AND row_version = ? AND status IN ${ACTIVE} AND due_at <= ?`,
      [assigned, dueAt, now, alert.id, alert.row_version, now],
    );
    if ((result.affectedRows ?? 0) !== 1) return false;
    await tx.query(
      `INSERT INTO compliance_alert_event (alert_id, at, actor, action, from_status, to_status)
       VALUES (?, ?, 'system', 'sla_escalated', ?, 'escalated')`,
      [alert.id, now, alert.status],
    );
    await queueDeliveries(tx, context.channels, alert, 'escalated', now);
    return true;
  });
}

/** Active alerts past their due time, oldest due first. */
export async function overdueAlerts(db: DataSource, now: Date, limit: number): Promise<OverdueRow[]> {
  return db.query<OverdueRow[]>(
    `SELECT id, corp_id, category, severity, status, org_unit_id, assigned_org_unit_id, row_version
     FROM compliance_alert WHERE status IN ${ACTIVE} AND due_at <= ? ORDER BY due_at LIMIT ?`,
    [now, limit],
  );
}

async function parentUnit(db: DataSource, corpId: string, unitId: string): Promise<string | null> {
  const [row] = await db.query<{ parent_id: string | null }[]>(
    'SELECT parent_id FROM org_unit WHERE corp_id = ? AND id = ?',
    [corpId, unitId],
  );
  return row?.parent_id ?? null;
}
