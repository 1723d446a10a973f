import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { DataSource } from 'typeorm';
import { createMainDataSource, keyProviderFromEnv } from '@cz/common';
import { openBuffer } from '@cz/common/crypto';
import { createTestDatabase, loadStackEnv, repoRoot, uniqueCorp, type TestDatabase } from '@cz/testkit';
import { alertEventBinding, sendDueDeliveries, type SendSweepResult } from '../src/workflow/deliveries';
import { queueRaisedNotifications } from '../src/workflow/dispatch';
import { createSender } from '../src/workflow/senders';
import { resolveWorkflowSettings, type WorkflowSettings } from '../src/workflow/settings';
import { hex, insertAlert, insertChannel, SECRET_EMPLOYEE, SECRET_TERM } from './workflow-fixtures';

loadStackEnv();
const keys = keyProviderFromEnv();
const ROBOT_KEY = 'a1b2c3d4-robot-secret-key';
const TIMEOUT_MS = 800;

interface Received {
  path: string;
  body: Record<string, unknown>;
}

interface Mail {
  from: string;
  to: string[];
  secure: boolean;
  raw: string;
}

/** Decodes RFC 2047 encoded words (nodemailer encodes a Chinese subject as UTF-8 B or Q words). */
function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
      enc.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    );
}

