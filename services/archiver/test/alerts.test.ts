import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaHeaders, Topics, type AlertV1, type CallTranscriptV1 } from '@cz/contracts';
import {
  alertRecord,
  IndexPurposes,
  callArchiveId,
  createMainDataSource,
  createServer,
  indexKeyFor,
  kafkaTransport,
  keyProviderFromEnv,
  messageArchiveId,
  phoneIndex,
} from '@cz/common';
import { openBuffer, sealBuffer } from '@cz/common/crypto';
import { TokenHasher, indexTokens } from '@cz/common/search';
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
import { transcriptBackfillStep } from '../src/search/transcript-backfill';

loadStackEnv();
const keys = keyProviderFromEnv();

const alertOf = (corpId: string, fields: Partial<AlertV1> = {}): AlertV1 => ({
  schema: 'cz.alert.v1',
  id: randomBytes(16).toString('hex'),
  corpId,
  kind: 'lexicon_hit',
  severity: 'warning',
  source: 'compliance',
  raisedAt: Date.UTC(2026, 10, 20, 2),
  detail: { rule: 'guaranteed-return', category: '保本保息' },
  ...fields,
});

const message = (msgid: string, msgtime: number, content = '这款产品的说明书请查收') => ({
  msgid,
  action: 'send',
  from: 'liqiang',
  tolist: ['wmCust7'],
  msgtime,
  msgtype: 'text',
  text: { content },
});

