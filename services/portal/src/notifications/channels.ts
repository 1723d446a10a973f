import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type {
  AlertSeverity,
  DeliveryStatus,
  LexiconCategory,
  NotificationChannelInput,
  NotificationChannelKind,
  NotificationChannelView,
  NotificationDeliveryQuery,
  NotificationDeliveryView,
  SlaPolicyRule,
} from '@cz/contracts';
import { AppError } from '@cz/common';
import { openBuffer, sealBuffer, sealedKeyInfo, type KeyProvider, type SealBinding } from '@cz/common/crypto';

/*
 * Notification channels as the admins keep them. The compliance service sends (services/compliance
 * src/workflow): the portal only writes channel rows, queues channel tests and re-arms dead
 * deliveries. The target (a URL whose path or query may hold a robot key, or e-mail recipients)
 * is sealed (`audit` class) and bound to its channel; the row keeps only what the console may
 * show: the URL's origin, or the recipients' domains.
 */

/** The same binding the compliance service opens the target with. */
export const notificationChannelBinding = (id: string): SealBinding => ({
  kind: 'notification_channel',
  corp: '*',
  id,
});

interface Target {
  url?: string;
  to?: string[];
}

const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const invalid = (message: string) => new AppError(400, 'validation_failed', message);

/** An http(s) URL without credentials in it; returns its origin (what the console may show). */
export function checkTargetUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('url: not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('url: only http and https URLs');
  if (url.username || url.password) throw invalid('url: no user name or password in the URL');
  if (!url.hostname) throw invalid('url: no host');
  return url.origin;
}

function checkRecipients(to: readonly string[]): string[] {
  const out: string[] = [];
  for (const address of to) {
    const trimmed = address.trim();
    if (!EMAIL.test(trimmed) || trimmed.length > 200) throw invalid('to: not an e-mail address');
    if (!out.includes(trimmed.toLowerCase())) out.push(trimmed.toLowerCase());
  }
  if (out.length === 0) throw invalid('to: at least one recipient');
  return out;
}

/** What an e-mail channel shows: its recipients' domains (the addresses themselves are sealed). */
const recipientsSummary = (to: readonly string[]) =>
  `mailto:${[...new Set(to.map((a) => a.slice(a.indexOf('@'))))].join(',')} (${to.length})`.slice(0, 300);

/**
 * The target of `input`, checked; `null` when an update leaves it out (the stored one stays,
 * since the console never gets it back).
 */
function targetOf(
  input: NotificationChannelInput,
  required: boolean,
): { target: Target; shown: string } | null {
  if (input.kind === 'email') {
    if (input.url !== undefined) throw invalid('url: an e-mail channel has recipients, not a URL');
    if (input.to === undefined) {
      if (required) throw invalid('to: an e-mail channel needs recipients');
      return null;
    }
    const to = checkRecipients(input.to);
    return { target: { to }, shown: recipientsSummary(to) };
  }
  if (input.to !== undefined) throw invalid(`to: a ${input.kind} channel has a URL, not recipients`);
  if (input.url === undefined) {
    if (required) throw invalid('url: this channel needs a URL');
    return null;
  }
  return { target: { url: input.url }, shown: checkTargetUrl(input.url) };
}

interface ChannelRow {
  id: string;
  name: string;
  kind: NotificationChannelKind;
  target_origin: string;
  min_severity: AlertSeverity;
  categories: string | LexiconCategory[];
  on_escalation: number;
  enabled: number;
  last_error: string | null;
  updated_at: Date;
}

const COLUMNS =
  'id, name, kind, target_origin, min_severity, categories, on_escalation, enabled, last_error, updated_at';

const categoriesOf = (value: string | LexiconCategory[]): LexiconCategory[] =>
  typeof value === 'string' ? (JSON.parse(value) as LexiconCategory[]) : value;