/** Subject and decoded text body of a single-part mail as nodemailer writes it. */
function parseMail(raw: string): { subject: string; text: string } {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = head.replace(/\r?\n[ \t]+/g, ' ');
  const subject = decodeHeader(/^subject: (.*)$/im.exec(headers)?.[1] ?? '');
  const encoding = /^content-transfer-encoding: (.*)$/im.exec(headers)?.[1]?.trim().toLowerCase();
  const body = rest.join('\n\n');
  const text =
    encoding === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : encoding === 'quoted-printable'
        ? Buffer.from(
            body
              .replace(/=\r?\n/g, '')
              .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8')
        : body;
  return { subject, text };
}

describe('notifications: webhook, WeCom robot and e-mail against local receivers (real MariaDB)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let http: Server;
  let smtp: SMTPServer;
  let base = '';
  let settings: WorkflowSettings;
  let sender: ReturnType<typeof createSender>;
  const corpId = uniqueCorp('notifycorp');
  const received: Received[] = [];
  const mails: Mail[] = [];
  const flakyCalls = new Map<string, number>();
  const hanging = new Set<ServerResponse>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const answer = (status: number, body: unknown = { ok: true }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/hang') {
        hanging.add(res);
        return;
      }
      received.push({ path: url.pathname + url.search, body: JSON.parse(data) as Record<string, unknown> });
      if (url.pathname === '/hook') return answer(200);
      if (url.pathname === '/robot/send')
        return answer(
          200,
          url.searchParams.get('key') === ROBOT_KEY ? { errcode: 0, errmsg: 'ok' } : { errcode: 93000 },
        );
      if (url.pathname === '/down') return answer(500, { error: 'down' });
      if (url.pathname.startsWith('/flaky/')) {
        const calls = (flakyCalls.get(url.pathname) ?? 0) + 1;
        flakyCalls.set(url.pathname, calls);
        return answer(calls === 1 ? 500 : 200);
      }
      answer(404);
    });
  };

  const deliveriesOf = (alertId: string) =>
    db.query<{
      id: string;
      channel_id: string;
      event: string;
      status: string;
      attempts: number;
      last_error: string | null;
      next_attempt_at: Date | null;
      sent_at: Date | null;
    }>(
      'SELECT id, channel_id, event, status, attempts, last_error, next_attempt_at, sent_at FROM notification_delivery WHERE alert_id = ? ORDER BY channel_id',
      [alertId],
    );

  /** Sweeps until nothing is pending or retrying (backoff is 30 ms here). */
  const sendUntilSettled = async (maxSweeps = 20): Promise<SendSweepResult> => {
    const total: SendSweepResult = { sent: 0, retrying: 0, dead: 0 };
    for (let i = 0; i < maxSweeps; i++) {
      const result = await sendDueDeliveries(ds, keys, settings, sender.send);
      total.sent += result.sent;
      total.retrying += result.retrying;
      total.dead += result.dead;
      const [open] = await db.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM notification_delivery d JOIN notification_channel c ON c.id = d.channel_id
         WHERE d.status IN ('pending', 'retrying') AND (c.enabled = 1 OR d.event = 'test')`,
      );
      if (Number(open!.n) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return total;
  };

  const notes = async (alertId: string) => {
    const rows = await db.query<{ action: string; actor: string; sealed_note: Buffer }>(
      'SELECT action, actor, sealed_note FROM compliance_alert_event WHERE alert_id = ? ORDER BY id',
      [alertId],
    );
    const out = [];
    for (const row of rows)
      out.push({
        action: row.action,
        actor: row.actor,
        note: (await openBuffer(row.sealed_note, keys, alertEventBinding(corpId, alertId))).toString('utf8'),
      });
    return out;
  };

  const assertNoContent = (text: string) => {
    assert.ok(!text.includes(SECRET_TERM), 'the matched term is not in a notification');
    assert.ok(!text.includes(SECRET_EMPLOYEE), 'the employee is not in a notification');
    assert.ok(!text.includes('conv-secret'), 'the conversation is not in a notification');
  };

  before(async () => {
    db = await createTestDatabase();
    ds = createMainDataSource(db.config);
    await ds.initialize();
    http = createServer(handle);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    // the relay offers STARTTLS with a certificate of the stack's CA: the mail goes over TLS
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH'],
      key: readFileSync(`${repoRoot}.stack/tls/server/compliance.key`),
      cert: readFileSync(`${repoRoot}.stack/tls/server/compliance.crt`),
      onData(stream, session: SMTPServerSession, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            secure: session.secure,
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    settings = resolveWorkflowSettings({
      timers: false,
      consoleUrl: 'https://console.bank.local/',
      smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
      smtpFrom: 'alerts@bank.local',
      retryBackoffMs: [30],
      maxAttempts: 3,
      requestTimeoutMs: TIMEOUT_MS,
    });
    sender = createSender(settings);
  });

  afterEach(async () => {
    // each test's channels only see its own alerts
    await db.query('UPDATE notification_channel SET enabled = 0');
  });

  after(async () => {
    sender?.close();
    for (const res of hanging) res.destroy();
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await ds?.destroy();
    await db?.drop();
  });

  it('webhook: a JSON POST with the alert’s ids, kind, severity, times and link, and nothing of the content', async () => {
    const channel = await insertChannel(db, keys, {
      kind: 'webhook',
      target: { url: `${base}/hook?token=abc` },
    });
    const alertId = await insertAlert(db, keys, {
      corpId,
      category: 'guaranteed_return',
      severity: 'critical',
      conversationId: 'conv-secret-1',
      orgUnitId: 'pudong',
    });
    assert.equal(await queueRaisedNotifications(ds), 1);
    const [alert] = await db.query<{ notified_at: Date | null; raised_at: Date; due_at: Date }>(
      'SELECT notified_at, raised_at, due_at FROM compliance_alert WHERE id = ?',
      [alertId],
    );
    assert.ok(alert!.notified_at);
    assert.deepEqual(
      (await deliveriesOf(alertId)).map((d) => [d.channel_id, d.event, d.status]),
      [[channel, 'raised', 'pending']],
    );
    // queued once: the outbox does not take the alert again
    assert.equal(await queueRaisedNotifications(ds), 0);

    await sendUntilSettled();
    const [delivery] = await deliveriesOf(alertId);
    assert.equal(delivery!.status, 'sent');
    assert.equal(delivery!.attempts, 1);
    assert.ok(delivery!.sent_at);
    const hits = received.filter((r) => r.path === '/hook?token=abc');
    assert.equal(hits.length, 1);
    assert.deepEqual(hits[0]!.body, {
      event: 'raised',
      alertId,
      corpId,
      kind: 'lexicon.guaranteed_return',
      category: 'guaranteed_return',
      severity: 'critical',
      status: 'open',
      raisedAt: new Date(alert!.raised_at).toISOString(),
      dueAt: new Date(alert!.due_at).toISOString(),
      escalationLevel: 0,
      consoleUrl: `https://console.bank.local/alerts?id=${alertId}`,
    });
    assertNoContent(JSON.stringify(hits[0]!.body));
    // the alert's history says it was notified (sealed note, bound to the alert)
    const history = await notes(alertId);
    assert.equal(history.length, 1);
    assert.equal(history[0]!.action, 'notified');
    assert.equal(history[0]!.actor, 'system');
    assert.match(history[0]!.note, /通知已发送（webhook，raised，第 1 次尝试）/);
  });

  it('WeCom robot: a markdown message; errcode 0 is sent, any other errcode is a failure', async () => {
    const good = await insertChannel(db, keys, {
      kind: 'wecom_robot',
      target: { url: `${base}/robot/send?key=${ROBOT_KEY}` },
    });
    const bad = await insertChannel(db, keys, {
      kind: 'wecom_robot',
      target: { url: `${base}/robot/send?key=wrong` },
    });
    const alertId = await insertAlert(db, keys, {
      corpId,
      category: 'complaint',
      severity: 'warning',
      conversationId: 'conv-secret-2',
    });
    await queueRaisedNotifications(ds);
    await sendDueDeliveries(ds, keys, settings, sender.send);
    const byChannel = new Map((await deliveriesOf(alertId)).map((d) => [d.channel_id, d]));
    assert.equal(byChannel.get(good)!.status, 'sent');
    assert.equal(byChannel.get(bad)!.status, 'retrying');
    assert.equal(byChannel.get(bad)!.last_error, 'robot answered errcode 93000');
    const message = received.find(
      (r) => r.path === `/robot/send?key=${ROBOT_KEY}` && JSON.stringify(r.body).includes(alertId),
    );
    assert.ok(message);
    assert.equal(message.body.msgtype, 'markdown');
    const content = (message.body.markdown as { content: string }).content;
    assert.deepEqual(Object.keys(message.body).sort(), ['markdown', 'msgtype']);
    assert.match(content, /新告警/);
    assert.match(content, /投诉线索（complaint）/);
    assert.match(content, /警告（warning）/);
    assert.match(content, new RegExp(`告警编号：${alertId}`));
    assert.match(content, /\[在控制台查看\]\(https:\/\/console\.bank\.local\/alerts\?id=/);
    assertNoContent(content);
    // the channel shows its last error (the robot key stays sealed; errors never quote the URL)
    const [row] = await db.query<{ last_error: string }>(
      'SELECT last_error FROM notification_channel WHERE id = ?',
      [bad],
    );
    assert.equal(row!.last_error, 'robot answered errcode 93000');
    assert.ok(!row!.last_error.includes('wrong'));
  });

  it('[bad input] a receiver that answers 500 then 200: retried after the backoff, then sent', async () => {
    const path = `/flaky/${hex(4)}`;
    await insertChannel(db, keys, { kind: 'webhook', target: { url: `${base}${path}` } });
    const alertId = await insertAlert(db, keys, { corpId });
    await queueRaisedNotifications(ds);
    await sendDueDeliveries(ds, keys, settings, sender.send);
    const [first] = await deliveriesOf(alertId);
    assert.equal(first!.status, 'retrying');
    assert.equal(first!.attempts, 1);
    assert.equal(first!.last_error, 'receiver answered HTTP 500');
    assert.ok(first!.next_attempt_at);
    // not before the backoff
    await sendDueDeliveries(ds, keys, settings, sender.send);
    assert.ok(flakyCalls.get(path)! <= 2);
    await sendUntilSettled();
    const [last] = await deliveriesOf(alertId);
    assert.equal(last!.status, 'sent');
    assert.equal(last!.attempts, 2);
    assert.equal(last!.last_error, null);
    assert.equal(flakyCalls.get(path), 2);
  });

  it('[bad input] a receiver that always answers 500 is dead-lettered after the last attempt; other channels still deliver', async () => {
    const down = await insertChannel(db, keys, { kind: 'webhook', target: { url: `${base}/down` } });
    const hook = await insertChannel(db, keys, { kind: 'webhook', target: { url: `${base}/hook` } });
    const alerts = [await insertAlert(db, keys, { corpId }), await insertAlert(db, keys, { corpId })];
    await queueRaisedNotifications(ds);
    await sendUntilSettled();
    for (const alertId of alerts) {
      const byChannel = new Map((await deliveriesOf(alertId)).map((d) => [d.channel_id, d]));
      assert.equal(byChannel.get(down)!.status, 'dead');
      assert.equal(byChannel.get(down)!.attempts, settings.maxAttempts);
      assert.equal(byChannel.get(down)!.last_error, 'receiver answered HTTP 500');
      assert.equal(byChannel.get(down)!.next_attempt_at, null);
      assert.equal(byChannel.get(hook)!.status, 'sent');
      assert.equal(byChannel.get(hook)!.attempts, 1);
      const history = (await notes(alertId)).map((e) => e.note);
      assert.equal(history.length, 2);
      assert.ok(
        history.some((n) =>
          /^通知失败，已停止重试（webhook，raised，共 3 次）：receiver answered HTTP 500$/.test(n),
        ),
      );
    }
    // a dead delivery is never retried by itself
    await sendDueDeliveries(ds, keys, settings, sender.send);
    const [{ n }] = (await db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM notification_delivery WHERE channel_id = ? AND status = 'dead'",
      [down],
    )) as [{ n: number }];
    assert.equal(Number(n), 2);
  });

  it('[bad input] a receiver that hangs times out without holding up the other deliveries', async () => {
    const hang = await insertChannel(db, keys, { kind: 'webhook', target: { url: `${base}/hang` } });
    const hook = await insertChannel(db, keys, { kind: 'webhook', target: { url: `${base}/hook` } });
    const alerts = [];
    for (let i = 0; i < 5; i++) alerts.push(await insertAlert(db, keys, { corpId }));
    await queueRaisedNotifications(ds);
    const started = Date.now();
    const result = await sendDueDeliveries(ds, keys, settings, sender.send);
    const took = Date.now() - started;
    // 10 deliveries, 5 of them hanging: concurrent, each bounded by the timeout
    assert.deepEqual(result, { sent: 5, retrying: 5, dead: 0 });
    assert.ok(took < TIMEOUT_MS * 3, `one sweep took ${took} ms`);
    for (const alertId of alerts) {
      const byChannel = new Map((await deliveriesOf(alertId)).map((d) => [d.channel_id, d]));
      assert.equal(byChannel.get(hook)!.status, 'sent');
      assert.equal(byChannel.get(hang)!.status, 'retrying');
      assert.equal(byChannel.get(hang)!.last_error, `no answer within ${TIMEOUT_MS} ms`);
    }
    await db.query("UPDATE notification_delivery SET status = 'dead' WHERE channel_id = ?", [hang]);
  });

  it('e-mail through the SMTP relay (STARTTLS): subject and recipients right, no content', async () => {
    await insertChannel(db, keys, {
      kind: 'email',
      target: { to: ['risk-officer@bank.local', 'compliance-desk@bank.local'] },
      minSeverity: 'warning',
    });
    const alertId = await insertAlert(db, keys, {
      corpId,
      category: 'private_dealing',
      severity: 'critical',
      conversationId: 'conv-secret-3',
    });
    await queueRaisedNotifications(ds);
    await sendUntilSettled();
    const [delivery] = await deliveriesOf(alertId);
    assert.equal(delivery!.status, 'sent', delivery!.last_error ?? '');
    const mail = mails.find((m) => m.raw.includes(alertId) || parseMail(m.raw).text.includes(alertId));
    assert.ok(mail, 'the relay received the mail');
    assert.equal(mail.secure, true, 'STARTTLS was used');
    assert.equal(mail.from, 'alerts@bank.local');
    assert.deepEqual(mail.to.sort(), ['compliance-desk@bank.local', 'risk-officer@bank.local']);
    const { subject, text } = parseMail(mail.raw);
    assert.equal(subject, `[合规告警] 新告警：严重 · 私下交易/收费（private_dealing） · ${corpId}`);
    assert.match(text, new RegExp(`告警编号：${alertId}`));
    assert.match(text, new RegExp(`在控制台查看：https://console\\.bank\\.local/alerts\\?id=${alertId}`));
    assertNoContent(mail.raw);
    assertNoContent(text);
  });

  it('[bad input] e-mail with no relay reachable is retried, then dead, with the reason', async () => {
    const unreachable = createSender({ ...settings, smtpUrl: 'smtp://127.0.0.1:9' });
    await insertChannel(db, keys, { kind: 'email', target: { to: ['risk-officer@bank.local'] } });
    const alertId = await insertAlert(db, keys, { corpId });
    await queueRaisedNotifications(ds);
    for (let i = 0; i < settings.maxAttempts; i++) {
      await sendDueDeliveries(ds, keys, settings, unreachable.send);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    unreachable.close();
    const [delivery] = await deliveriesOf(alertId);
    assert.equal(delivery!.status, 'dead');
    assert.match(delivery!.last_error!, /^SMTP relay failed: /);
    assert.ok(!delivery!.last_error!.includes('risk-officer'));
  });

  it('channels get what they asked for: minimum severity, categories, enabled; queuing is exactly once across replicas', async () => {
    const criticalOnly = await insertChannel(db, keys, {
      kind: 'webhook',
      target: { url: `${base}/hook` },
      minSeverity: 'critical',
    });
    const complaints = await insertChannel(db, keys, {
      kind: 'webhook',
      target: { url: `${base}/hook` },
      categories: ['complaint'],
    });
    const disabled = await insertChannel(db, keys, {
      kind: 'webhook',
      target: { url: `${base}/hook` },
      enabled: false,
    });
    const warningComplaint = await insertAlert(db, keys, {
      corpId,
      category: 'complaint',
      severity: 'warning',
    });
    const criticalKickback = await insertAlert(db, keys, {
      corpId,
      category: 'kickback',
      severity: 'critical',
    });
    const infoKickback = await insertAlert(db, keys, { corpId, category: 'kickback', severity: 'info' });
    const more = [];
    for (let i = 0; i < 30; i++)
      more.push(await insertAlert(db, keys, { corpId, category: 'complaint', severity: 'critical' }));
    // two replicas' outboxes at once (SKIP LOCKED): every alert queued once
    await Promise.all([
      queueRaisedNotifications(ds, new Date(), 7),
      queueRaisedNotifications(ds, new Date(), 7),
    ]);
    while ((await queueRaisedNotifications(ds, new Date(), 7)) > 0);
    const channelsOf = async (id: string) => (await deliveriesOf(id)).map((d) => d.channel_id).sort();
    assert.deepEqual(await channelsOf(warningComplaint), [complaints]);
    assert.deepEqual(await channelsOf(criticalKickback), [criticalOnly]);
    assert.deepEqual(await channelsOf(infoKickback), []);
    for (const id of more) assert.deepEqual(await channelsOf(id), [criticalOnly, complaints].sort());
    const [{ n }] = (await db.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM notification_delivery WHERE channel_id = ?',
      [disabled],
    )) as [{ n: number }];
    assert.equal(Number(n), 0);
    const [{ pending }] = (await db.query<{ pending: number }>(
      'SELECT COUNT(*) AS pending FROM compliance_alert WHERE notified_at IS NULL',
    )) as [{ pending: number }];
    assert.equal(Number(pending), 0);
    await sendUntilSettled();
  });

  it('a channel test (queued by the portal with event test) gets one attempt: sent, or dead with the reason', async () => {
    const hook = await insertChannel(db, keys, { kind: 'webhook', target: { url: `${base}/hook?test=1` } });
    const down = await insertChannel(db, keys, { kind: 'webhook', target: { url: `${base}/down` } });
    for (const channel of [hook, down])
      await db.query(
        "INSERT INTO notification_delivery (channel_id, alert_id, event, status, attempts, next_attempt_at, created_at) VALUES (?, ?, 'test', 'pending', 0, NOW(3), NOW(3))",
        [channel, hex(32)],
      );
    await sendDueDeliveries(ds, keys, settings, sender.send);
    const rows = await db.query<{
      channel_id: string;
      status: string;
      attempts: number;
      last_error: string | null;
    }>("SELECT channel_id, status, attempts, last_error FROM notification_delivery WHERE event = 'test'");
    const byChannel = new Map(rows.map((r) => [r.channel_id, r]));
    assert.deepEqual(
      { ...byChannel.get(hook)!, channel_id: undefined },
      { channel_id: undefined, status: 'sent', attempts: 1, last_error: null },
    );
    assert.equal(byChannel.get(down)!.status, 'dead');
    assert.equal(byChannel.get(down)!.attempts, 1);
    const testCall = received.find((r) => r.path === '/hook?test=1');
    assert.equal(testCall?.body.event, 'test');
    assert.equal(testCall?.body.kind, 'notification.test');
  });
  it('a channel disabled after its deliveries were queued holds them; enabled again, they go out', async () => {
    const channel = await insertChannel(db, keys, {
      kind: 'webhook',
      target: { url: `${base}/hook?held=1` },
    });
    const alertId = await insertAlert(db, keys, { corpId });
    await queueRaisedNotifications(ds);
    await db.query('UPDATE notification_channel SET enabled = 0 WHERE id = ?', [channel]);
    await sendDueDeliveries(ds, keys, settings, sender.send);
    assert.equal((await deliveriesOf(alertId))[0]!.status, 'pending');
    assert.ok(!received.some((r) => r.path === '/hook?held=1'));
    await db.query('UPDATE notification_channel SET enabled = 1 WHERE id = ?', [channel]);
    await sendDueDeliveries(ds, keys, settings, sender.send);
    assert.equal((await deliveriesOf(alertId))[0]!.status, 'sent');
    assert.equal(received.filter((r) => r.path === '/hook?held=1').length, 1);
  });
});
