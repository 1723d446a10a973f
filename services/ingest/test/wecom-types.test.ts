/**
 * Bad input of the WeCom message model at the ingest API, against the real Kafka: what is rejected
 * (precisely, per record), what is accepted although Cunzheng does not know it, and what reaches
 * the bus for duplicate msgids.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Topics, type ArchivedMessageV1, type IngestBatchReply } from '@cz/contracts';
import { createServer, kafkaConfig, keyProviderFromEnv } from '@cz/common';
import { callerHeaders, loadStackEnv, testCallerAuth, uniqueCorp } from '@cz/testkit';
import ingest from '../src/app';
import { readCorpRecords } from './helpers';
import { loadCorpus, type WeComRecord } from './fixtures/wecom/index';

loadStackEnv();
const keys = keyProviderFromEnv();
const corpus = loadCorpus();
const sample = (name: string, msgid: string): WeComRecord => ({
  ...structuredClone(corpus.get(name)!),
  msgid,
});

/** Every record of one corp that reached cz.msg.v1, opened. */
async function recordsOnKafka(corpId: string, expected: number): Promise<ArchivedMessageV1[]> {
  const records = await readCorpRecords<ArchivedMessageV1>(keys, Topics.messages, corpId, expected);
  return records.map((record) => record.value);
}

describe('ingest: WeCom message model bad input (real Kafka)', () => {
  let app: ReturnType<typeof createServer>;
  before(async () => {
    app = createServer('ingest', { logger: false });
    await app.register(ingest, { kafka: kafkaConfig('cz-ingest-test'), keys, callers: testCallerAuth() });
    await app.ready();
  });
  after(async () => {
    await app.close();
  });

  const post = (corpId: string, messages: unknown[]) =>
    app.inject({
      method: 'POST',
      url: '/v1/wecom/messages',
      headers: callerHeaders(),
      payload: { corpId, messages },
    });

  test('[REG-01] missing sdkfileid and malformed payloads: 400 per record with the path; neighbours and unknown types accepted', async () => {
    const corpId = uniqueCorp('types');
    const noSdk = (name: string, key: string, msgid: string) => {
      const record = sample(name, msgid);
      delete (record[key] as Record<string, unknown>).sdkfileid;
      return record;
    };
    const unknown = sample('unknown-product_card', 'u-1');
    const messages = [
      sample('image', 'ok-image'),
      noSdk('image', 'image', 'bad-image'),
      noSdk('voice', 'voice', 'bad-voice'),
      noSdk('meeting_voice_call', 'meeting_voice_call', 'bad-mvc'),
      unknown,
      { ...sample('link', 'bad-link'), link: 'https://example.cn' },
      { ...sample('revoke', 'bad-revoke'), revoke: {} },
      sample('chatrecord', 'ok-chatrecord'),
      { ...sample('switch', 'bad-switch'), user: undefined },
    ];
    const res = await post(corpId, messages);
    assert.equal(res.statusCode, 400, res.body);
    const body = res.json<IngestBatchReply>();
    assert.deepEqual(
      body.accepted.map((a) => a.msgid),
      ['ok-image', 'u-1', 'ok-chatrecord'],
    );
    assert.deepEqual(
      body.rejected.map((r) => [r.index, r.msgid, r.errors.map((e) => e.path)]),
      [
        [1, 'bad-image', ['/image/sdkfileid']],
        [2, 'bad-voice', ['/voice/sdkfileid']],
        [3, 'bad-mvc', ['/meeting_voice_call/sdkfileid']],
        [5, 'bad-link', ['/link']],
        [6, 'bad-revoke', ['/revoke/pre_msgid']],
        [8, 'bad-switch', ['/user']],
      ],
    );
    assert.match(body.rejected[0]!.errors[0]!.message, /image\.sdkfileid, its media reference/);

    const onKafka = await recordsOnKafka(corpId, 3);
    assert.deepEqual(onKafka.map((r) => r.msgid).sort(), ['ok-chatrecord', 'ok-image', 'u-1']);
    const kept = onKafka.find((r) => r.msgid === 'u-1')!;
    assert.equal(kept.unknownType, true, 'unknown msgtype flagged');
    assert.equal(kept.msgtype, 'product_card');
    assert.deepEqual(kept.raw, unknown, 'kept raw, whole');
    const image = onKafka.find((r) => r.msgid === 'ok-image')!;
    assert.equal(
      image.media?.[0]?.sdkfileid,
      (corpus.get('image')!.image as { sdkfileid: string }).sdkfileid,
    );
    assert.equal(image.unknownType, undefined);
  });

  test('duplicate msgid in a batch: the same record is written once, a different record under it is written too', async () => {
    const corpId = uniqueCorp('dups');
    const first = sample('text', 'dup');
    const other = { ...sample('text', 'dup'), text: { content: '同一个 msgid，不同的内容' } };
    const res = await post(corpId, [first, structuredClone(first), other]);
    assert.equal(res.statusCode, 202, res.body);
    const ids = new Set(res.json<IngestBatchReply>().accepted.map((a) => a.id));
    assert.equal(ids.size, 1, 'one archive id for one (corp, msgid)');
    const onKafka = await recordsOnKafka(corpId, 2);
    assert.equal(onKafka.length, 2);
    assert.notEqual(onKafka[0]!.contentMac, onKafka[1]!.contentMac);
    assert.deepEqual(
      onKafka.map((r) => r.text).sort(),
      [(first.text as { content: string }).content, '同一个 msgid，不同的内容'].sort(),
    );
  });
});
