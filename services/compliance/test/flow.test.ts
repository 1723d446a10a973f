/**
 * The live flow on the real stack: ingest → Kafka → compliance (open with its own credential,
 * scan, alert rows) → cz.alert.v1 → the archiver attaches the alert to its message; call
 * transcripts and SMS events; negations; bad input (unreadable records, a huge text).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaHeaders, Topics, type AlertV1 } from '@cz/contracts';
import {
  callArchiveId,
  createServer,
  eventArchiveId,
  kafkaTransport,
  keyProviderFromEnv,
  messageArchiveId,
} from '@cz/common';
import { openSealed, sealBuffer } from '@cz/common/crypto';
import {
  archivedMessage,
  archiverDrained,
  buildArchiver,
  buildIngest,
  callerHeaders,
  createTestDatabase,
  eventually,
  loadStackEnv,
  readDeadLetters,
  uniqueCorp,
  type DeadLetterReader,
  type TestArchiver,
  type TestDatabase,
} from '@cz/testkit';
import type { AlertDetail } from '../src/flow/alerts';
import { buildCompliance, complianceDrained, complianceReady, type TestCompliance } from './flow-kit';

loadStackEnv();
const keys = keyProviderFromEnv();

/** Cleans up what was built, whatever failed before (a failed `before` leaves some unset). */
const quietly = async (step: () => Promise<unknown> | undefined) => {
  try {
    await step();
  } catch {
    // not built
  }
};

interface AlertRow {
  id: string;
  corp_id: string;
  kind: string;
  category: string;
  severity: string;
  rule_id: string;
  lexicon_version: number;
  retroactive: number;
  record_kind: string;
  msgid: string | null;
  call_id: string | null;
  event_id: string | null;
  doc_id: string;
  doc_time: Date | null;
  conversation_id: string | null;
  employee: string | null;
  org_unit_id: string | null;
  assigned_org_unit_id: string | null;
  status: string;
  raised_at: Date;
  due_at: Date | null;
  published_at: Date | null;
  sealed_detail: Buffer;
}

const text = (msgid: string, content: string, from = 'liqiang', msgtime = Date.now()) => ({
  msgid,
  action: 'send',
  from,
  tolist: ['wmCust7'],
  msgtime,
  msgtype: 'text',
  text: { content },
});

