import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaHeaders, Topics, type CallRecordingAttachedV1, type CallTranscriptV1 } from '@cz/contracts';
import {
  callArchiveId,
  createServer,
  eventArchiveId,
  externalUserIndex,
  kafkaTransport,
  keyProviderFromEnv,
  phoneIndex,
} from '@cz/common';
import { openBuffer, sealBuffer } from '@cz/common/crypto';
import {
  archiverDrained,
  buildArchiver,
  buildIngest,
  callerHeaders,
  createTestDatabase,
  type DeadLetterReader,
  eventually,
  loadStackEnv,
  readDeadLetters,
  type TestArchiver,
  type TestDatabase,
  uniqueCorp,
} from '@cz/testkit';

loadStackEnv();
const keys = keyProviderFromEnv();

const cdr = (corpId: string, callId: string, extra: Record<string, unknown> = {}) => ({
  corpId,
  callId,
  agentId: 'agent-7',
  customerNumber: '13600002222',
  direction: 'inbound',
  startTime: '2026-11-20T01:00:00Z',
  endTime: '2026-11-20T01:05:00Z',
  businessType: 'credit-card',
  transcript: { text: '我要投诉，你们私下转账收了加急费。' },
  ...extra,
});

describe('archiver: cz.call.v1 and cz.event.v1 → MariaDB (real stack)', () => {
  let db: TestDatabase;
  let archiverApp: TestArchiver;
  let ingestApp: ReturnType<typeof createServer>;
  const kafka = new Kafka({
    clientId: 'cz-archiver-calls-test',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let deadLetters: DeadLetterReader;

  before(async () => {
    db = await createTestDatabase();
    archiverApp = await buildArchiver(db, keys, 'cz-archiver-calls-test');
    ingestApp = await buildIngest(keys, 'cz-ingest-calls-test');
    await producer.connect();
    // only what this archiver dead-letters: the stack's running one reads the same topics
    deadLetters = await readDeadLetters(
      [Topics.calls, Topics.events],
      [`${archiverApp.groupId}-calls`, `${archiverApp.groupId}-events`],
    );
  });
  after(async () => {
    await deadLetters.stop();
    await producer.disconnect();
    await ingestApp.close();
    await archiverApp.close();
    await db.drop();
  });

  const dlqFor = (corp: string, count: number) =>
    eventually(`${count} DLQ records of ${corp}`, async () => {
      const list = deadLetters.of(corp);
      return list.length >= count ? list : undefined;
    });

  const sealed = async (value: unknown) => sealBuffer(Buffer.from(JSON.stringify(value)), keys, 'chat');

  test('[REG-02][REG-06] a CDR is stored once with filter columns, the number only as a blind index, the transcript sealed', async () => {
    const corpId = uniqueCorp('arcall');
    for (let i = 0; i < 2; i++) {
      const res = await ingestApp.inject({
        method: 'POST',
        url: '/v1/calls',
        headers: callerHeaders(),
        payload: cdr(corpId, 'C-1'),
      });
      assert.equal(res.statusCode, 202, res.body);
    }
    const id = callArchiveId(corpId, 'C-1');
    const [row] = await eventually('the CDR archived', async () => {
      const rows = await db.query<Record<string, unknown>>('SELECT * FROM call_record WHERE id = ?', [id]);
      return rows.length > 0 ? rows : undefined;
    });
    assert.equal(row!.agent_id, 'agent-7');
    assert.equal(row!.direction, 'inbound');
    assert.equal(row!.business_type, 'credit-card');
    assert.equal(String(row!.customer_index), await phoneIndex(keys, '+86 13600002222'));
    assert.equal(new Date(row!.start_time as Date).toISOString(), '2026-11-20T01:00:00.000Z');
    const [transcript] = await eventually('the transcript archived', async () => {
      const rows = await db.query<{ source: string; sealed_text: Buffer }>(
        'SELECT source, sealed_text FROM call_transcript WHERE call_pk = ?',
        [id],
      );
      return rows.length > 0 ? rows : undefined;
    });
    assert.equal(transcript!.source, 'call_centre');
    assert.equal(
      (await openBuffer(transcript!.sealed_text, keys)).toString('utf8'),
      '我要投诉，你们私下转账收了加急费。',
    );
    const [flag] = await db.query<{ has_transcript: number }>(
      'SELECT has_transcript FROM call_record WHERE id = ?',
      [id],
    );
    assert.equal(Number(flag!.has_transcript), 1);

    // counted once the archiver and the DLQ reader have caught up with everything posted
    await archiverDrained(archiverApp, { topics: [Topics.calls] });
    await deadLetters.drained();
    const [count] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM call_record WHERE corp_id = ?', [
      corpId,
    ]);
    assert.equal(Number(count!.n), 1, 'idempotent on (corp, callId)');
    assert.equal(deadLetters.of(corpId).length, 0, 'a re-posted identical CDR is not a conflict');

    // no plaintext of the customer number or the transcript anywhere in this database
    const tables = await db.query<{ TABLE_NAME: string }>(
      'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
    );
    for (const needle of ['13600002222', '私下转账', '加急费']) {
      for (const { TABLE_NAME } of tables) {
        for (const r of await db.query<Record<string, unknown>>(`SELECT * FROM \`${TABLE_NAME}\``)) {
          for (const value of Object.values(r)) {
            const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
            assert.ok(!bytes.includes(Buffer.from(needle)), `plaintext "${needle}" in ${TABLE_NAME}`);
          }
        }
      }
    }
  });

  test('a different CDR reusing a callId goes to the DLQ with the reason; the first stays', async () => {
    const corpId = uniqueCorp('arconf');
    assert.equal(
      (
        await ingestApp.inject({
          method: 'POST',
          url: '/v1/calls',
          headers: callerHeaders(),
          payload: cdr(corpId, 'C-2'),
        })
      ).statusCode,
      202,
    );
    const id = callArchiveId(corpId, 'C-2');
    await eventually('the first CDR archived', async () =>
      (await db.query('SELECT id FROM call_record WHERE id = ?', [id])).length ? true : undefined,
    );
    const changed = cdr(corpId, 'C-2', { agentId: 'someone-else' });
    assert.equal(
      (
        await ingestApp.inject({
          method: 'POST',
          url: '/v1/calls',
          headers: callerHeaders(),
          payload: changed,
        })
      ).statusCode,
      202,
    );
    const [dead] = await dlqFor(corpId, 1);
    assert.match(dead!.error, /^conflict: call C-2 .* already archived with different content/);
    assert.equal(dead!.sourceTopic, Topics.calls);
    const [row] = await db.query<{ agent_id: string }>('SELECT agent_id FROM call_record WHERE id = ?', [id]);
    assert.equal(row!.agent_id, 'agent-7');
  });

  test('recording and ASR transcript events attach to their call; events for unknown calls and unreadable records are dead-lettered', async () => {
    const corpId = uniqueCorp('arrec');
    const res = await ingestApp.inject({
      method: 'POST',
      url: '/v1/calls',
      headers: callerHeaders(),
      payload: cdr(corpId, 'C-3', { transcript: undefined }),
    });
    assert.equal(res.statusCode, 202);
    const callPk = callArchiveId(corpId, 'C-3');
    const customerIndex = await phoneIndex(keys, '13600002222');
    await eventually('the CDR archived', async () =>
      (await db.query('SELECT id FROM call_record WHERE id = ?', [callPk])).length ? true : undefined,
    );
    const recording: CallRecordingAttachedV1 = {
      schema: 'cz.call.v1',
      kind: 'recording',
      corpId,
      callId: 'C-3',
      callPk,
      customerIndex,
      recordingId: 'a'.repeat(32),
      bucket: 'cz-recordings',
      objectKey: `call/${corpId}/C-3/x.czs`,
      versionId: 'v1',
      contentType: 'audio/wav',
      plaintextSize: 1000,
      sealedSize: 1100,
      sm3: 'b'.repeat(64),
      retainUntil: Date.now() + 1e10,
      completedAt: Date.now(),
    };
    const transcript: CallTranscriptV1 = {
      schema: 'cz.call.v1',
      kind: 'transcript',
      corpId,
      callId: 'C-3',
      callPk,
      customerIndex,
      recordingId: recording.recordingId,
      source: 'asr',
      model: 'paraformer-zh',
      language: 'zh',
      text: '您好，请问是张先生吗？',
      createdAt: Date.now(),
    };
    const orphan = { ...recording, callPk: 'f'.repeat(32), callId: 'nope' };
    const tampered = Buffer.from(await sealed(recording));
    tampered[tampered.length - 20]! ^= 1;
    const headers = { [KafkaHeaders.corpId]: corpId };
    await producer.send({
      topic: Topics.calls,
      acks: -1,
      messages: [
        { key: customerIndex, value: await sealed(recording), headers },
        { key: customerIndex, value: await sealed(transcript), headers },
        { key: customerIndex, value: await sealed(orphan), headers },
        { key: customerIndex, value: tampered, headers },
        { key: customerIndex, value: await sealed({ schema: 'cz.call.v1', kind: 'hologram' }), headers },
      ],
    });
    await eventually('the recording linked and the transcript stored', async () => {
      const [row] = await db.query<{ recording_id: string | null; has_transcript: number }>(
        'SELECT recording_id, has_transcript FROM call_record WHERE id = ?',
        [callPk],
      );
      return row?.recording_id && Number(row.has_transcript) === 1 ? row : undefined;
    });
    const [asr] = await db.query<{ model: string; sealed_text: Buffer }>(
      `SELECT model, sealed_text FROM call_transcript WHERE call_pk = ? AND source = 'asr'`,
      [callPk],
    );
    assert.equal(asr!.model, 'paraformer-zh');
    assert.equal((await openBuffer(asr!.sealed_text, keys)).toString('utf8'), '您好，请问是张先生吗？');
    const dead = await dlqFor(corpId, 3);
    const errors = dead.map((d) => d.error).sort();
    assert.match(errors.find((e) => e.startsWith('contract')) ?? '', /\/kind: unknown kind "hologram"/);
    assert.ok(
      errors.some((e) => /^crypto:/.test(e)),
      errors.join(' | '),
    );
    assert.ok(
      errors.some((e) => /refers to call f{32}, which is not archived/.test(e)),
      errors.join(' | '),
    );
  });

  test('[REG-08][REG-13] behaviour events are archived once with filter columns, customers only as blind indexes', async () => {
    const corpId = uniqueCorp('arev');
    const events = [
      {
        type: 'customer_deleted',
        eventId: 'd-1',
        occurredAt: '2026-11-21T09:00:00+08:00',
        staffId: 'wangfang',
        customer: { externalUserId: 'wmSecret01' },
      },
      {
        type: 'consent_given',
        eventId: 'c-1',
        occurredAt: '2026-11-21T09:05:00+08:00',
        staffId: 'wangfang',
        customer: { externalUserId: 'wmSecret01', phone: '13500003333' },
        category: 'marketing.wealth',
        channel: 'sms',
      },
      {
        type: 'sms_sent',
        eventId: 's-1',
        occurredAt: '2026-11-21T09:06:00+08:00',
        staffId: 'wangfang',
        customer: { phone: '13500003333' },
        content: '回复TD退订',
      },
    ];
    for (let i = 0; i < 2; i++) {
      const res = await ingestApp.inject({
        method: 'POST',
        url: '/v1/events',
        headers: callerHeaders(),
        payload: { corpId, events },
      });
      assert.equal(res.statusCode, 202, res.body);
    }
    const rows = await eventually('three events archived', async () => {
      const found = await db.query<Record<string, unknown>>(
        'SELECT * FROM behaviour_event WHERE corp_id = ? ORDER BY occurred_at',
        [corpId],
      );
      return found.length >= 3 ? found : undefined;
    });
    await archiverDrained(archiverApp, { topics: [Topics.events] });
    const [count] = await db.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM behaviour_event WHERE corp_id = ?',
      [corpId],
    );
    assert.equal(Number(count!.n), 3, 'idempotent on (corp, eventId)');
    const customer = await externalUserIndex(keys, 'wmSecret01');
    const phone = await phoneIndex(keys, '13500003333');
    assert.deepEqual(
      rows.map((r) => [
        r.id,
        r.type,
        r.staff_id,
        r.customer_index && String(r.customer_index as Buffer | string),
        r.phone_index && String(r.phone_index as Buffer | string),
        r.consent_category,
      ]),
      [
        [eventArchiveId(corpId, 'd-1'), 'customer_deleted', 'wangfang', customer, null, null],
        [eventArchiveId(corpId, 'c-1'), 'consent_given', 'wangfang', customer, phone, 'marketing.wealth'],
        [eventArchiveId(corpId, 's-1'), 'sms_sent', 'wangfang', null, phone, null],
      ],
    );
    assert.equal(new Date(rows[0]!.occurred_at as Date).toISOString(), '2026-11-21T01:00:00.000Z');
    for (const r of rows) {
      for (const needle of ['wmSecret01', '13500003333', '退订']) {
        for (const value of Object.values(r)) {
          const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
          assert.ok(!bytes.includes(Buffer.from(needle)), `plaintext "${needle}" in behaviour_event`);
        }
      }
    }

    // the same eventId with different content: DLQ, first kept
    const changed = [{ ...events[0], staffId: 'someone-else' }];
    assert.equal(
      (
        await ingestApp.inject({
          method: 'POST',
          url: '/v1/events',
          headers: callerHeaders(),
          payload: { corpId, events: changed },
        })
      ).statusCode,
      202,
    );
    const [dead] = await dlqFor(corpId, 1);
    assert.match(dead!.error, /^conflict: event d-1 .* different content/);
    assert.equal(dead!.sourceTopic, Topics.events);
  });
});
