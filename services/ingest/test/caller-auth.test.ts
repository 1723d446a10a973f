/**
 * Authenticated writers at ingest, on the real stack: callers issued by the stack's key service
 * under dual control, introspected there, records read back from the real Kafka. "Nothing stored"
 * means nothing reached the bus for that corp: the archiver stores only what is on the bus.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Topics, type AlertV1, type ArchivedMessageV1 } from '@cz/contracts';
import { RemoteKeyProvider, keyProviderFromEnv, optionalClientTlsFromEnv, secureFetchFor } from '@cz/common';
import {
  callerHeaders,
  devCallerToken,
  eventually,
  issueTestCaller,
  loadStackEnv,
  revokeTestCaller,
  uniqueCorp,
  type IssuedTestCaller,
} from '@cz/testkit';
import { FOREIGN_CORP_ALERT } from '../src/corp-binding';
import { buildIngestApp, readCorpRecords } from './helpers';

loadStackEnv();
const keys = keyProviderFromEnv();
/** the window this suite configures; the services' default is 30 s (≤ 60 s end to end) */
const CACHE_MS = 2000;

const text = (msgid: string, content = '您好，这是一条测试消息') => ({
  msgid,
  action: 'send',
  from: 'zhangwei',
  tolist: ['wmCustomer001'],
  msgtime: Date.UTC(2026, 10, 20, 2, 30),
  msgtype: 'text',
  text: { content },
});

const cdr = (corpId: string, callId: string) => ({
  corpId,
  callId,
  agentId: 'agent-7',
  customerNumber: '13812345678',
  direction: 'outbound',
  startTime: '2026-11-20T02:30:00.000Z',
  endTime: '2026-11-20T02:35:00.000Z',
  businessType: 'wealth',
});

const event = (eventId: string) => ({
  eventId,
  type: 'customer_deleted',
  occurredAt: '2026-11-20T10:30:00+08:00',
  staffId: 'zhangwei',
  customer: { externalUserId: 'wmCustomer001' },
});

/** The msgids that reached cz.msg.v1 for `corpId`, once the `expected` ones (at least) are there. */
async function msgidsOnKafka(corpId: string, expected: number): Promise<string[]> {
  const records = await readCorpRecords<ArchivedMessageV1>(keys, Topics.messages, corpId, expected);
  return records.map((r) => r.value.msgid).sort();
}

