/**
 * Alerts and call transcripts in search and the conversation view, through the whole path: chats
 * and CDRs posted to ingest, alerts and an ASR transcript produced to Kafka, archived by the
 * archiver, found by the portal (real MariaDB + Kafka).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import type { DataSource } from 'typeorm';
import {
  KafkaHeaders,
  Topics,
  type AlertV1,
  type CallTranscriptV1,
  type ConversationReply,
  type LoginReply,
  type SearchHit,
  type SearchReply,
} from '@cz/contracts';
import {
  alertRecord,
  callArchiveId,
  createMainDataSource,
  createServer,
  kafkaTransport,
  keyProviderFromEnv,
  messageArchiveId,
  phoneIndex,
} from '@cz/common';
import { sealBuffer } from '@cz/common/crypto';
import {
  buildArchiver,
  buildIngest,
  callerHeaders,
  createTestDatabase,
  eventually,
  loadStackEnv,
  type TestDatabase,
  uniqueCorp,
} from '@cz/testkit';
import portal from '../src/app';
import { upsertUser } from '../src/users';
import { setUserScope } from '../src/scope';

loadStackEnv();
const keys = keyProviderFromEnv();

const corpId = uniqueCorp('palert');
const employee = `emp-${randomBytes(3).toString('hex')}`;
const customer = `wmCust${randomBytes(3).toString('hex')}`;
// a time range of this run's own: other records in the test database (every test archiver reads
// the topics from the beginning) are outside it
const base = Date.UTC(2025, 1, 3, 4) + Math.floor(Math.random() * 10_000) * 3_600_000;
const MIN = 60_000;
const range = { from: new Date(base - MIN).toISOString(), to: new Date(base + 10 * MIN).toISOString() };

// no lexicon term in any text: the running compliance engine raises no alerts of its own on them
const CHATS = [
  { msgid: 'm1', at: base, text: '您好，这款理财的起息日是周三' },
  { msgid: 'm2', at: base + MIN, text: '请问利率多少' },
  { msgid: 'm3', at: base + 2 * MIN, text: '好的谢谢' },
  { msgid: 'm4', at: base + 3 * MIN, text: '明天来签合同' },
  { msgid: 'm5', at: base + 4 * MIN, text: '这款产品的净值每日公布' },
  { msgid: 'm6', at: base + 5 * MIN, text: '收到' },
];
const CALL_ID = `CALL-${randomBytes(3).toString('hex')}`;
const CALL_AT = base + 3.5 * MIN;
const CALL_PK = callArchiveId(corpId, CALL_ID);
const ASR_TEXT = '提前还款要付违约金，合同里写了';
const idOf = (msgid: string) => messageArchiveId(corpId, msgid);

const alert = (fields: Partial<AlertV1>): AlertV1 => ({
  schema: 'cz.alert.v1',
  id: randomBytes(16).toString('hex'),
  corpId,
  kind: 'lexicon_hit',
  severity: 'warning',
  source: 'compliance',
  raisedAt: base + 10 * MIN,
  detail: {},
  ...fields,
});
const A = {
  m1: alert({
    msgid: 'm1',
    severity: 'critical',
    detail: { rule: 'R-guarantee', category: 'guaranteed_return', hits: 1 },
  }),
  m1b: alert({ msgid: 'm1', kind: 'complaint', severity: 'info', raisedAt: base + 11 * MIN }),
  m2: alert({ msgid: 'm2', kind: 'complaint', severity: 'info', detail: { rule: 'R-complaint' } }),
  // raised (and delivered) before its message is archived
  m4: alert({ msgid: 'm4', severity: 'warning', detail: { category: 'contract' } }),
  call: alert({ callId: CALL_ID, kind: 'opening_missing', severity: 'warning', detail: { rule: 'REG-10' } }),
};

describe('search and conversation view: alerts attached, call transcripts indexed (real MariaDB + Kafka)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let archiverApp: ReturnType<typeof createServer>;
  let ingestApp: ReturnType<typeof createServer>;
  let app: ReturnType<typeof createServer>;
  let token: string;
  const kafka = new Kafka({
    clientId: 'cz-portal-alerts-test',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });

  const sendAlerts = async (alerts: AlertV1[]) =>
    producer.send({
      topic: Topics.alerts,
      acks: -1,
      messages: await Promise.all(alerts.map((a) => alertRecord(a, keys))),
    });

  before(async () => {
    db = await createTestDatabase();
    ds = createMainDataSource(db.config);
    await ds.initialize();
    await upsertUser(ds, {
      username: 'auditor',
      displayName: '审计员',
      roles: ['auditor'],
      password: 'Auditor#2026',
    });
    // head office: sees every record (scopes are another test's subject)
    await setUserScope(ds, 'auditor', { all: true, units: [] }, 'test');
    archiverApp = await buildArchiver(db, keys, 'cz-portal-alerts-test');
    ingestApp = await buildIngest(keys, 'cz-ingest-portal-alerts-test');
    app = createServer('portal', { logger: false });
    await app.register(portal, { database: db.config, keys, cursorKey: randomBytes(32) });
    await app.ready();
    const login = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { username: 'auditor', password: 'Auditor#2026' },
    });
    token = login.json<LoginReply>().token;
    await producer.connect();

    // 1. an alert on m4 before m4 exists
    await sendAlerts([A.m4]);
    await eventually('the early alert stored', async () =>
      (await db.query('SELECT id FROM alert WHERE id = ?', [A.m4.id])).length ? true : undefined,
    );
    // 2. the chats and the call (without a transcript of its own)
    const posted = await ingestApp.inject({
      method: 'POST',
      url: '/v1/wecom/messages',
      headers: callerHeaders(),
      payload: {
        corpId,
        messages: CHATS.map((c, i) => ({
          msgid: c.msgid,
          action: 'send',
          from: i % 2 === 0 ? employee : customer,
          tolist: [i % 2 === 0 ? customer : employee],
          msgtime: c.at,
          msgtype: 'text',
          text: { content: c.text },
        })),
      },
    });
    assert.equal(posted.statusCode, 202, posted.body);
    const cdr = await ingestApp.inject({
      method: 'POST',
      url: '/v1/calls',
      headers: callerHeaders(),
      payload: {
        corpId,
        callId: CALL_ID,
        agentId: employee,
        customerNumber: '13800006666',
        direction: 'outbound',
        startTime: new Date(CALL_AT).toISOString(),
        endTime: new Date(CALL_AT + 2 * MIN).toISOString(),
        businessType: 'loan',
      },
    });
    assert.equal(cdr.statusCode, 202, cdr.body);
    await eventually('chats and call archived', async () => {
      const [m] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM message WHERE corp_id = ?', [
        corpId,
      ]);
      const [c] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM call_record WHERE id = ?', [
        CALL_PK,
      ]);
      return Number(m!.n) === CHATS.length && Number(c!.n) === 1 ? true : undefined;
    });
    // 3. alerts on archived records (m1's twice: an at-least-once outbox), and the ASR transcript
    await sendAlerts([A.m1, A.m1, A.m1b, A.m2, A.call]);
    const transcript: CallTranscriptV1 = {
      schema: 'cz.call.v1',
      kind: 'transcript',
      corpId,
      callId: CALL_ID,
      callPk: CALL_PK,
      customerIndex: await phoneIndex(keys, '13800006666'),
      recordingId: 'd'.repeat(32),
      source: 'asr',
      model: 'paraformer-zh',
      language: 'zh',
      text: ASR_TEXT,
      createdAt: base + 30 * MIN,
    };
    await producer.send({
      topic: Topics.calls,
      acks: -1,
      messages: [
        {
          key: transcript.customerIndex,
          value: await sealBuffer(Buffer.from(JSON.stringify(transcript)), keys, 'chat'),
          headers: { [KafkaHeaders.corpId]: corpId },
        },
      ],
    });
    await eventually('every alert attached and the transcript stored', async () => {
      const [records] = await db.query<{ n: number }>(
        'SELECT COALESCE(SUM(alert_count), 0) AS n FROM alert_record WHERE doc_time >= ? AND doc_time < ?',
        [new Date(range.from), new Date(range.to)],
      );
      const [asr] = await db.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM call_transcript WHERE call_pk = ? AND source = 'asr'`,
        [CALL_PK],
      );
      return Number(records!.n) === 5 && Number(asr!.n) === 1 ? true : undefined;
    });
  });
  after(async () => {
    await producer.disconnect();
    await app.close();
    await ingestApp.close();
    await archiverApp.close();
    await ds.destroy();
    await db.drop();
  });

  const qs = (params: Record<string, string | number | boolean | undefined>) =>
    Object.entries(params)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join('&');

  const search = async (params: Record<string, string | number | boolean | undefined>) => {
    const res = await app.inject({
      method: 'GET',
      url: `/v1/search?${qs(params)}`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<SearchReply>();
  };
  const hitId = (h: SearchHit) => (h.kind === 'message' ? h.message.id : h.call.id);

  /** Every page, following the cursors. */
  const searchAll = async (params: Record<string, string | number | boolean | undefined>) => {
    const hits: SearchHit[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 50; pages += 1) {
      const reply = await search({ ...params, cursor });
      hits.push(...reply.items);
      cursor = reply.nextCursor ?? undefined;
      if (!cursor) return hits;
    }
    throw new Error('pagination does not end');
  };

  const ALERTED_DESC = [CALL_PK, idOf('m4'), idOf('m2'), idOf('m1')];

  test('hasAlert returns exactly the records with an alert attached, also one alerted before it was archived', async () => {
    const everything = await searchAll({ employee, limit: 100 });
    assert.equal(everything.length, CHATS.length + 1, 'without the filter: every chat and the call');

    const byEmployee = await searchAll({ employee, hasAlert: true, limit: 2 });
    assert.deepEqual(byEmployee.map(hitId), ALERTED_DESC, 'filtered while an employee index drives');
    // only the alert index bounds this one: it drives the scan
    const byWindow = await searchAll({ ...range, hasAlert: true, limit: 2 });
    assert.deepEqual(
      byWindow.map(hitId),
      ALERTED_DESC,
      'driven by the alert index, in time order, across pages',
    );
    const asc = await searchAll({ ...range, hasAlert: true, sort: 'asc' });
    assert.deepEqual(asc.map(hitId), [...ALERTED_DESC].reverse());
    const first = await search({ ...range, hasAlert: true });
    assert.deepEqual(first.total, { value: 4, relation: 'eq' });
    assert.equal(
      first.examined.scanned,
      4,
      'it reads the alerted records only, not every record of the range',
    );

    const notFiltered = await searchAll({ employee, hasAlert: false, limit: 100 });
    assert.equal(notFiltered.length, CHATS.length + 1, 'hasAlert=false is no filter');
  });

  test('by alert severity and kind', async () => {
    const ids = async (params: Record<string, string>) =>
      (await searchAll({ ...range, ...params })).map(hitId);
    assert.deepEqual(await ids({ alertSeverity: 'warning' }), [CALL_PK, idOf('m4'), idOf('m1')]);
    assert.deepEqual(await ids({ alertSeverity: 'critical' }), [idOf('m1')]);
    assert.deepEqual(await ids({ alertKind: 'complaint' }), [idOf('m2'), idOf('m1')]);
    assert.deepEqual(
      await ids({ alertKind: 'complaint', alertSeverity: 'warning' }),
      [],
      'one alert must satisfy both',
    );
    assert.deepEqual(await ids({ alertKind: 'opening_missing', kind: 'call' }), [CALL_PK]);
    assert.deepEqual(await ids({ alertKind: 'opening_missing', kind: 'message' }), []);
    assert.deepEqual(await ids({ alertKind: 'no_such_kind' }), []);
    const bad = await app.inject({
      method: 'GET',
      url: `/v1/search?${qs({ ...range, alertSeverity: 'fatal' })}`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(bad.statusCode, 400);
  });

  test('each hit carries the summary of its alerts: count, highest severity, kinds (most severe first)', async () => {
    const hits = await searchAll({ employee, limit: 100 });
    const summary = new Map(hits.map((h) => [hitId(h), h.alerts]));
    assert.deepEqual(summary.get(idOf('m1')), {
      count: 2,
      severity: 'critical',
      kinds: ['lexicon_hit', 'complaint'],
    });
    assert.deepEqual(summary.get(idOf('m2')), { count: 1, severity: 'info', kinds: ['complaint'] });
    assert.deepEqual(summary.get(idOf('m4')), { count: 1, severity: 'warning', kinds: ['lexicon_hit'] });
    assert.deepEqual(summary.get(CALL_PK), { count: 1, severity: 'warning', kinds: ['opening_missing'] });
    for (const msgid of ['m3', 'm5', 'm6']) assert.equal(summary.get(idOf(msgid)), null, `${msgid} has none`);
  });

  test('the conversation view attaches alerts per message: kind, severity, time, rule and category only', async () => {
    const [row] = await db.query<{ conversation_id: string }>(
      'SELECT conversation_id FROM message WHERE corp_id = ? LIMIT 1',
      [corpId],
    );
    const res = await app.inject({
      method: 'GET',
      url: `/v1/conversations/${corpId}/${encodeURIComponent(row!.conversation_id)}?around=${idOf('m3')}`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.statusCode, 200, res.body);
    const view = res.json<ConversationReply>();
    assert.deepEqual(
      view.items.map((m) => m.msgid),
      CHATS.map((c) => c.msgid),
    );
    const tags = new Map(view.items.map((m) => [m.msgid, m.alerts]));
    assert.deepEqual(tags.get('m1'), [
      {
        id: A.m1.id,
        kind: 'lexicon_hit',
        severity: 'critical',
        source: 'compliance',
        raisedAt: new Date(A.m1.raisedAt).toISOString(),
        rule: 'R-guarantee',
        category: 'guaranteed_return',
      },
      {
        id: A.m1b.id,
        kind: 'complaint',
        severity: 'info',
        source: 'compliance',
        raisedAt: new Date(A.m1b.raisedAt).toISOString(),
        rule: null,
        category: null,
      },
    ]);
    assert.deepEqual(
      tags.get('m4')?.map((t) => [t.id, t.severity, t.rule, t.category]),
      [[A.m4.id, 'warning', null, 'contract']],
    );
    assert.deepEqual(
      tags.get('m2')?.map((t) => t.rule),
      ['R-complaint'],
    );
    for (const msgid of ['m3', 'm5', 'm6']) assert.deepEqual(tags.get(msgid), [], `${msgid} has none`);
  });

  test('a keyword in a later ASR transcript finds the call in the same query as chats, in time order, without false positives', async () => {
    const ids = async (params: Record<string, string>) =>
      (await searchAll({ ...range, ...params })).map(hitId);
    // 合同: chat m4 and the call's ASR transcript
    assert.deepEqual(await ids({ q: '合同' }), [CALL_PK, idOf('m4')]);
    assert.deepEqual(await ids({ q: '合同', sort: 'asc' }), [idOf('m4'), CALL_PK]);
    // only in the transcript
    assert.deepEqual(await ids({ q: '违约金' }), [CALL_PK]);
    assert.deepEqual(await ids({ q: '提前还款' }), [CALL_PK]);
    assert.deepEqual(await ids({ q: '违约金', kind: 'message' }), []);
    // only in chats
    assert.deepEqual(await ids({ q: '起息日' }), [idOf('m1')]);
    // tokens the transcript has, but not as this phrase: verified away
    assert.deepEqual(await ids({ q: '违约合同' }), []);
    assert.deepEqual(await ids({ q: '合同 违约金' }), [CALL_PK], 'both words: only the call');
    assert.deepEqual(await ids({ q: '合同', hasAlert: 'true' }), [CALL_PK, idOf('m4')]);
    const [hit] = (await search({ ...range, q: '违约金' })).items;
    assert.ok(
      hit?.kind === 'call' && hit.call.transcript.includes('违约金'),
      'the transcript comes with the hit',
    );
  });
});