describe('archiver: cz.alert.v1 → alerts attached to archived messages and calls (real stack)', () => {
  let db: TestDatabase;
  let archiverApp: TestArchiver;
  let ingestApp: ReturnType<typeof createServer>;
  const kafka = new Kafka({
    clientId: 'cz-archiver-alerts-test',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let deadLetters: DeadLetterReader;

  before(async () => {
    db = await createTestDatabase();
    archiverApp = await buildArchiver(db, keys, 'cz-archiver-alerts-test');
    ingestApp = await buildIngest(keys, 'cz-ingest-alerts-test');
    await producer.connect();
    // only what this archiver dead-letters: the stack's running one reads cz.alert.v1 too
    deadLetters = await readDeadLetters([Topics.alerts], [`${archiverApp.groupId}-alerts`]);
  });
  after(async () => {
    await deadLetters.stop();
    await producer.disconnect();
    await ingestApp.close();
    await archiverApp.close();
    await db.drop();
  });

  /** As every producer sends them (alertRecord); a Buffer is sent as the sealed value as it is. */
  const sendAlerts = async (corpId: string, values: (AlertV1 | Buffer)[]) =>
    producer.send({
      topic: Topics.alerts,
      acks: -1,
      messages: await Promise.all(
        values.map(async (value) =>
          Buffer.isBuffer(value)
            ? {
                key: corpId,
                value,
                headers: { [KafkaHeaders.schema]: 'cz.alert.v1', [KafkaHeaders.corpId]: corpId },
              }
            : alertRecord(value, keys),
        ),
      ),
    });

  const postMessages = async (corpId: string, messages: ReturnType<typeof message>[]) => {
    const res = await ingestApp.inject({
      method: 'POST',
      url: '/v1/wecom/messages',
      headers: callerHeaders(),
      payload: { corpId, messages },
    });
    assert.equal(res.statusCode, 202, res.body);
  };

  const stored = (id: string) =>
    eventually(`alert ${id} stored`, async () => {
      const rows = await db.query<{ id: string }>('SELECT id FROM alert WHERE id = ?', [id]);
      return rows.length > 0 ? rows : undefined;
    });

  const targets = (docId: string) =>
    db.query<{ alert_id: string; doc_kind: number; doc_time: Date | null; severity_rank: number }>(
      'SELECT alert_id, doc_kind, doc_time, severity_rank FROM alert_target WHERE doc_id = UNHEX(?) ORDER BY alert_id',
      [docId],
    );

  const record = async (docId: string) =>
    (
      await db.query<{ doc_time: Date; doc_kind: number; alert_count: number; max_severity: number }>(
        'SELECT doc_time, doc_kind, alert_count, max_severity FROM alert_record WHERE doc_id = UNHEX(?)',
        [docId],
      )
    )[0];

  test('an alert on an archived message is stored once with its filter columns and attached to the message', async () => {
    const corpId = uniqueCorp('alafter');
    const msgtime = Date.UTC(2026, 10, 20, 1, 30);
    await postMessages(corpId, [message('m1', msgtime), message('m2', msgtime + 1000, '好的')]);
    const id = messageArchiveId(corpId, 'm1');
    await eventually('m1 archived', async () =>
      (await db.query('SELECT id FROM message_key WHERE id = UNHEX(?)', [id])).length ? true : undefined,
    );
    const first = alertOf(corpId, { msgid: 'm1', severity: 'critical' });
    const second = alertOf(corpId, { msgid: 'm1', kind: 'complaint', severity: 'info' });
    // the same id again (an at-least-once outbox), once even with other content: the first is kept
    const again = { ...first, severity: 'info' as const, detail: { rule: 'other' } };
    const sentinel = alertOf(corpId, { kind: 'seq_gap', source: 'archiver', detail: { missing: 3 } });
    await sendAlerts(corpId, [first, second, first, again, sentinel]);
    await stored(sentinel.id);

    const rows = await db.query<Record<string, unknown>>(
      'SELECT id, corp_id, kind, severity, source, raised_at, sealed_record FROM alert WHERE corp_id = ? ORDER BY raised_at, id',
      [corpId],
    );
    assert.equal(rows.length, 3, 'one row per alert id');
    const kept = rows.find((r) => r.id === first.id)!;
    assert.equal(kept.kind, 'lexicon_hit');
    assert.equal(kept.severity, 'critical', 'the first delivery is kept');
    assert.equal(kept.source, 'compliance');
    assert.equal(new Date(kept.raised_at as Date).getTime(), first.raisedAt);
    const opened = JSON.parse(
      (await openBuffer(kept.sealed_record as Buffer, keys)).toString('utf8'),
    ) as AlertV1;
    assert.deepEqual(opened, first, 'the record as it travelled, sealed');
    assert.ok(
      !(kept.sealed_record as Buffer).includes(Buffer.from('guaranteed-return')),
      'detail only sealed',
    );

    const linked = await targets(id);
    assert.deepEqual(linked.map((t) => t.alert_id).sort(), [first.id, second.id].sort());
    for (const t of linked) {
      assert.equal(Number(t.doc_kind), 1);
      assert.equal(new Date(t.doc_time!).getTime(), msgtime);
    }
    const summary = await record(id);
    assert.equal(Number(summary?.alert_count), 2, 'each alert counted once, duplicates not');
    assert.equal(Number(summary?.max_severity), 3);
    assert.equal(new Date(summary!.doc_time).getTime(), msgtime);
    assert.equal(
      await record(messageArchiveId(corpId, 'm2')),
      undefined,
      'a message without alerts has none',
    );
    assert.equal((await targets(messageArchiveId(corpId, 'm2'))).length, 0);
  });

  test('an alert that arrives before its message is attached when the message is archived', async () => {
    const corpId = uniqueCorp('albefore');
    const msgtime = Date.UTC(2026, 10, 21, 3);
    const early = alertOf(corpId, { msgid: 'late-1', severity: 'warning' });
    await sendAlerts(corpId, [early]);
    await stored(early.id);
    const id = messageArchiveId(corpId, 'late-1');
    const pending = await targets(id);
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.doc_time, null, 'pending until the message is archived');
    assert.equal(await record(id), undefined, 'not searchable as alerted before the message exists');

    await postMessages(corpId, [message('late-1', msgtime)]);
    const summary = await eventually('the alert attached to the late message', async () => record(id));
    assert.equal(Number(summary.alert_count), 1);
    assert.equal(Number(summary.max_severity), 2);
    assert.equal(new Date(summary.doc_time).getTime(), msgtime);
    const [linked] = await targets(id);
    assert.equal(new Date(linked!.doc_time!).getTime(), msgtime);

    // the message delivered again (a client retry): the alert stays counted once
    await postMessages(corpId, [message('late-1', msgtime), message('late-2', msgtime + 1)]);
    await eventually('the retry batch archived', async () =>
      (await db.query('SELECT id FROM message_key WHERE id = UNHEX(?)', [messageArchiveId(corpId, 'late-2')]))
        .length
        ? true
        : undefined,
    );
    assert.equal(Number((await record(id))!.alert_count), 1);
  });

  test('alerts on calls: named by call id, attached whether the CDR came first or last', async () => {
    const corpId = uniqueCorp('alcall');
    const cdr = (callId: string, startTime: string) => ({
      corpId,
      callId,
      agentId: 'agent-9',
      customerNumber: '13600004444',
      direction: 'outbound',
      startTime,
      endTime: '2026-11-22T02:10:00Z',
      businessType: 'wealth',
    });
    const before = alertOf(corpId, { callId: 'CALL-EARLY', kind: 'opening_missing', severity: 'critical' });
    await sendAlerts(corpId, [before]);
    await stored(before.id);
    const early = callArchiveId(corpId, 'CALL-EARLY');
    assert.equal((await targets(early))[0]?.doc_time, null);

    for (const c of [cdr('CALL-EARLY', '2026-11-22T02:00:00Z'), cdr('CALL-FIRST', '2026-11-22T02:05:00Z')]) {
      const res = await ingestApp.inject({
        method: 'POST',
        url: '/v1/calls',
        headers: callerHeaders(),
        payload: c,
      });
      assert.equal(res.statusCode, 202, res.body);
    }
    const earlySummary = await eventually('the early alert attached to its call', async () => record(early));
    assert.equal(Number(earlySummary.doc_kind), 2);
    assert.equal(new Date(earlySummary.doc_time).toISOString(), '2026-11-22T02:00:00.000Z');
    assert.equal(Number(earlySummary.max_severity), 3);

    const firstPk = callArchiveId(corpId, 'CALL-FIRST');
    await eventually('CALL-FIRST archived', async () =>
      (await db.query('SELECT id FROM call_record WHERE id = ?', [firstPk])).length ? true : undefined,
    );
    const later = alertOf(corpId, { callId: 'CALL-FIRST', msgid: 'not-archived-msg', severity: 'info' });
    await sendAlerts(corpId, [later]);
    const summary = await eventually('the later alert attached to its call', async () => record(firstPk));
    assert.equal(new Date(summary.doc_time).toISOString(), '2026-11-22T02:05:00.000Z');
    assert.equal(Number(summary.alert_count), 1);
    const messageTarget = await targets(messageArchiveId(corpId, 'not-archived-msg'));
    assert.equal(messageTarget.length, 1, 'the message it also names is waited for');
    assert.equal(messageTarget[0]!.doc_time, null);
  });

  test('bad alert records go to cz.alert.v1.dlq with the reason; good ones of the same batch are stored', async () => {
    const corpId = uniqueCorp('albad');
    const good = alertOf(corpId, { msgid: 'x1' });
    const tampered = await sealBuffer(Buffer.from(JSON.stringify(alertOf(corpId))), keys, 'audit');
    tampered[tampered.length - 10]! ^= 1;
    const notJson = await sealBuffer(Buffer.from('{"schema": "cz.alert.v1", '), keys, 'audit');
    const { severity: _omitted, ...noSeverity } = alertOf(corpId);
    await sendAlerts(corpId, [
      Buffer.from('not a sealed record at all'),
      tampered,
      notJson,
      await sealBuffer(Buffer.from(JSON.stringify(noSeverity)), keys, 'audit'),
      await sealBuffer(
        Buffer.from(JSON.stringify(alertOf(corpId, { severity: 'fatal' as never }))),
        keys,
        'audit',
      ),
      await sealBuffer(
        Buffer.from(JSON.stringify(alertOf(corpId, { callId: 'spaces are not a call id' }))),
        keys,
        'audit',
      ),
      await sealBuffer(
        Buffer.from(JSON.stringify({ ...alertOf(corpId), corpId: 'c'.repeat(65) })),
        keys,
        'audit',
      ),
      good,
    ]);
    await stored(good.id);
    await eventually('7 dead-lettered alert records', async () =>
      deadLetters.of(corpId).length >= 7 ? true : undefined,
    );
    // counted once the archiver and the DLQ reader have caught up: a record dead-lettered twice fails
    await archiverDrained(archiverApp, { topics: [Topics.alerts] });
    await deadLetters.drained();
    const errors = deadLetters.of(corpId).map((letter) => letter.error);
    assert.equal(errors.filter((e) => e.startsWith('crypto:')).length, 2, errors.join(' | '));
    assert.equal(errors.filter((e) => e.startsWith('json:')).length, 1, errors.join(' | '));
    const contract = errors.filter((e) => e.startsWith('contract cz.alert.v1 violated'));
    assert.equal(contract.length, 4, errors.join(' | '));
    for (const where of ['/severity', '/callId', '/corpId'])
      assert.ok(
        contract.some((e) => e.includes(`at ${where}`)),
        `${where}: ${contract.join(' | ')}`,
      );
    const [count] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM alert WHERE corp_id = ?', [
      corpId,
    ]);
    assert.equal(Number(count!.n), 1, 'only the good alert is stored');
  });

  test('call transcripts are keyword-indexed under their call once, also an ASR transcript made later', async () => {
    const corpId = uniqueCorp('altr');
    const hasher = new TokenHasher(await indexKeyFor(keys, IndexPurposes.searchToken));
    const res = await ingestApp.inject({
      method: 'POST',
      url: '/v1/calls',
      headers: callerHeaders(),
      payload: {
        corpId,
        callId: 'T-1',
        agentId: 'agent-3',
        customerNumber: '13600005555',
        direction: 'inbound',
        startTime: '2026-11-23T06:00:00Z',
        endTime: '2026-11-23T06:04:00Z',
        businessType: 'loan',
        transcript: { text: '请问贷款利率' },
      },
    });
    assert.equal(res.statusCode, 202, res.body);
    const callPk = callArchiveId(corpId, 'T-1');
    const tokenRows = (text: string) =>
      db.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM search_token WHERE doc_id = UNHEX(?) AND doc_kind = 2 AND doc_time = ?
           AND token IN (${indexTokens(text)
             .map((t) => hasher.hash(t))
             .join(', ')})`,
        [callPk, new Date('2026-11-23T06:00:00Z')],
      );
    await eventually('the call-centre transcript indexed', async () =>
      Number((await tokenRows('请问贷款利率'))[0]!.n) === indexTokens('请问贷款利率').length
        ? true
        : undefined,
    );
    const asr: CallTranscriptV1 = {
      schema: 'cz.call.v1',
      kind: 'transcript',
      corpId,
      callId: 'T-1',
      callPk,
      customerIndex: await phoneIndex(keys, '13600005555'),
      recordingId: 'c'.repeat(32),
      source: 'asr',
      model: 'paraformer-zh',
      text: '提前还款违约金',
      createdAt: Date.now(),
    };
    const sealedAsr = await sealBuffer(Buffer.from(JSON.stringify(asr)), keys, 'chat');
    // delivered twice: stored and indexed once
    for (let i = 0; i < 2; i++)
      await producer.send({
        topic: Topics.calls,
        acks: -1,
        messages: [{ key: asr.customerIndex, value: sealedAsr, headers: { [KafkaHeaders.corpId]: corpId } }],
      });
    await eventually('the ASR transcript indexed', async () =>
      Number((await tokenRows('提前还款违约金'))[0]!.n) === indexTokens('提前还款违约金').length
        ? true
        : undefined,
    );
    const [all] = await db.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM search_token WHERE doc_id = UNHEX(?)',
      [callPk],
    );
    const distinct = new Set([...indexTokens('请问贷款利率'), ...indexTokens('提前还款违约金')]);
    assert.equal(Number(all!.n), distinct.size, 'every token of both transcripts once, nothing else');
  });

  test('call transcripts stored before they were indexed are indexed by the backfill, once', async () => {
    const corpId = uniqueCorp('albf');
    const hasher = new TokenHasher(await indexKeyFor(keys, IndexPurposes.searchToken));
    const res = await ingestApp.inject({
      method: 'POST',
      url: '/v1/calls',
      headers: callerHeaders(),
      payload: {
        corpId,
        callId: 'OLD-1',
        agentId: 'agent-4',
        customerNumber: '13600007777',
        direction: 'inbound',
        startTime: '2026-11-24T01:00:00Z',
        endTime: '2026-11-24T01:03:00Z',
        businessType: 'deposit',
        transcript: { text: '大额存单利率' },
      },
    });
    assert.equal(res.statusCode, 202, res.body);
    const callPk = callArchiveId(corpId, 'OLD-1');
    const count = async () =>
      Number(
        (
          await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM search_token WHERE doc_id = UNHEX(?)', [
            callPk,
          ])
        )[0]!.n,
      );
    const expected = indexTokens('大额存单利率').length;
    await eventually('the transcript indexed on arrival', async () =>
      (await count()) === expected ? true : undefined,
    );
    // as it was before transcripts were indexed: stored, no tokens, queued by the migration
    await db.query('DELETE FROM search_token WHERE doc_id = UNHEX(?)', [callPk]);
    await db.query(`INSERT INTO call_transcript_backfill (call_pk, source) VALUES (?, 'call_centre')`, [
      callPk,
    ]);
    const ds = createMainDataSource(db.config);
    await ds.initialize();
    after(() => ds.destroy());
    while ((await transcriptBackfillStep(ds, keys, hasher, 10)) > 0);
    assert.equal(await count(), expected);
    const [row] = await db.query<{ doc_time: Date; doc_kind: number }>(
      `SELECT doc_time, doc_kind FROM search_token WHERE doc_id = UNHEX(?) AND token = ${hasher.hash('存单')}`,
      [callPk],
    );
    assert.equal(new Date(row!.doc_time).toISOString(), '2026-11-24T01:00:00.000Z');
    assert.equal(Number(row!.doc_kind), 2);
    const [queue] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM call_transcript_backfill');
    assert.equal(Number(queue!.n), 0, 'the queue is empty');
    assert.equal(await transcriptBackfillStep(ds, keys, hasher, 10), 0);
    assert.equal(await count(), expected);
  });
});
