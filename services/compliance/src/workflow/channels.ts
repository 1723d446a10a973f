import type { DataSource, EntityManager } from 'typeorm';
import type { AlertSeverity, LexiconCategory, NotificationChannelKind } from '@cz/contracts';
import { openBuffer, type KeyProvider, type SealBinding } from '@cz/common/crypto';

/**
 * Notification channels as the sender sees them. The portal writes the rows (routes
 * notifications.ts); the target (URL with a robot key, or the recipients) is sealed with class
 * `audit` and bound to the channel, so a target copied onto another channel's row does not open.
 */
export const notificationChannelBinding = (id: string): SealBinding => ({
  kind: 'notification_channel',
  corp: '*',
  id,
});

/** What the sealed target holds. */
export interface ChannelTarget {
  url?: string;
  to?: string[];
}

export const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 1, warning: 2, critical: 3 };

export interface ChannelRow {
  id: string;
  kind: NotificationChannelKind;
  min_severity: AlertSeverity;
  categories: string | LexiconCategory[];
  on_escalation: number;
  enabled: number;
  sealed_target: Buffer;
}

export interface ChannelFilter {
  id: string;
  minSeverity: AlertSeverity;
  categories: LexiconCategory[];
  onEscalation: boolean;
}

const categoriesOf = (value: string | LexiconCategory[]): LexiconCategory[] =>
  typeof value === 'string' ? (JSON.parse(value) as LexiconCategory[]) : value;

/** The enabled channels and what they want (no target: matching needs none). */
export async function enabledChannels(db: DataSource | EntityManager): Promise<ChannelFilter[]> {
  const rows = await db.query<ChannelRow[]>(
    'SELECT id, kind, min_severity, categories, on_escalation, enabled FROM notification_channel WHERE enabled = 1',
  );
  return rows.map((r) => ({
    id: r.id,
    minSeverity: r.min_severity,
    categories: categoriesOf(r.categories),
    onEscalation: r.on_escalation === 1,
  }));
}

/** Whether `channel` wants an alert of this severity and category (empty categories: all). */
export function channelWants(
  channel: ChannelFilter,
  alert: { severity: string; category: string | null },
): boolean {
  const rank = SEVERITY_RANK[alert.severity as AlertSeverity] ?? 0;
  if (rank < SEVERITY_RANK[channel.minSeverity]) return false;
  if (channel.categories.length === 0) return true;
  return alert.category !== null && channel.categories.includes(alert.category as LexiconCategory);
}

/** A channel with its opened target, for sending. */
export interface OpenedChannel {
  id: string;
  kind: NotificationChannelKind;
  target: ChannelTarget;
}

export async function openChannel(
  db: DataSource | EntityManager,
  keys: KeyProvider,
  id: string,
): Promise<OpenedChannel | null> {
  const [row] = await db.query<ChannelRow[]>(
    'SELECT id, kind, sealed_target FROM notification_channel WHERE id = ?',
    [id],
  );
  if (!row) return null;
  const target = JSON.parse(
    (await openBuffer(row.sealed_target, keys, notificationChannelBinding(row.id))).toString('utf8'),
  ) as ChannelTarget;
  return { id: row.id, kind: row.kind, target };
}

/**
 * Queues one delivery of `event` per channel that wants the alert. `raised`: INSERT IGNORE on the
 * unique (channel, alert, event), so queuing twice sends once. `escalated`: one row per channel and
 * alert, re-armed at each further level (the row then shows the latest escalation's delivery).
 */
export async function queueDeliveries(
  db: DataSource | EntityManager,
  channels: readonly ChannelFilter[],
  alert: { id: string; severity: string; category: string | null },
  event: 'raised' | 'escalated',
  now: Date,
): Promise<number> {
  const wanted = channels.filter((c) => channelWants(c, alert) && (event === 'raised' || c.onEscalation));
  if (wanted.length === 0) return 0;
  const result = await db.query<{ affectedRows?: number }>(
    `INSERT ${event === 'raised' ? 'IGNORE' : ''} INTO notification_delivery (channel_id, alert_id, event, status, attempts, next_attempt_at, created_at)
     VALUES ${wanted.map(() => "(?, ?, ?, 'pending', 0, ?, ?)").join(', ')}
     ${
       event === 'escalated'
         ? `ON DUPLICATE KEY UPDATE status = 'pending', attempts = 0, next_attempt_at = VALUES(next_attempt_at),
            last_error = NULL, sent_at = NULL, lease_owner = NULL, lease_until = NULL`
         : ''
     }`,
    wanted.flatMap((c) => [c.id, alert.id, event, now, now]),
  );
  return result.affectedRows ?? 0;
}
