import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Topics, type ArchivedMessageV1, type IngestBatchReply } from '@cz/contracts';
import { keyProviderFromEnv } from '@cz/common';
import { callerHeaders, loadStackEnv, uniqueCorp } from '@cz/testkit';
import { buildIngestApp, readCorpRecords } from './helpers';

loadStackEnv();
const keys = keyProviderFromEnv();

const buildIngest = (brokers?: string[]) => buildIngestApp(keys, 'cz-ingest-test', 256 * 1024, brokers);

const textMessage = (msgid: string, content: string, extra: Record<string, unknown> = {}) => ({
  msgid,
  action: 'send',
  from: 'zhangwei',
  tolist: ['wmCustomer001'],
  msgtime: Date.UTC(2026, 10, 20, 2, 30),
  msgtype: 'text',
  text: { content },
  ...extra,
});

/** Reads back what reached cz.msg.v1 for one corp, opening each sealed value. */
async function readTopicForCorp(
  corpId: string,
  expected: number,
): Promise<{ raw: Buffer; archived: ArchivedMessageV1 }[]> {
  const records = await readCorpRecords<ArchivedMessageV1>(keys, Topics.messages, corpId, expected);
  return records.map(({ raw, value }) => ({ raw, archived: value }));
}

describe('ingest POST /v1/wecom/messages (real Kafka)', () => {
  let app: Awaited<ReturnType<typeof buildIngest>>;
  before(async () => {
    app = await buildIngest();
  });
  after(async () => {
    await app.close();
  });

  test('[REG-01] a valid batch is acknowledged with ids only after Kafka holds it, sealed', async () => {
    const corpId = uniqueCorp();
    const secret = '您好，这款理财产品年化收益4.5%，联系电话13812345678';
    const res = await app.inject({
      method: 'POST',
      url: '/v1/wecom/messages',
      headers: callerHeaders(),
      payload: { corpId, messages: [textMessage('m-1', secret), textMessage('m-2', '好的，谢谢')] },
    });
    assert.equal(res.statusCode, 202, res.body);
    const body = res.json<IngestBatchReply>();
    assert.deepEqual(
      body.accepted.map((a) => a.msgid),
      ['m-1', 'm-2'],
    );
    assert.equal(body.rejected.length, 0);
    assert.match(body.accepted[0]!.id, /^[0-9a-f]{32}$/);

    const records = await readTopicForCorp(corpId, 2);
    assert.equal(records.length, 2, 'each record written exactly once');
    for (const { raw } of records) {
      assert.ok(!raw.includes(Buffer.from('13812345678')), 'no plaintext phone on Kafka');
      assert.ok(!raw.includes(Buffer.from('理财')), 'no plaintext body on Kafka');
    }
    const first = records.find((r) => r.archived.msgid === 'm-1')!;
    assert.equal(first.archived.text, secret);
    assert.equal(first.archived.id, body.accepted[0]!.id);
    assert.equal(first.archived.conversationId, 'p:wmCustomer001|zhangwei');
  });

  test('malformed JSON is refused with 400 and a reason', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/wecom/messages',
      headers: { 'content-type': 'application/json', ...callerHeaders() },
      payload: '{"corpId": "x", "messages": [',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json<{ code: string }>().code, 'FST_ERR_CTP_INVALID_JSON_BODY');
  });

  test('missing fields and wrong types: 400 with a reason per record, valid neighbours still accepted', async () => {
    const corpId = uniqueCorp();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/wecom/messages',
      headers: callerHeaders(),
      payload: {
        corpId,
        messages: [
          textMessage('ok-1', '第一条'),
          {
            msgid: 'no-from',
            action: 'send',
            tolist: ['a'],
            msgtime: 1,
            msgtype: 'text',
            text: { content: 'x' },
          },
          textMessage('bad-time', 'x', { msgtime: 'yesterday' }),
          textMessage('bad-text', 'x', { text: { content: 42 } }),
          'not an object',
          { msgid: 'no-type', action: 'send', from: 'a', tolist: [], msgtime: 1 },
          textMessage('ok-2', '第二条'),
        ],
      },
    });
    assert.equal(res.statusCode, 400);
    const body = res.json<IngestBatchReply>();
    assert.deepEqual(
      body.accepted.map((a) => a.msgid),
      ['ok-1', 'ok-2'],
    );
    const byIndex = new Map(body.rejected.map((r) => [r.index, r]));
    assert.deepEqual([...byIndex.keys()], [1, 2, 3, 4, 5]);
    assert.ok(
      byIndex.get(1)!.errors.some((e) => e.path === '/from'),
      JSON.stringify(byIndex.get(1)),
    );
    assert.equal(byIndex.get(1)!.msgid, 'no-from');
    assert.ok(byIndex.get(2)!.errors.some((e) => e.path === '/msgtime'));
    assert.ok(byIndex.get(3)!.errors.some((e) => e.path === '/text/content'));
    assert.equal(byIndex.get(4)!.errors[0]!.message, 'record must be a JSON object');
    assert.ok(byIndex.get(5)!.errors.some((e) => e.path === '/msgtype'));

    const records = await readTopicForCorp(corpId, 2);
    assert.deepEqual(
      records.map((r) => r.archived.msgid).sort(),
      ['ok-1', 'ok-2'],
      'only the valid records reached Kafka',
    );
  });

  test('a batch of more than 1000 records is refused whole with 400', async () => {
    const messages = Array.from({ length: 1001 }, (_, i) => ({ msgid: `m${i}` }));
    const res = await app.inject({
      method: 'POST',
      url: '/v1/wecom/messages',
      headers: callerHeaders(),
      payload: { corpId: uniqueCorp(), messages },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json<{ code: string }>().code, 'validation_failed');
    assert.match(res.json<{ message: string }>().message, /1000/);
  });

  test('a body over the size limit is refused with 413', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/wecom/messages',
      headers: callerHeaders(),
      payload: { corpId: uniqueCorp(), messages: [textMessage('big', 'x'.repeat(300 * 1024))] },
    });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json<{ code: string }>().code, 'FST_ERR_CTP_BODY_TOO_LARGE');
  });

  test('the same msgid twice in a batch is one record', async () => {
    const corpId = uniqueCorp();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/wecom/messages',
      headers: callerHeaders(),
      payload: { corpId, messages: [textMessage('dup', '重复'), textMessage('dup', '重复')] },
    });
    assert.equal(res.statusCode, 202);
    const body = res.json<IngestBatchReply>();
    assert.equal(body.accepted.length, 2);
    assert.equal(body.accepted[0]!.id, body.accepted[1]!.id);
    const records = await readTopicForCorp(corpId, 1);
    assert.equal(records.length, 1);
  });
});

describe('ingest with Kafka down', () => {
  test('503 and nothing acknowledged when no broker answers', async () => {
    // 127.0.0.1:9 (discard) has no listener here: the bus is unreachable
    const app = await buildIngest(['127.0.0.1:9']);
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/wecom/messages',
        headers: callerHeaders(),
        payload: { corpId: uniqueCorp(), messages: [textMessage('lost?', '不能丢')] },
      });
      assert.equal(res.statusCode, 503);
      const body = res.json<{ code: string; accepted?: unknown }>();
      assert.equal(body.code, 'kafka_unavailable');
      assert.equal(body.accepted, undefined, 'no id is handed out for a record that was not written');
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
    } finally {
      await app.close();
    }
  });
});
