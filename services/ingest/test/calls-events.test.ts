import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Topics,
  type ArchivedBehaviourEventV1,
  type ArchivedCallV1,
  type EventBatchReply,
  type Topic,
} from '@cz/contracts';
import { callArchiveId, eventArchiveId, externalUserIndex, keyProviderFromEnv, phoneIndex } from '@cz/common';
import { callerHeaders, loadStackEnv, uniqueCorp } from '@cz/testkit';
import { buildIngestApp, readCorpRecords } from './helpers';

loadStackEnv();
const keys = keyProviderFromEnv();

const buildIngest = (brokers?: string[]) =>
  buildIngestApp(keys, 'cz-ingest-calls-test', 2 * 1024 * 1024, brokers);

/** Reads what reached `topic` for one corp, opening each sealed value. */
const readTopicForCorp = <T>(topic: Topic, corpId: string, expected: number) =>
  readCorpRecords<T>(keys, topic, corpId, expected);

const cdr = (corpId: string, extra: Record<string, unknown> = {}) => ({
  corpId,
  callId: 'CALL-20261125-0001',
  agentId: 'agent-0451',
  customerNumber: '+86 139-0000-1111',
  direction: 'outbound',
  startTime: '2026-11-25T02:00:00.000Z',
  endTime: '2026-11-25T02:07:30.000Z',
  businessType: 'wealth-management',
  caseId: 'CASE-77',
  campaign: 'Q4-fund',
  transcript: { text: '您好，我是某某银行客服，工号0451，这款产品保本保息。', language: 'zh-CN' },
  ...extra,
});

describe('ingest POST /v1/calls (real Kafka)', () => {
  let app: Awaited<ReturnType<typeof buildIngest>>;
  before(async () => {
    app = await buildIngest();
  });
  after(async () => {
    await app.close();
  });

  test('[REG-02][REG-06] a CDR is acknowledged after Kafka holds it, sealed, keyed by the customer blind index', async () => {
    const corpId = uniqueCorp('callcorp');
    const res = await app.inject({
      method: 'POST',
      url: '/v1/calls',
      headers: callerHeaders(),
      payload: cdr(corpId),
    });
    assert.equal(res.statusCode, 202, res.body);
    const body = res.json<{ id: string; callId: string }>();
    assert.equal(body.id, callArchiveId(corpId, 'CALL-20261125-0001'));
    // re-posting is harmless here; the archiver keeps one row per (corp, callId)
    assert.equal(
      (await app.inject({ method: 'POST', url: '/v1/calls', headers: callerHeaders(), payload: cdr(corpId) }))
        .statusCode,
      202,
    );

    const records = await readTopicForCorp<ArchivedCallV1>(Topics.calls, corpId, 2);
    const expectedIndex = await phoneIndex(keys, '13900001111');
    for (const { raw, key, value } of records) {
      for (const needle of ['13900001111', '139-0000-1111', '保本保息', 'agent-0451']) {
        assert.ok(!raw.includes(Buffer.from(needle)), `no plaintext "${needle}" on Kafka`);
      }
      assert.equal(key, expectedIndex, 'keyed by the blind index of the normalised number');
      assert.equal(value.kind, 'cdr');
      assert.equal(value.customerIndex, expectedIndex);
      assert.equal(value.customerNumber, '+86 139-0000-1111');
      assert.equal(value.startTime, Date.parse('2026-11-25T02:00:00.000Z'));
      assert.equal(value.transcript?.text, '您好，我是某某银行客服，工号0451，这款产品保本保息。');
      assert.match(value.contentMac, /^[0-9a-f]{64}$/);
    }
    assert.equal(records[0]!.value.contentMac, records[1]!.value.contentMac, 'same CDR, same fingerprint');
  });

  test('bad CDRs are refused with 400 and the reason', async () => {
    const corpId = uniqueCorp('callcorp');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ customerNumber: undefined }, /customerNumber/],
      [{ customerNumber: 'call me maybe' }, /customerNumber/],
      [{ direction: 'sideways' }, /direction/],
      [{ startTime: 'yesterday' }, /startTime/],
      [{ endTime: '2026-11-25T01:59:00.000Z' }, /ends before it starts/],
      [{ endTime: '2026-11-27T02:00:00.000Z' }, /24 hours/],
      [{ businessType: '' }, /businessType/],
      [{ callId: 'has spaces' }, /callId/],
      [{ recordingUrl: 'http://x' }, /additional/i],
    ];
    for (const [change, reason] of cases) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/calls',
        headers: callerHeaders(),
        payload: cdr(corpId, change),
      });
      assert.equal(res.statusCode, 400, JSON.stringify(change));
      assert.match(res.json<{ message: string }>().message, reason);
    }
    const malformed = await app.inject({
      method: 'POST',
      url: '/v1/calls',
      headers: { 'content-type': 'application/json', ...callerHeaders() },
      payload: '{"corpId": "x",',
    });
    assert.equal(malformed.statusCode, 400);
  });
});