/**
 * The channels as admins see them: a URL channel by its origin (the path or query may hold a
 * robot key), an e-mail channel by its recipients (opened from the sealed target: the row keeps
 * only their domains).
 */
export async function listChannels(
  db: DataSource,
  keys: KeyProvider,
  id?: string,
): Promise<NotificationChannelView[]> {
  const rows = await db.query<(ChannelRow & { sealed_target: Buffer })[]>(
    `SELECT ${COLUMNS}, sealed_target FROM notification_channel ${id ? 'WHERE id = ?' : ''} ORDER BY created_at, id`,
    id ? [id] : [],
  );
  const counts = await db.query<{ channel_id: string; status: DeliveryStatus; n: string | number }[]>(
    `SELECT channel_id, status, COUNT(*) AS n FROM notification_delivery
     WHERE event <> 'test' ${id ? 'AND channel_id = ?' : ''} GROUP BY channel_id, status`,
    id ? [id] : [],
  );
  const views: NotificationChannelView[] = [];
  for (const r of rows) {
    const of = (status: DeliveryStatus) =>
      Number(counts.find((c) => c.channel_id === r.id && c.status === status)?.n ?? 0);
    const target =
      r.kind === 'email'
        ? (
            (
              JSON.parse(
                (await openBuffer(r.sealed_target, keys, notificationChannelBinding(r.id))).toString('utf8'),
              ) as Target
            ).to ?? []
          ).join(', ')
        : r.target_origin;
    views.push({
      id: r.id,
      name: r.name,
      kind: r.kind,
      target,
      minSeverity: r.min_severity,
      categories: categoriesOf(r.categories),
      onEscalation: r.on_escalation === 1,
      enabled: r.enabled === 1,
      counts: { sent: of('sent'), retrying: of('retrying') + of('pending'), dead: of('dead') },
      lastError: r.last_error,
      updatedAt: new Date(r.updated_at).toISOString(),
    });
  }
  return views;
}

export async function getChannel(
  db: DataSource,
  keys: KeyProvider,
  id: string,
): Promise<NotificationChannelView> {
  const [view] = await listChannels(db, keys, id);
  if (!view) throw new AppError(404, 'not_found', 'no such notification channel');
  return view;
}

async function sealTarget(keys: KeyProvider, id: string, target: Target) {
  const sealed = await sealBuffer(
    Buffer.from(JSON.stringify(target)),
    keys,
    'audit',
    notificationChannelBinding(id),
  );
  const { kekId, kekVersion } = sealedKeyInfo(sealed);
  return { sealed, kekId, kekVersion };
}