describe('ingest: authenticated writers bound to their corps (real stack)', () => {
  let app: Awaited<ReturnType<typeof buildIngestApp>>;
  let branchWriter: IssuedTestCaller;
  let readerOnly: IssuedTestCaller;
  const homeCorp = uniqueCorp('home');
  const issued: string[] = [];

  before(async () => {
    branchWriter = await issueTestCaller({ operations: ['ingest.write'], corps: [homeCorp] });
    readerOnly = await issueTestCaller({ operations: ['archiver.read'], corps: ['*'] });
    issued.push(branchWriter.name, readerOnly.name);
    app = await buildIngestApp(keys, 'cz-ingest-auth-test', 256 * 1024, undefined, {
      cacheTtlMs: CACHE_MS,
      negativeCacheTtlMs: 500,
    });
  });
  after(async () => {
    await app.close();
    for (const name of issued) await revokeTestCaller(name).catch(() => undefined);
  });

  const postMessages = (corpId: string, messages: unknown[], headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/v1/wecom/messages', headers, payload: { corpId, messages } });

  test('[REG-06] unauthenticated write → 401 on every write route, nothing stored', async () => {
    const corpId = uniqueCorp('forged');
    const messages = await postMessages(corpId, [text('forged-1')]);
    assert.equal(messages.statusCode, 401);
    assert.equal(messages.json<{ code: string }>().code, 'unauthorized');
    assert.match(String(messages.headers['www-authenticate']), /^Bearer/);
    const bogus = await postMessages(corpId, [text('forged-2')], {
      authorization: `Bearer cks_${'F'.repeat(43)}`,
    });
    assert.equal(bogus.statusCode, 401, 'an unknown credential');
    const call = await app.inject({ method: 'POST', url: '/v1/calls', payload: cdr(corpId, 'FORGED-1') });
    assert.equal(call.statusCode, 401);
    const events = await app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: { corpId, events: [event('forged-e1')] },
    });
    assert.equal(events.statusCode, 401);
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'health stays open');

    // a genuine record of the same corp marks the topic: once it is read, the forged ones would be too
    assert.equal((await postMessages(corpId, [text('genuine-1')], callerHeaders())).statusCode, 202);
    assert.deepEqual(await msgidsOnKafka(corpId, 1), ['genuine-1']);
    const calls = await readCorpRecords(keys, Topics.calls, corpId, 0);
    const stored = await readCorpRecords(keys, Topics.events, corpId, 0);
    assert.equal(calls.length + stored.length, 0, 'no call or event of the forged corp on the bus');
  });

  test('[REG-05][REG-06] valid credential, foreign corp → 403 naming the records and the corp, nothing stored, security alert raised', async () => {
    const foreignCorp = uniqueCorp('foreign');
    const secret = '转账到我私人账户13900001111';
    const res = await postMessages(
      foreignCorp,
      [text('foreign-1', secret), text('foreign-2')],
      callerHeaders(branchWriter.token),
    );
    assert.equal(res.statusCode, 403, res.body);
    const body = res.json<{ code: string; message: string }>();
    assert.equal(body.code, 'corp_not_allowed');
    assert.match(body.message, new RegExp(foreignCorp));
    assert.match(body.message, /records 0\.\.1/);
    const call = await app.inject({
      method: 'POST',
      url: '/v1/calls',
      headers: callerHeaders(branchWriter.token),
      payload: cdr(foreignCorp, 'FOREIGN-1'),
    });
    assert.equal(call.statusCode, 403);

    // its own corp is fine
    assert.equal(
      (await postMessages(homeCorp, [text('home-1')], callerHeaders(branchWriter.token))).statusCode,
      202,
    );
    assert.deepEqual(await msgidsOnKafka(homeCorp, 1), ['home-1']);

    assert.equal((await postMessages(foreignCorp, [text('genuine-1')], callerHeaders())).statusCode, 202);
    assert.deepEqual(await msgidsOnKafka(foreignCorp, 1), ['genuine-1'], 'nothing of the refused batch');

    const alerts = await readCorpRecords<AlertV1>(keys, Topics.alerts, foreignCorp, 2);
    const raised = alerts.map((a) => a.value).filter((a) => a.kind === FOREIGN_CORP_ALERT);
    assert.equal(raised.length, 2, 'one alert per refused request');
    const messagesAlert = raised.find((a) => a.detail.route === '/v1/wecom/messages');
    assert.ok(messagesAlert);
    assert.equal(messagesAlert.severity, 'critical');
    assert.equal(messagesAlert.source, 'ingest');
    assert.deepEqual(messagesAlert.detail, {
      caller: branchWriter.name,
      corp: foreignCorp,
      records: 2,
      route: '/v1/wecom/messages',
    });
    assert.ok(!JSON.stringify(raised).includes('13900001111'), 'no content in the alert');
  });

  test('[REG-06] credential without ingest.write → 403, nothing stored', async () => {
    const corpId = uniqueCorp('noop');
    const res = await postMessages(corpId, [text('reader-1')], callerHeaders(readerOnly.token));
    assert.equal(res.statusCode, 403);
    assert.equal(res.json<{ code: string }>().code, 'operation_not_allowed');
    assert.equal((await postMessages(corpId, [text('genuine-1')], callerHeaders())).statusCode, 202);
    assert.deepEqual(await msgidsOnKafka(corpId, 1), ['genuine-1']);
  });

  test('[REG-06] revoked credential → 401 within the cache window', async () => {
    const corpId = uniqueCorp('revoked');
    const revokable = await issueTestCaller({ operations: ['ingest.write'], corps: ['*'] });
    issued.push(revokable.name);
    assert.equal(
      (await postMessages(corpId, [text('before-1')], callerHeaders(revokable.token))).statusCode,
      202,
    );
    await revokeTestCaller(revokable.name);
    const revokedAt = Date.now();
    let last = 0;
    await eventually(
      'the revoked credential refused',
      async () => {
        last = (await postMessages(corpId, [text(`after-${Date.now()}`)], callerHeaders(revokable.token)))
          .statusCode;
        return last === 401 ? true : undefined;
      },
      CACHE_MS + 10000,
    );
    const took = Date.now() - revokedAt;
    assert.ok(took <= CACHE_MS + 1000, `refused ${took} ms after revocation (cache window ${CACHE_MS} ms)`);
  });

  test('[REG-06] key service down or unreachable → 503 keyservice_unavailable, not 202, nothing stored', async () => {
    const corpId = uniqueCorp('ksdown');
    const cut = await buildIngestApp(keys, 'cz-ingest-auth-test-down', 256 * 1024, undefined, {
      directory: new RemoteKeyProvider({
        url: 'https://127.0.0.1:9',
        token: devCallerToken(),
        timeoutMs: 1000,
      }),
    });
    try {
      const res = await cut.inject({
        method: 'POST',
        url: '/v1/wecom/messages',
        headers: callerHeaders(),
        payload: { corpId, messages: [text('unconfirmed-1')] },
      });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json<{ code: string }>().code, 'keyservice_unavailable');
    } finally {
      await cut.close();
    }
    assert.equal((await postMessages(corpId, [text('genuine-1')], callerHeaders())).statusCode, 202);
    assert.deepEqual(await msgidsOnKafka(corpId, 1), ['genuine-1']);
  });

  test('[REG-06] the running ingest refuses an unauthenticated write (401)', async () => {
    const tls = optionalClientTlsFromEnv();
    // the CA only: the stack's client certificate (CN dev) would authenticate the request as dev
    const fetch = secureFetchFor(tls ? { ca: tls.ca } : undefined);
    const res = await fetch(`${process.env.CZ_INGEST_URL ?? 'https://127.0.0.1:8081'}/v1/wecom/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ corpId: uniqueCorp('live'), messages: [text('forged-live-1')] }),
    });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { code: string }).code, 'unauthorized');
  });
});
