import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import type {
  ErrorReply,
  LoginReply,
  NotificationChannelListReply,
  NotificationChannelView,
  NotificationDeliveryListReply,
  NotificationDeliveryView,
  NotificationTestReply,
  SlaPolicy,
} from '@cz/contracts';
import { createMainDataSource, createServer, keyProviderFromEnv } from '@cz/common';
import { createTestDatabase, loadStackEnv, type TestDatabase } from '@cz/testkit';
import portal from '../src/app';
import { upsertUser } from '../src/users';
import { verifyAuditChain } from '../src/audit';
import { openChannelTarget } from '../src/notifications/channels';

loadStackEnv();
const keys = keyProviderFromEnv();
const ROBOT_KEY = 'f00dcafe-1234-robot-key';
const ROBOT_URL = `https://qyapi.bank.local/cgi-bin/webhook/send?key=${ROBOT_KEY}`;

const USERS = {
  admin: { roles: ['admin' as const], password: 'Admin#2026' },
  officer: { roles: ['risk_officer' as const], password: 'Officer#2026' },
  auditor: { roles: ['auditor' as const], password: 'Auditor#2026' },
};
type UserName = keyof typeof USERS;

const webhookInput = (over: Record<string, unknown> = {}) => ({
  name: '合规机器人',
  kind: 'wecom_robot',
  url: ROBOT_URL,
  minSeverity: 'warning',
  categories: ['complaint', 'guaranteed_return'],
  onEscalation: true,
  enabled: true,
  ...over,
});