describe('ingest POST /v1/events (real Kafka)', () => {
  let app: Awaited<ReturnType<typeof buildIngest>>;
  before(async () => {
    app = await buildIngest();
  });
  after(async () => {
    await app.close();
  });

  const at = '2026-11-25T03:00:00+08:00';
  const valid = [
    {
      type: 'customer_deleted',
      eventId: 'e1',
      occurredAt: at,
      staffId: 'liqiang',
      customer: { externalUserId: 'wmCust001' },
    },
    {
      type: 'customer_blocked',
      eventId: 'e2',
      occurredAt: at,
      staffId: 'liqiang',
      customer: { externalUserId: 'wmCust002' },
      reason: '骚扰',
    },
    {
      type: 'red_packet_sent',
      eventId: 'e3',
      occurredAt: at,
      staffId: 'liqiang',
      customer: { externalUserId: 'wmCust001' },
      amountFen: 8800,
    },
    {
      type: 'external_link_sent',
      eventId: 'e4',
      occurredAt: at,
      staffId: 'liqiang',
      roomId: 'wrRoom1',
      url: 'https://example.com/fund?id=1',
      title: '高收益理财',
    },
    {
      type: 'sms_sent',
      eventId: 'e5',
      occurredAt: at,
      staffId: 'liqiang',
      customer: { phone: '13712345678' },
      content: '您的验证码是 123456',
    },
    {
      type: 'call_placed',
      eventId: 'e6',
      occurredAt: at,
      staffId: 'liqiang',
      direction: 'outbound',
      workPhone: '021-5555-0000',
      customer: { phone: '+8613712345678' },
      durationSec: 95,
    },
    {
      type: 'consent_given',
      eventId: 'e7',
      occurredAt: at,
      staffId: 'liqiang',
      customer: { externalUserId: 'wmCust001', phone: '13712345678' },
      category: 'marketing.wealth',
      channel: 'wecom',
    },
    {
      type: 'consent_withdrawn',
      eventId: 'e8',
      occurredAt: at,
      staffId: 'liqiang',
      customer: { externalUserId: 'wmCust001' },
      category: 'marketing.insurance',
      channel: 'phone',
    },
  ];

  test('[REG-08][REG-13] every behaviour event type is accepted, sealed, keyed by the customer', async () => {
    const corpId = uniqueCorp('evcorp');
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: callerHeaders(),
      payload: { corpId, events: valid },
    });
    assert.equal(res.statusCode, 202, res.body);
    const body = res.json<EventBatchReply>();
    assert.deepEqual(
      body.accepted.map((a) => a.eventId),
      valid.map((e) => e.eventId),
    );
    assert.equal(body.accepted[0]!.id, eventArchiveId(corpId, 'e1'));

    const records = await readTopicForCorp<ArchivedBehaviourEventV1>(Topics.events, corpId, valid.length);
    assert.equal(records.length, valid.length);
    const cust1 = await externalUserIndex(keys, 'wmCust001');
    const phone = await phoneIndex(keys, '13712345678');
    for (const { raw } of records) {
      for (const needle of ['wmCust001', '13712345678', '123456', '高收益', '骚扰']) {
        assert.ok(!raw.includes(Buffer.from(needle)), `no plaintext "${needle}" on Kafka`);
      }
    }
    const byId = new Map(records.map((r) => [r.value.event.eventId, r]));
    assert.equal(byId.get('e1')!.key, cust1);
    assert.equal(byId.get('e1')!.value.customerIndex, cust1);
    assert.equal(byId.get('e5')!.value.phoneIndex, phone);
    assert.equal(byId.get('e6')!.value.phoneIndex, phone, '+86 prefix normalised away');
    assert.equal(byId.get('e7')!.value.customerIndex, cust1);
    assert.equal(byId.get('e7')!.value.phoneIndex, phone);
    assert.equal(byId.get('e4')!.key, 'staff:liqiang', 'no customer: keyed by the employee');
    const consent = byId.get('e8')!.value.event;
    assert.ok(consent.type === 'consent_withdrawn' && consent.category === 'marketing.insurance');
  });

  test('invalid events get a reason each; valid neighbours are still accepted (400)', async () => {
    const corpId = uniqueCorp('evcorp');
    const events = [
      valid[0],
      { ...valid[0], eventId: 'x1', type: 'customer_teleported' },
      { ...valid[0], eventId: 'x2', customer: {} },
      { ...valid[0], eventId: 'x3', customer: undefined },
      { ...valid[0], eventId: 'x4', occurredAt: 'last tuesday' },
      { ...valid[6], eventId: 'x5', category: undefined },
      { ...valid[6], eventId: 'x6', category: 'Marketing Wealth' },
      { ...valid[2], eventId: 'x7', amountFen: -5 },
      { ...valid[0], eventId: 'x8', extra: true },
      'not an object',
      { ...valid[1], eventId: 'ok-2' },
    ];
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: callerHeaders(),
      payload: { corpId, events },
    });
    assert.equal(res.statusCode, 400);
    const body = res.json<EventBatchReply>();
    assert.deepEqual(
      body.accepted.map((a) => a.eventId),
      ['e1', 'ok-2'],
    );
    const byIndex = new Map(body.rejected.map((r) => [r.index, r]));
    assert.deepEqual([...byIndex.keys()], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const paths = (i: number) => byIndex.get(i)!.errors.map((e) => e.path);
    assert.deepEqual(paths(1), ['/type']);
    assert.ok(paths(2).includes('/customer'), JSON.stringify(byIndex.get(2)));
    assert.ok(paths(3).includes('/customer'));
    assert.ok(paths(4).includes('/occurredAt'));
    assert.ok(paths(5).includes('/category'));
    assert.ok(paths(6).includes('/category'));
    assert.ok(paths(7).includes('/amountFen'));
    assert.ok(paths(8).includes('/extra'));
    assert.equal(byIndex.get(9)!.errors[0]!.message, 'event must be a JSON object');
    assert.equal(byIndex.get(4)!.eventId, 'x4');

    const records = await readTopicForCorp<ArchivedBehaviourEventV1>(Topics.events, corpId, 2);
    assert.deepEqual(records.map((r) => r.value.event.eventId).sort(), ['e1', 'ok-2']);
  });

  test('a batch over 1000 events is refused whole', async () => {
    const events = Array.from({ length: 1001 }, (_, i) => ({ ...valid[0], eventId: `b${i}` }));
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: callerHeaders(),
      payload: { corpId: uniqueCorp(), events },
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.json<{ message: string }>().message, /1000/);
  });
});

describe('ingest calls and events with Kafka down', () => {
  test('503 and nothing acknowledged', async () => {
    const app = await buildIngest(['127.0.0.1:9']);
    try {
      const corpId = uniqueCorp();
      const call = await app.inject({
        method: 'POST',
        url: '/v1/calls',
        headers: callerHeaders(),
        payload: cdr(corpId),
      });
      assert.equal(call.statusCode, 503);
      assert.equal(call.json<{ code: string }>().code, 'kafka_unavailable');
      const events = await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: callerHeaders(),
        payload: {
          corpId,
          events: [
            {
              type: 'customer_deleted',
              eventId: 'd1',
              occurredAt: '2026-11-25T00:00:00Z',
              staffId: 's',
              customer: { externalUserId: 'w' },
            },
          ],
        },
      });
      assert.equal(events.statusCode, 503);
      assert.equal(events.json<{ accepted?: unknown }>().accepted, undefined);
    } finally {
      await app.close();
    }
  });
});