describe('compliance live flow (real stack)', () => {
  let db: TestDatabase;
  let archiverApp: TestArchiver;
  let ingestApp: ReturnType<typeof createServer>;
  let app: TestCompliance;
  let deadLetters: DeadLetterReader;
  const kafka = new Kafka({
    clientId: 'cz-compliance-flow-test',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });

  before(async () => {
    db = await createTestDatabase();
    archiverApp = await buildArchiver(db, keys, 'cz-archiver-compliance-flow');
    ingestApp = await buildIngest(keys, 'cz-ingest-compliance-flow');
    app = await buildCompliance(db, keys);
    await producer.connect();
    deadLetters = await readDeadLetters([Topics.messages], [app.groupId]);
    await complianceReady(app);
    // a fresh group reads the topics' history first: what follows is measured on live traffic
    await complianceDrained(app.groupId, 240000);
    await archiverDrained(archiverApp, { timeoutMs: 240000 });
  });
  after(async () => {
    await quietly(() => deadLetters.stop());
    await quietly(() => producer.disconnect());
    await quietly(() => app.close());
    await quietly(() => ingestApp.close());
    await quietly(() => archiverApp.close());
    await quietly(() => db.drop());
  });

  const post = async (url: string, payload: Record<string, unknown>) => {
    const res = await ingestApp.inject({ method: 'POST', url, headers: callerHeaders(), payload });
    assert.equal(res.statusCode, 202, res.body);
  };

  const alertsOf = (corpId: string, where = '1 = 1', params: unknown[] = []) =>
    db.query<AlertRow>(
      `SELECT *, HEX(doc_id) AS doc_id FROM compliance_alert WHERE corp_id = ? AND ${where} ORDER BY raised_at, id`,
      [corpId, ...params],
    );

  const detailOf = async (row: AlertRow): Promise<AlertDetail> =>
    JSON.parse(
      (
        await openSealed(row.sealed_detail, keys, { kind: 'compliance_alert', corp: row.corp_id, id: row.id })
      ).plaintext.toString('utf8'),
    ) as AlertDetail;

  it('[REG-03] a message posted through ingest raises an alert, published to cz.alert.v1 and attached to the message by the archiver', async () => {
    const corpId = uniqueCorp('cflow');
    await db.query(
      `INSERT INTO employee (corp_id, userid, org_unit_id, name_index, sealed_profile, kek_id, kek_version, updated_at)
       VALUES (?, 'liqiang', 'branch-sh', NULL, ?, 'test', 1, NOW(3))`,
      [corpId, Buffer.from('not read here')],
    );
    const content = '王姐您好，这款理财产品保本保息，年化收益8%，放心买';
    const msgtime = Date.now() - 60000;
    const started = Date.now();
    await post('/v1/wecom/messages', { corpId, messages: [text('m-hit', content, 'liqiang', msgtime)] });

    // two guaranteed-return rules hit (保本保息 and the 年化 8% regex): the 保本保息 rule's alert
    const at = content.indexOf('保本保息');
    const { alert, detail } = await eventually(
      'the guaranteed-return alert published',
      async () => {
        const rows = await alertsOf(corpId, "category = 'guaranteed_return' AND published_at IS NOT NULL");
        for (const row of rows) {
          const opened = await detailOf(row);
          if (opened.hits.some((h) => h.start >= at && h.end <= at + 4 && h.ruleId === row.rule_id))
            return { alert: row, detail: opened };
        }
        return undefined;
      },
      20000,
    );
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds < 10, `ingest → alert published took ${seconds} s`);
    assert.ok(alert);
    assert.equal(alert.kind, 'lexicon.guaranteed_return');
    assert.equal(alert.record_kind, 'message');
    assert.equal(alert.msgid, 'm-hit');
    assert.equal(alert.doc_id.toLowerCase(), messageArchiveId(corpId, 'm-hit'));
    assert.equal(new Date(alert.doc_time!).getTime(), msgtime);
    assert.equal(alert.conversation_id, 'p:liqiang|wmCust7');
    assert.equal(alert.employee, 'liqiang', 'the employee of the conversation, not the customer');
    assert.equal(alert.org_unit_id, 'branch-sh');
    assert.equal(alert.assigned_org_unit_id, 'branch-sh');
    assert.equal(alert.status, 'open');
    assert.equal(Number(alert.retroactive), 0);
    assert.ok(Number(alert.lexicon_version) >= 1);
    assert.ok(
      alert.due_at && new Date(alert.due_at).getTime() > msgtime,
      'an SLA due time from the record time',
    );
    assert.ok(!alert.sealed_detail.includes(Buffer.from('保本')), 'the detail is sealed');

    assert.ok(
      detail.hits.some((h) => h.start >= at && h.end <= at + 4 && h.ruleId === alert.rule_id),
      `a hit inside 保本保息 (${JSON.stringify(detail.hits)})`,
    );
    assert.ok(detail.explanation.length > 0);
    assert.ok(detail.reg.includes('REG-03'));

    const events = await db.query<{ action: string; actor: string; to_status: string }>(
      'SELECT action, actor, to_status FROM compliance_alert_event WHERE alert_id = ?',
      [alert.id],
    );
    assert.deepEqual(events, [{ action: 'raised', actor: 'system', to_status: 'open' }]);

    // the archiver keeps cz.alert.v1 and attaches it to the message
    const [stored] = await eventually('the alert stored by the archiver', async () => {
      const rows = await db.query<{ id: string; kind: string; source: string; sealed_record: Buffer }>(
        'SELECT id, kind, source, sealed_record FROM alert WHERE id = ?',
        [alert.id],
      );
      return rows.length > 0 ? rows : undefined;
    });
    assert.equal(stored!.kind, 'lexicon.guaranteed_return');
    assert.equal(stored!.source, 'compliance');
    const travelled = JSON.parse(
      (await openSealed(stored!.sealed_record, keys)).plaintext.toString('utf8'),
    ) as AlertV1;
    assert.equal(travelled.msgid, 'm-hit');
    assert.equal(travelled.severity, alert.severity);
    assert.deepEqual(
      {
        rule: travelled.detail.rule,
        category: travelled.detail.category,
        retroactive: travelled.detail.retroactive,
      },
      { rule: alert.rule_id, category: 'guaranteed_return', retroactive: false },
    );
    assert.equal(travelled.detail.hits, detail.hits.length, 'counts only travel');
    assert.ok(!JSON.stringify(travelled).includes('保本'), 'no text of the message in the alert');
    await eventually('the alert attached to the message', async () => {
      const rows = await db.query(
        'SELECT doc_time FROM alert_target WHERE doc_id = UNHEX(?) AND alert_id = ? AND doc_time IS NOT NULL',
        [messageArchiveId(corpId, 'm-hit'), alert.id],
      );
      return rows.length > 0 ? rows : undefined;
    });
  });

  it('[REG-03] a call-centre transcript hit names the call, its agent and the transcript segment', async () => {
    const corpId = uniqueCorp('ccall');
    const transcript = '坐席：您好，这里是财富中心\n客户：收益怎么样\n坐席：这个产品保本保息，稳赚不赔';
    await post('/v1/calls', {
      corpId,
      callId: 'call-1',
      agentId: 'agent007',
      customerNumber: '13800001111',
      direction: 'outbound',
      startTime: '2026-11-20T09:00:00+08:00',
      endTime: '2026-11-20T09:05:00+08:00',
      businessType: 'wealth',
      transcript: { text: transcript, language: 'zh-CN' },
    });
    const alerts = await eventually('the call alerts', async () => {
      const rows = await alertsOf(corpId, "category = 'guaranteed_return'");
      return rows.length >= 2 ? rows : undefined;
    });
    const at = transcript.indexOf('保本保息');
    let hit: AlertDetail['hits'][number] | undefined;
    for (const alert of alerts) {
      assert.equal(alert.record_kind, 'call');
      assert.equal(alert.call_id, 'call-1');
      assert.equal(alert.msgid, null);
      assert.equal(alert.doc_id.toLowerCase(), callArchiveId(corpId, 'call-1'));
      assert.equal(alert.employee, 'agent007', 'the agent');
      assert.equal(new Date(alert.doc_time!).toISOString(), '2026-11-20T01:00:00.000Z');
      hit ??= (await detailOf(alert)).hits.find((h) => h.start >= at && h.end <= at + 4);
    }
    assert.ok(hit, 'a hit inside 保本保息');
    assert.equal(hit.segment, 2, 'the third line of the transcript');
  });

  it('[REG-03] an SMS sent to a customer (behaviour event) is scanned too', async () => {
    const corpId = uniqueCorp('csms');
    await post('/v1/events', {
      corpId,
      events: [
        {
          type: 'sms_sent',
          eventId: 'sms-1',
          occurredAt: '2026-11-21T09:06:00+08:00',
          staffId: 'wangfang',
          customer: { phone: '13500003333' },
          content: '【某银行】尊敬的客户，新品保本保息，详询客户经理',
        },
      ],
    });
    const [alert] = await eventually('the SMS alert', async () => {
      const rows = await alertsOf(corpId, "category = 'guaranteed_return'");
      return rows.length > 0 ? rows : undefined;
    });
    assert.equal(alert!.record_kind, 'event');
    assert.equal(alert!.event_id, 'sms-1');
    assert.equal(alert!.doc_id.toLowerCase(), eventArchiveId(corpId, 'sms-1'));
    assert.equal(alert!.employee, 'wangfang');
  });

  it('[REG-03] negations and neutral chat raise nothing; recalls and empty texts are not scanned', async () => {
    const corpId = uniqueCorp('cneg');
    const now = Date.now();
    await post('/v1/wecom/messages', {
      corpId,
      messages: [
        text('n-1', '我们的理财产品不保本，投资有风险，请谨慎选择', 'liqiang', now),
        text('n-2', '好的，明天下午三点在网点见', 'liqiang', now + 1),
        text('n-3', '请勿私下转账，我们不收取任何加急费', 'liqiang', now + 2),
        {
          msgid: 'n-4',
          action: 'recall',
          from: 'liqiang',
          tolist: ['wmCust7'],
          msgtime: now + 3,
          msgtype: 'revoke',
          revoke: { pre_msgid: 'n-1' },
        },
        text('sentinel', '保本保息', 'liqiang', now + 4),
      ],
    });
    await eventually('the sentinel alert', async () => {
      const rows = await alertsOf(corpId, "msgid = 'sentinel'");
      return rows.length > 0 ? rows : undefined;
    });
    await complianceDrained(app.groupId);
    const rows = await alertsOf(corpId, "msgid <> 'sentinel'");
    assert.deepEqual(
      rows.map((r) => `${r.msgid} ${r.rule_id}`),
      [],
      'no alert on negations, neutral chat or a recall',
    );
  });

  it('[REG-03] an unreadable record goes to the DLQ with the reason, leaves a failure row and one critical security alert; the batch goes on', async () => {
    const corpId = uniqueCorp('cbad');
    const headers = { [KafkaHeaders.schema]: 'cz.msg.v1', [KafkaHeaders.corpId]: corpId };
    const good = archivedMessage({
      corpId,
      msgid: 'after-bad',
      from: 'liqiang',
      tolist: ['wmCust7'],
      msgtime: Date.now(),
      text: '这个产品保本保息',
    });
    const sealedGood = await sealBuffer(Buffer.from(JSON.stringify(good)), keys, 'chat', {
      kind: 'msg',
      corp: corpId,
      id: good.id,
    });
    const tampered = Buffer.from(sealedGood);
    tampered[tampered.length - 3]! ^= 0x01;
    await producer.send({
      topic: Topics.messages,
      acks: -1,
      messages: [
        { key: corpId, value: randomBytes(64), headers },
        { key: corpId, value: tampered, headers },
        { key: corpId, value: sealedGood, headers },
      ],
    });
    await eventually('the good record after the bad ones is scanned', async () => {
      const rows = await alertsOf(corpId, "msgid = 'after-bad'");
      return rows.length > 0 ? rows : undefined;
    });
    const dead = await eventually('two dead letters', async () => {
      const found = deadLetters.of(corpId);
      return found.length >= 2 ? found : undefined;
    });
    assert.equal(dead.length, 2);
    for (const letter of dead) {
      assert.match(letter.error, /^crypto:/);
      assert.equal(letter.sourceTopic, Topics.messages);
    }
    const failures = await db.query<{ error: string; topic: string }>(
      'SELECT error, topic FROM compliance_scan_failure WHERE corp_id = ?',
      [corpId],
    );
    assert.equal(failures.length, 2);
    const security = await db.query<{ id: string; kind: string; severity: string; source: string }>(
      'SELECT id, kind, severity, source FROM completeness_alert WHERE corp_id = ?',
      [corpId],
    );
    assert.equal(security.length, 2, 'one per unreadable record');
    for (const s of security) {
      assert.equal(s.kind, 'integrity.unreadable');
      assert.equal(s.severity, 'critical');
      assert.equal(s.source, 'compliance');
    }
    // the archiver publishes that outbox (completeness sweep) like the portal's integrity alerts
  });

  it('[REG-03] a 1 MB text is scanned in bounded time, hits at both ends found', async () => {
    const corpId = uniqueCorp('chuge');
    const filler = '今天天气不错，我们聊聊家常，'.repeat(Math.ceil(1_000_000 / 14)).slice(0, 1_000_000);
    const huge = archivedMessage({
      corpId,
      msgid: 'huge',
      from: 'liqiang',
      tolist: ['wmCust7'],
      msgtime: Date.now(),
      text: `保本保息${filler}保本保息`,
    });
    const started = Date.now();
    await producer.send({
      topic: Topics.messages,
      acks: -1,
      messages: [
        {
          key: corpId,
          value: await sealBuffer(Buffer.from(JSON.stringify(huge)), keys, 'chat', {
            kind: 'msg',
            corp: corpId,
            id: huge.id,
          }),
          headers: { [KafkaHeaders.schema]: 'cz.msg.v1', [KafkaHeaders.corpId]: corpId },
        },
      ],
    });
    const [alert] = await eventually('the huge text scanned', async () => {
      const rows = await alertsOf(corpId, "category = 'guaranteed_return'");
      return rows.length > 0 ? rows : undefined;
    });
    assert.ok(Date.now() - started < 20000, `scanned in ${Date.now() - started} ms`);
    const detail = await detailOf(alert!);
    assert.ok(detail.hits.some((h) => h.start < 4));
    assert.ok(detail.hits.some((h) => h.start >= huge.text.length - 4));
  });
});