describe('portal notification channels, deliveries and SLA rules (admins; real MariaDB)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let app: ReturnType<typeof createServer>;
  const tokens = new Map<UserName, string>();

  const api = (
    user: UserName | null,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
  ) =>
    app.inject({
      method,
      url,
      headers: user ? { authorization: `Bearer ${tokens.get(user)!}` } : {},
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  const auditOf = (action: string) =>
    db.query<{ actor: string; target: string; detail: string | Record<string, unknown> }>(
      'SELECT actor, target, detail FROM audit_event WHERE action = ? ORDER BY seq',
      [action],
    );
  const detailOf = (row: { detail: string | Record<string, unknown> }) =>
    (typeof row.detail === 'string' ? JSON.parse(row.detail) : row.detail) as Record<string, unknown>;

  before(async () => {
    db = await createTestDatabase();
    ds = createMainDataSource(db.config);
    await ds.initialize();
    app = createServer('portal', { logger: false });
    await app.register(portal, { database: db.config, keys, cursorKey: randomBytes(32) });
    await app.ready();
    for (const [username, user] of Object.entries(USERS))
      await upsertUser(ds, { username, displayName: username, ...user });
    for (const username of Object.keys(USERS) as UserName[]) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { username, password: USERS[username].password },
      });
      assert.equal(res.statusCode, 200, res.body);
      tokens.set(username, res.json<LoginReply>().token);
    }
  });
  after(async () => {
    await app?.close();
    await ds?.destroy();
    await db?.drop();
  });

  it('admins only: no session is 401, other roles 403, on every route', async () => {
    const id = '0'.repeat(32);
    const routes: ['GET' | 'POST' | 'PUT' | 'DELETE', string, unknown?][] = [
      ['GET', '/v1/notifications/channels'],
      ['POST', '/v1/notifications/channels', webhookInput()],
      ['PUT', `/v1/notifications/channels/${id}`, webhookInput()],
      ['DELETE', `/v1/notifications/channels/${id}`],
      ['POST', `/v1/notifications/channels/${id}/test`],
      ['GET', '/v1/notifications/deliveries'],
      ['POST', '/v1/notifications/deliveries/1/retry'],
      ['GET', '/v1/alerts/sla'],
      ['PUT', '/v1/alerts/sla', { rules: [] }],
    ];
    for (const [method, url, payload] of routes) {
      assert.equal((await api(null, method, url, payload)).statusCode, 401, `${method} ${url}`);
      for (const user of ['officer', 'auditor'] as const)
        assert.equal((await api(user, method, url, payload)).statusCode, 403, `${user} ${method} ${url}`);
    }
    const [{ n }] = (await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM notification_channel')) as [
      { n: number },
    ];
    assert.equal(Number(n), 0);
  });

  it('a robot channel is stored sealed: the row shows the origin only, the key is nowhere in plaintext; audited without it', async () => {
    const res = await api('admin', 'POST', '/v1/notifications/channels', webhookInput());
    assert.equal(res.statusCode, 201, res.body);
    const view = res.json<NotificationChannelView>();
    assert.match(view.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(
      { ...view, id: undefined, updatedAt: undefined },
      {
        id: undefined,
        updatedAt: undefined,
        name: '合规机器人',
        kind: 'wecom_robot',
        target: 'https://qyapi.bank.local',
        minSeverity: 'warning',
        categories: ['complaint', 'guaranteed_return'],
        onEscalation: true,
        enabled: true,
        counts: { sent: 0, retrying: 0, dead: 0 },
        lastError: null,
      },
    );
    assert.ok(!res.body.includes(ROBOT_KEY));
    // the row: no plaintext URL or key in any column, the sealed target opens for this channel only
    const [row] = await db.query<Record<string, unknown>>('SELECT * FROM notification_channel WHERE id = ?', [
      view.id,
    ]);
    for (const value of Object.values(row!)) {
      const text = Buffer.isBuffer(value) ? value.toString('latin1') : String(value);
      assert.ok(!text.includes(ROBOT_KEY), 'no robot key at rest');
      assert.ok(!text.includes('/cgi-bin/webhook'), 'no URL path at rest');
    }
    assert.deepEqual(await openChannelTarget(ds, keys, view.id), { url: ROBOT_URL });
    // the sealed target copied onto another channel's row does not open there
    const copy = await api('admin', 'POST', '/v1/notifications/channels', webhookInput({ name: 'copy' }));
    const copyId = copy.json<NotificationChannelView>().id;
    await db.query('UPDATE notification_channel SET sealed_target = ? WHERE id = ?', [
      row!.sealed_target,
      copyId,
    ]);
    await assert.rejects(openChannelTarget(ds, keys, copyId), /binding/);
    await api('admin', 'DELETE', `/v1/notifications/channels/${copyId}`);

    const [audit] = await auditOf('notification_channel.create');
    assert.equal(audit!.actor, 'admin');
    assert.equal(audit!.target, `notification_channel:${view.id}`);
    assert.equal(detailOf(audit!).target, 'https://qyapi.bank.local');
    assert.ok(!JSON.stringify(audit!.detail).includes(ROBOT_KEY));

    const list = await api('admin', 'GET', '/v1/notifications/channels');
    assert.equal(list.statusCode, 200);
    assert.deepEqual(
      list.json<NotificationChannelListReply>().items.map((c) => c.id),
      [view.id],
    );
  });

  it('[bad input] URLs: http(s) only, no credentials, well-formed; e-mail addresses checked; targets fit the kind', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['ftp URL', { url: 'ftp://files.bank.local/x' }, /only http and https/],
      ['file URL', { url: 'file:///etc/passwd' }, /only http and https/],
      ['javascript URL', { url: 'javascript:alert(1)' }, /only http and https/],
      [
        'credentials in the URL',
        { url: 'https://bot:secret@hooks.bank.local/x' },
        /no user name or password/,
      ],
      ['not a URL', { url: 'hooks.bank.local/x' }, /not a valid URL/],
      ['no URL', { url: undefined }, /needs a URL/],
      ['recipients on a webhook', { kind: 'webhook', to: ['a@bank.local'] }, /has a URL, not recipients/],
      ['e-mail without recipients', { kind: 'email', url: undefined }, /needs recipients/],
      ['e-mail with a URL', { kind: 'email', to: ['a@bank.local'] }, /recipients, not a URL/],
      ['bad address', { kind: 'email', url: undefined, to: ['not-an-address'] }, /e-mail|email|format/],
      ['empty recipients', { kind: 'email', url: undefined, to: [] }, /at least one recipient/],
      ['unknown category', { categories: ['weather'] }, /categor/],
      ['bad severity', { minSeverity: 'apocalyptic' }, /minSeverity|severity/],
    ];
    for (const [what, over, reason] of cases) {
      const res = await api('admin', 'POST', '/v1/notifications/channels', webhookInput(over));
      assert.equal(res.statusCode, 400, `${what}: ${res.body}`);
      assert.match(res.json<ErrorReply>().message, reason, what);
    }
    const mail = await api(
      'admin',
      'POST',
      '/v1/notifications/channels',
      webhookInput({ kind: 'email', url: undefined, to: ['Risk.Officer@bank.local', 'desk@hq.bank.local'] }),
    );
    assert.equal(mail.statusCode, 201, mail.body);
    const view = mail.json<NotificationChannelView>();
    // admins see the recipients (opened from the sealed target); the row keeps their domains only
    assert.equal(view.target, 'risk.officer@bank.local, desk@hq.bank.local');
    const [row] = await db.query<{ target_origin: string }>(
      'SELECT target_origin FROM notification_channel WHERE id = ?',
      [view.id],
    );
    assert.equal(row!.target_origin, 'mailto:@bank.local,@hq.bank.local (2)');
    const [created] = (await auditOf('notification_channel.create')).filter(
      (r) => r.target === `notification_channel:${view.id}`,
    );
    assert.equal(detailOf(created!).target, '2 recipient(s)');
    assert.ok(!JSON.stringify(await db.query('SELECT detail FROM audit_event')).includes('risk.officer'));
    assert.deepEqual(await openChannelTarget(ds, keys, view.id), {
      to: ['risk.officer@bank.local', 'desk@hq.bank.local'],
    });
    assert.ok(!JSON.stringify(await db.query('SELECT * FROM notification_channel')).includes('risk.officer'));
  });

  it('an update without a URL keeps the sealed target; with one it replaces it; both audited', async () => {
    const created = (
      await api('admin', 'POST', '/v1/notifications/channels', webhookInput({ name: 'hook' }))
    ).json<NotificationChannelView>();
    const keep = await api(
      'admin',
      'PUT',
      `/v1/notifications/channels/${created.id}`,
      webhookInput({ name: 'hook 2', url: undefined, enabled: false, categories: [] }),
    );
    assert.equal(keep.statusCode, 200, keep.body);
    assert.equal(keep.json<NotificationChannelView>().name, 'hook 2');
    assert.equal(keep.json<NotificationChannelView>().enabled, false);
    assert.deepEqual(keep.json<NotificationChannelView>().categories, []);
    assert.deepEqual(await openChannelTarget(ds, keys, created.id), { url: ROBOT_URL });
    // a kind change needs its new target
    const kindOnly = await api(
      'admin',
      'PUT',
      `/v1/notifications/channels/${created.id}`,
      webhookInput({ kind: 'email', url: undefined }),
    );
    assert.equal(kindOnly.statusCode, 400);
    const moved = await api(
      'admin',
      'PUT',
      `/v1/notifications/channels/${created.id}`,
      webhookInput({ kind: 'webhook', url: 'http://10.1.2.3:8080/alerts' }),
    );
    assert.equal(moved.statusCode, 200, moved.body);
    assert.equal(moved.json<NotificationChannelView>().target, 'http://10.1.2.3:8080');
    assert.deepEqual(await openChannelTarget(ds, keys, created.id), { url: 'http://10.1.2.3:8080/alerts' });
    const updates = (await auditOf('notification_channel.update')).map(detailOf);
    assert.deepEqual(
      updates.map((d) => d.targetChanged),
      [false, true],
    );
    assert.equal((updates[1]!.before as { target: string }).target, 'https://qyapi.bank.local');
    assert.equal((updates[1]!.after as { target: string }).target, 'http://10.1.2.3:8080');
    const missing = await api('admin', 'PUT', `/v1/notifications/channels/${'a'.repeat(32)}`, webhookInput());
    assert.equal(missing.statusCode, 404);
  });

  it('a channel test is queued for the compliance sender and answered with its outcome', async () => {
    const channel = (
      await api('admin', 'POST', '/v1/notifications/channels', webhookInput({ name: 'test me' }))
    ).json<NotificationChannelView>();
    /** plays the compliance service's sender: the next test delivery of the channel gets `outcome` */
    const sender = (outcome: { status: 'sent' | 'dead'; error: string | null }) =>
      (async () => {
        for (let i = 0; i < 100; i++) {
          const result = await ds.query<{ affectedRows?: number }>(
            `UPDATE notification_delivery SET status = ?, attempts = 1, last_error = ?, sent_at = IF(? = 'sent', NOW(3), NULL)
             WHERE channel_id = ? AND event = 'test' AND status = 'pending'`,
            [outcome.status, outcome.error, outcome.status, channel.id],
          );
          if ((result.affectedRows ?? 0) > 0) return;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();

    const playing = sender({ status: 'sent', error: null });
    const ok = await api('admin', 'POST', `/v1/notifications/channels/${channel.id}/test`);
    await playing;
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json<NotificationTestReply>(), { ok: true, status: 'sent', error: null });

    const failing = sender({ status: 'dead', error: 'receiver answered HTTP 500' });
    const failed = await api('admin', 'POST', `/v1/notifications/channels/${channel.id}/test`);
    await failing;
    assert.equal(failed.statusCode, 502, failed.body);
    assert.deepEqual(failed.json<ErrorReply>(), {
      code: 'notification_test_failed',
      message: 'receiver answered HTTP 500',
    });
    const tests = await db.query<{ alert_id: string; event: string }>(
      "SELECT alert_id, event FROM notification_delivery WHERE channel_id = ? AND event = 'test'",
      [channel.id],
    );
    assert.equal(tests.length, 2);
    assert.ok(tests.every((t) => /^[0-9a-f]{64}$/.test(t.alert_id)));
    // tests do not count as the channel's deliveries
    const view = (
      await api('admin', 'GET', '/v1/notifications/channels')
    ).json<NotificationChannelListReply>();
    assert.deepEqual(view.items.find((c) => c.id === channel.id)!.counts, { sent: 0, retrying: 0, dead: 0 });
    assert.deepEqual(
      (await auditOf('notification_channel.test')).map((r) => detailOf(r).status),
      ['sent', 'dead'],
    );
    assert.equal(
      (await api('admin', 'POST', `/v1/notifications/channels/${'b'.repeat(32)}/test`)).statusCode,
      404,
    );
  });

  it('no sender within the wait: 504, and the test is withdrawn', async () => {
    const channel = (
      await api('admin', 'POST', '/v1/notifications/channels', webhookInput({ name: 'silent' }))
    ).json<NotificationChannelView>();
    const started = Date.now();
    const res = await api('admin', 'POST', `/v1/notifications/channels/${channel.id}/test`);
    assert.equal(res.statusCode, 504, res.body);
    assert.ok(Date.now() - started >= 9500);
    assert.equal(res.json<ErrorReply>().code, 'notification_test_timeout');
    const left = await db.query('SELECT id FROM notification_delivery WHERE channel_id = ?', [channel.id]);
    assert.deepEqual(left, []);
  });

  it('deliveries: filtered by status and channel; a dead one is retried by hand (only a dead one); audited', async () => {
    const channel = (
      await api('admin', 'POST', '/v1/notifications/channels', webhookInput({ name: 'dl' }))
    ).json<NotificationChannelView>();
    const alertId = randomBytes(32).toString('hex');
    await db.query(
      `INSERT INTO notification_delivery (channel_id, alert_id, event, status, attempts, next_attempt_at, last_error, created_at)
       VALUES (?, ?, 'raised', 'dead', 6, NULL, 'receiver answered HTTP 500', NOW(3)),
              (?, ?, 'escalated', 'sent', 1, NULL, NULL, NOW(3))`,
      [channel.id, alertId, channel.id, alertId],
    );
    const dead = await api(
      'admin',
      'GET',
      `/v1/notifications/deliveries?status=dead&channelId=${channel.id}`,
    );
    assert.equal(dead.statusCode, 200, dead.body);
    const items = dead.json<NotificationDeliveryListReply>().items;
    assert.equal(items.length, 1);
    assert.deepEqual(
      { ...items[0]!, id: undefined, createdAt: undefined },
      {
        id: undefined,
        createdAt: undefined,
        channelId: channel.id,
        alertId,
        event: 'raised',
        status: 'dead',
        attempts: 6,
        nextAttemptAt: null,
        lastError: 'receiver answered HTTP 500',
        sentAt: null,
      },
    );
    const channels = (
      await api('admin', 'GET', '/v1/notifications/channels')
    ).json<NotificationChannelListReply>();
    assert.deepEqual(channels.items.find((c) => c.id === channel.id)!.counts, {
      sent: 1,
      retrying: 0,
      dead: 1,
    });

    const retried = await api('admin', 'POST', `/v1/notifications/deliveries/${items[0]!.id}/retry`);
    assert.equal(retried.statusCode, 200, retried.body);
    assert.equal(retried.json<NotificationDeliveryView>().status, 'pending');
    assert.equal(retried.json<NotificationDeliveryView>().attempts, 0);
    assert.ok(retried.json<NotificationDeliveryView>().nextAttemptAt);
    assert.equal(
      (await api('admin', 'POST', `/v1/notifications/deliveries/${items[0]!.id}/retry`)).statusCode,
      409,
    );
    assert.equal(
      (await api('admin', 'POST', '/v1/notifications/deliveries/999999999/retry')).statusCode,
      404,
    );
    assert.equal((await api('admin', 'POST', '/v1/notifications/deliveries/abc/retry')).statusCode, 400);
    assert.equal((await api('admin', 'GET', '/v1/notifications/deliveries?status=lost')).statusCode, 400);
    const [audit] = await auditOf('notification_delivery.retry');
    assert.deepEqual(detailOf(audit!), { channelId: channel.id, alertId, event: 'raised' });

    // deleting the channel removes its deliveries (nothing is sent for it any more)
    assert.equal((await api('admin', 'DELETE', `/v1/notifications/channels/${channel.id}`)).statusCode, 204);
    assert.deepEqual(
      await db.query('SELECT id FROM notification_delivery WHERE channel_id = ?', [channel.id]),
      [],
    );
    assert.equal((await api('admin', 'DELETE', `/v1/notifications/channels/${channel.id}`)).statusCode, 404);
    assert.equal(
      (await auditOf('notification_channel.delete')).filter(
        (r) => r.target === `notification_channel:${channel.id}`,
      ).length,
      1,
    );
  });

  it('[REG-11] SLA rules: replaced as a whole, read back, duplicates and bad hours refused, audited with before and after', async () => {
    assert.deepEqual((await api('admin', 'GET', '/v1/alerts/sla')).json<SlaPolicy>(), { rules: [] });
    const policy: SlaPolicy = {
      rules: [
        { category: 'complaint', severity: '*', hours: 12 },
        { category: '*', severity: 'critical', hours: 2.5 },
      ],
    };
    const put = await api('admin', 'PUT', '/v1/alerts/sla', policy);
    assert.equal(put.statusCode, 200, put.body);
    const expected = [
      { category: '*', severity: 'critical', hours: 2.5 },
      { category: 'complaint', severity: '*', hours: 12 },
    ];
    assert.deepEqual(put.json<SlaPolicy>().rules, expected);
    assert.deepEqual((await api('admin', 'GET', '/v1/alerts/sla')).json<SlaPolicy>().rules, expected);
    for (const bad of [
      { rules: [policy.rules[0], policy.rules[0]] },
      { rules: [{ category: 'complaint', severity: '*', hours: 0 }] },
      { rules: [{ category: 'complaint', severity: '*', hours: 1000 }] },
      { rules: [{ category: 'weather', severity: '*', hours: 3 }] },
      { rules: [{ category: 'complaint', severity: '*', hours: 1.234 }] },
    ]) {
      const res = await api('admin', 'PUT', '/v1/alerts/sla', bad);
      assert.equal(res.statusCode, 400, JSON.stringify(bad));
    }
    // nothing half-applied
    assert.deepEqual((await api('admin', 'GET', '/v1/alerts/sla')).json<SlaPolicy>().rules, expected);
    const cleared = await api('admin', 'PUT', '/v1/alerts/sla', { rules: [] });
    assert.deepEqual(cleared.json<SlaPolicy>(), { rules: [] });
    const audits = (await auditOf('alerts.sla.set')).map(detailOf);
    assert.equal(audits.length, 2);
    assert.deepEqual(audits[0], { before: [], after: expected });
    assert.deepEqual(audits[1], { before: expected, after: [] });
    assert.equal(await verifyAuditChain(ds), null);
  });
});
