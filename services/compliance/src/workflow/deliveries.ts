import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { sealBuffer, sealedKeyInfo, type KeyProvider, type SealBinding } from '@cz/common/crypto';
import { openChannel, type OpenedChannel } from './channels';
import { SendError, type AlertNotice, type Sender } from './senders';
import type { WorkflowSettings } from './settings';

interface LeasedDelivery {
  id: string;
  channel_id: string;
  alert_id: string;
  event: 'raised' | 'escalated' | 'test';
  attempts: number;
}

interface AlertRow {
  id: string;
  corp_id: string;
  kind: string;
  category: string | null;
  severity: string;
  status: string;
  raised_at: Date;
  due_at: Date | null;
  escalation_level: number;
}

export interface SendSweepResult {
  sent: number;
  retrying: number;
  dead: number;
}

/** A note on an alert's history is bound to the alert (the portal opens it with the same binding). */
export const alertEventBinding = (corpId: string, alertId: string): SealBinding => ({
  kind: 'compliance_alert_event',
  corp: corpId,
  id: alertId,
});

/** The wait before attempt `attempts + 1` (the last value repeats). */
export const backoffMs = (settings: WorkflowSettings, attempts: number) =>
  settings.retryBackoffMs[Math.min(attempts - 1, settings.retryBackoffMs.length - 1)] ?? 60000;

/**
 * Sends the due deliveries (pending, or retrying whose next attempt has come). Each sweep leases
 * its rows first (lease owner and expiry, one UPDATE), so replicas never send the same delivery at
 * the same time and a replica that dies mid-send leaves rows another takes over when the lease
 * ends. Sends run `sendConcurrency` at a time, each bounded by the request timeout: a receiver
 * that hangs or fails delays only its own deliveries. A failure is retried with backoff; after
 * `maxAttempts` the delivery is dead (kept with its last error until an operator retries it).
 * Channel tests (`event = 'test'`, queued by the portal) get one attempt. A disabled channel's
 * deliveries wait (they go out if it is enabled again); its tests still run.
 */
export async function sendDueDeliveries(
  db: DataSource,
  keys: KeyProvider,
  settings: WorkflowSettings,
  send: Sender,
): Promise<SendSweepResult> {
  const now = new Date();
  const lease = `${settings.replicaId.slice(0, 40)}/${randomBytes(8).toString('hex')}`;
  await db.query(
    `UPDATE notification_delivery SET lease_owner = ?, lease_until = ?
     WHERE status IN ('pending', 'retrying') AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)
       AND (event = 'test' OR channel_id IN (SELECT id FROM notification_channel WHERE enabled = 1))
     ORDER BY next_attempt_at LIMIT ?`,
    [lease, new Date(now.getTime() + settings.leaseMs), now, now, settings.batchSize],
  );
  const leased = await db.query<LeasedDelivery[]>(
    'SELECT id, channel_id, alert_id, event, attempts FROM notification_delivery WHERE lease_owner = ?',
    [lease],
  );
  const result: SendSweepResult = { sent: 0, retrying: 0, dead: 0 };
  if (leased.length === 0) return result;

  const channels = new Map<string, Promise<OpenedChannel | null>>();
  const channelOf = (id: string) => {
    let channel = channels.get(id);
    if (!channel) channels.set(id, (channel = openChannel(db, keys, id)));
    return channel;
  };

  const deliverOne = async (delivery: LeasedDelivery) => {
    let alert: AlertRow | null = null;
    let error: string | null = null;
    let channel: OpenedChannel | null = null;
    try {
      channel = await channelOf(delivery.channel_id);
      if (!channel) throw new SendError('channel no longer exists');
      alert = delivery.event === 'test' ? null : await loadAlert(db, delivery.alert_id);
      if (delivery.event !== 'test' && !alert) throw new SendError('alert not found');
      await send(channel.kind, channel.target, notice(settings, delivery, alert));
    } catch (err) {
      error = err instanceof SendError ? err.message : 'internal error while sending';
    }
    const attempts = delivery.attempts + 1;
    const at = new Date();
    const status =
      error === null
        ? 'sent'
        : delivery.event === 'test' || attempts >= settings.maxAttempts
          ? 'dead'
          : 'retrying';
    const update = await db.query<{ affectedRows?: number }>(
      `UPDATE notification_delivery SET status = ?, attempts = ?, last_error = ?, sent_at = ?,
         next_attempt_at = ?, lease_owner = NULL, lease_until = NULL
       WHERE id = ? AND lease_owner = ?`,
      [
        status,
        attempts,
        error,
        status === 'sent' ? at : null,
        status === 'retrying' ? new Date(at.getTime() + backoffMs(settings, attempts)) : null,
        delivery.id,
        lease,
      ],
    );
    // lease lost (this sweep outlived it): whoever holds it now records the outcome
    if ((update.affectedRows ?? 0) !== 1) return;
    result[status] += 1;
    await db.query('UPDATE notification_channel SET last_error = ? WHERE id = ?', [
      error,
      delivery.channel_id,
    ]);
    if (alert && channel && status !== 'retrying') {
      const outcome =
        status === 'sent'
          ? `通知已发送（${channel.kind}，${delivery.event}，第 ${attempts} 次尝试）`
          : `通知失败，已停止重试（${channel.kind}，${delivery.event}，共 ${attempts} 次）：${error ?? ''}`;
      const sealedNote = await sealBuffer(
        Buffer.from(outcome),
        keys,
        'audit',
        alertEventBinding(alert.corp_id, alert.id),
      );
      const { kekId, kekVersion } = sealedKeyInfo(sealedNote);
      await db.query(
        `INSERT INTO compliance_alert_event (alert_id, at, actor, action, from_status, to_status, kek_id, kek_version, sealed_note)
         VALUES (?, ?, 'system', 'notified', NULL, NULL, ?, ?, ?)`,
        [alert.id, at, kekId, kekVersion, sealedNote],
      );
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < leased.length) await deliverOne(leased[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(settings.sendConcurrency, leased.length) }, worker));
  return result;
}

async function loadAlert(db: DataSource, id: string): Promise<AlertRow | null> {
  const [row] = await db.query<AlertRow[]>(
    `SELECT id, corp_id, kind, category, severity, status, raised_at, due_at, escalation_level
     FROM compliance_alert WHERE id = ?`,
    [id],
  );
  return row ?? null;
}

function notice(settings: WorkflowSettings, delivery: LeasedDelivery, alert: AlertRow | null): AlertNotice {
  const base = settings.consoleUrl.replace(/\/+$/, '');
  if (!alert) {
    const now = new Date().toISOString();
    return {
      event: 'test',
      alertId: delivery.alert_id,
      corpId: '-',
      kind: 'notification.test',
      category: null,
      severity: 'info',
      status: 'open',
      raisedAt: now,
      dueAt: null,
      escalationLevel: 0,
      consoleUrl: `${base}/alerts`,
    };
  }
  return {
    event: delivery.event,
    alertId: alert.id,
    corpId: alert.corp_id,
    kind: alert.kind,
    category: alert.category,
    severity: alert.severity,
    status: alert.status,
    raisedAt: new Date(alert.raised_at).toISOString(),
    dueAt: alert.due_at ? new Date(alert.due_at).toISOString() : null,
    escalationLevel: Number(alert.escalation_level),
    consoleUrl: `${base}/alerts?id=${alert.id}`,
  };
}