export async function createChannel(
  db: DataSource,
  keys: KeyProvider,
  input: NotificationChannelInput,
  actor: string,
): Promise<NotificationChannelView> {
  const checked = targetOf(input, true)!;
  const id = randomBytes(16).toString('hex');
  const { sealed, kekId, kekVersion } = await sealTarget(keys, id, checked.target);
  const now = new Date();
  await db.query(
    `INSERT INTO notification_channel (id, name, kind, target_origin, kek_id, kek_version, sealed_target, min_severity,
       categories, on_escalation, enabled, created_by, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      input.name.trim(),
      input.kind,
      checked.shown,
      kekId,
      kekVersion,
      sealed,
      input.minSeverity,
      JSON.stringify([...new Set(input.categories)]),
      input.onEscalation ? 1 : 0,
      input.enabled ? 1 : 0,
      actor,
      now,
      now,
    ],
  );
  return getChannel(db, keys, id);
}

/**
 * Updates a channel; without `url` / `to` the sealed target stays (the kind may not change then:
 * a stored URL is no e-mail recipient list).
 */
export async function updateChannel(
  db: DataSource,
  keys: KeyProvider,
  id: string,
  input: NotificationChannelInput,
): Promise<{ before: NotificationChannelView; after: NotificationChannelView; targetChanged: boolean }> {
  const before = await getChannel(db, keys, id);
  const checked = targetOf(input, before.kind !== input.kind);
  const now = new Date();
  const fields = [
    input.name.trim(),
    input.kind,
    input.minSeverity,
    JSON.stringify([...new Set(input.categories)]),
  ];
  const flags = [input.onEscalation ? 1 : 0, input.enabled ? 1 : 0, now];
  if (checked) {
    const { sealed, kekId, kekVersion } = await sealTarget(keys, id, checked.target);
    await db.query(
      `UPDATE notification_channel SET name = ?, kind = ?, min_severity = ?, categories = ?, on_escalation = ?,
         enabled = ?, updated_at = ?, target_origin = ?, kek_id = ?, kek_version = ?, sealed_target = ?, last_error = NULL
       WHERE id = ?`,
      [...fields, ...flags, checked.shown, kekId, kekVersion, sealed, id],
    );
  } else {
    await db.query(
      `UPDATE notification_channel SET name = ?, kind = ?, min_severity = ?, categories = ?, on_escalation = ?,
         enabled = ?, updated_at = ? WHERE id = ?`,
      [...fields, ...flags, id],
    );
  }
  return { before, after: await getChannel(db, keys, id), targetChanged: checked !== null };
}

/** Deletes a channel and its deliveries (nothing is sent for it afterwards). */
export async function deleteChannel(
  db: DataSource,
  keys: KeyProvider,
  id: string,
): Promise<NotificationChannelView> {
  const before = await getChannel(db, keys, id);
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM notification_delivery WHERE channel_id = ?', [id]);
    await tx.query('DELETE FROM notification_channel WHERE id = ?', [id]);
  });
  return before;
}

/** Whether a channel's sealed target opens for its own row (tests, diagnostics). */
export async function openChannelTarget(db: DataSource, keys: KeyProvider, id: string): Promise<Target> {
  const [row] = await db.query<{ sealed_target: Buffer }[]>(
    'SELECT sealed_target FROM notification_channel WHERE id = ?',
    [id],
  );
  if (!row) throw new AppError(404, 'not_found', 'no such notification channel');
  return JSON.parse(
    (await openBuffer(row.sealed_target, keys, notificationChannelBinding(id))).toString('utf8'),
  ) as Target;
}

// ---------------------------------------------------------------------------------------------
// Deliveries

interface DeliveryRow {
  id: string | number;
  channel_id: string;
  alert_id: string;
  event: NotificationDeliveryView['event'];
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);

const deliveryView = (r: DeliveryRow): NotificationDeliveryView => ({
  id: String(r.id),
  channelId: r.channel_id,
  alertId: r.alert_id,
  event: r.event,
  status: r.status,
  attempts: Number(r.attempts),
  nextAttemptAt: iso(r.next_attempt_at),
  lastError: r.last_error,
  createdAt: new Date(r.created_at).toISOString(),
  sentAt: iso(r.sent_at),
});

const DELIVERY_COLUMNS =
  'id, channel_id, alert_id, event, status, attempts, next_attempt_at, last_error, created_at, sent_at';

export async function listDeliveries(
  db: DataSource,
  query: NotificationDeliveryQuery,
): Promise<NotificationDeliveryView[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.status) {
    where.push('status = ?');
    params.push(query.status);
  }
  if (query.channelId) {
    where.push('channel_id = ?');
    params.push(query.channelId);
  }
  const rows = await db.query<DeliveryRow[]>(
    `SELECT ${DELIVERY_COLUMNS} FROM notification_delivery ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY id DESC LIMIT ?`,
    [...params, query.limit ?? 50],
  );
  return rows.map(deliveryView);
}

export async function getDelivery(
  db: DataSource | EntityManager,
  id: string,
): Promise<NotificationDeliveryView | null> {
  const [row] = await db.query<DeliveryRow[]>(
    `SELECT ${DELIVERY_COLUMNS} FROM notification_delivery WHERE id = ?`,
    [id],
  );
  return row ? deliveryView(row) : null;
}

/** A dead delivery goes back to the sender's queue with a fresh set of attempts. */
export async function retryDelivery(db: DataSource, id: string): Promise<NotificationDeliveryView> {
  const before = await getDelivery(db, id);
  if (!before) throw new AppError(404, 'not_found', 'no such delivery');
  if (before.event === 'test')
    throw new AppError(409, 'not_retryable', 'a channel test is not retried; test again');
  const result = await db.query<{ affectedRows?: number }>(
    `UPDATE notification_delivery SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_owner = NULL,
       lease_until = NULL WHERE id = ? AND status = 'dead'`,
    [new Date(), id],
  );
  if ((result.affectedRows ?? 0) !== 1)
    throw new AppError(
      409,
      'not_dead',
      `only a dead delivery is retried by hand (this one is ${before.status})`,
    );
  return (await getDelivery(db, id))!;
}

/**
 * Queues a channel test for the compliance service's sender (event `test`, a random alert id,
 * one attempt) and waits, at most `waitMs`, for its outcome. The portal sends nothing itself:
 * the same sender, network path and timeouts as real alerts are tested.
 */
export async function testChannel(
  db: DataSource,
  id: string,
  waitMs: number,
): Promise<{ status: DeliveryStatus; error: string | null }> {
  const [exists] = await db.query<{ id: string }[]>('SELECT id FROM notification_channel WHERE id = ?', [id]);
  if (!exists) throw new AppError(404, 'not_found', 'no such notification channel');
  const now = new Date();
  const result = await db.query<{ insertId?: number | string }>(
    `INSERT INTO notification_delivery (channel_id, alert_id, event, status, attempts, next_attempt_at, created_at)
     VALUES (?, ?, 'test', 'pending', 0, ?, ?)`,
    [id, randomBytes(32).toString('hex'), now, now],
  );
  const deliveryId = String(result.insertId);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const delivery = await getDelivery(db, deliveryId);
    if (!delivery) return { status: 'dead', error: 'the test was removed before it was sent' };
    if (delivery.status !== 'pending') return { status: delivery.status, error: delivery.lastError };
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // nobody took it in time: withdraw it (unless a sender is on it right now)
  await db.query(
    "DELETE FROM notification_delivery WHERE id = ? AND status = 'pending' AND lease_owner IS NULL",
    [deliveryId],
  );
  return {
    status: 'pending',
    error: `the compliance service did not send the test within ${Math.round(waitMs / 1000)} s`,
  };
}

// ---------------------------------------------------------------------------------------------
// SLA rules

export async function getSlaRules(db: DataSource): Promise<SlaPolicyRule[]> {
  const rows = await db.query<{ category: string; severity: string; hours: string | number }[]>(
    'SELECT category, severity, hours FROM compliance_sla_rule ORDER BY category, severity',
  );
  return rows.map((r) => ({
    category: r.category as SlaPolicyRule['category'],
    severity: r.severity as SlaPolicyRule['severity'],
    hours: Number(r.hours),
  }));
}

/** Replaces every SLA rule (one transaction); a (category, severity) pair at most once. */
export async function replaceSlaRules(
  db: DataSource,
  rules: readonly SlaPolicyRule[],
  actor: string,
): Promise<void> {
  const seen = new Set<string>();
  for (const rule of rules) {
    const key = `${rule.category}/${rule.severity}`;
    if (seen.has(key)) throw invalid(`rules: ${key} appears twice`);
    seen.add(key);
    if (Math.round(rule.hours * 100) / 100 !== rule.hours)
      throw invalid('rules: hours with at most two decimals');
  }
  const now = new Date();
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM compliance_sla_rule');
    for (const rule of rules)
      await tx.query(
        'INSERT INTO compliance_sla_rule (category, severity, hours, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)',
        [rule.category, rule.severity, rule.hours, actor, now],
      );
  });
}
