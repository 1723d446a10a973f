/**
 * Media download with md5 verification: fetchMedia over the SDK child and the C test double, into
 * a sink that records what it was given (the upload side is exercised by puller.test.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { fetchMedia, mediaRefsOf, type MediaSink } from '../src/pull/media';
import { ChildGoneError, SdkChild } from '../src/sdk/sdk-child';
import {
  buildFinanceSdkDouble,
  md5Hex,
  rsaKeyPair,
  writeDoubleScript,
  type WrittenScript,
} from '@cz/testkit';

interface RecordedSink extends MediaSink {
  bytes: Buffer[];
  state: 'open' | 'finished' | 'aborted';
}

const recordingSink = (sinks: RecordedSink[]) => (): MediaSink => {
  const sink: RecordedSink = {
    bytes: [],
    state: 'open',
    async write(chunk) {
      assert.equal(sink.state, 'open');
      sink.bytes.push(Buffer.from(chunk));
    },
    async finish() {
      sink.state = 'finished';
    },
    abort() {
      sink.state = 'aborted';
    },
  };
  sinks.push(sink);
  return sink;
};

describe('media: GetMediaData until is_finish, md5 verified', () => {
  let script: WrittenScript;
  let child: SdkChild;
  const good = Buffer.concat([Buffer.from([0, 0, 0xc3, 0x28]), randomBytes(150_000)]);
  const flaky = randomBytes(90_000);
  const wrongMd5 = randomBytes(70_000);
  const crashing = randomBytes(50_000);

  before(async () => {
    const keys = rsaKeyPair();
    script = writeDoubleScript({
      corpId: 'wwmedia',
      secret: 'm',
      publicKeys: { 1: keys.publicKeyPem },
      chats: [],
      media: [
        { sdkfileid: 'good', content: good, chunkBytes: 16 * 1024 },
        { sdkfileid: 'flaky', content: flaky, chunkBytes: 32 * 1024, corruptFetches: 1 },
        { sdkfileid: 'wrong-md5', content: wrongMd5, chunkBytes: 32 * 1024 },
        { sdkfileid: 'crashing', content: crashing, chunkBytes: 16 * 1024, crash: true },
      ],
    });
    child = new SdkChild({
      init: {
        libraryPath: buildFinanceSdkDouble(),
        corpId: 'wwmedia',
        secret: 'm',
        privateKeys: [],
        proxy: '',
        passwd: '',
        timeoutSec: 5,
      },
      callTimeoutMs: 20000,
      env: { ...process.env, CZ_FAKE_WEWORK_SCRIPT: script.path },
    });
    await child.start();
  });
  after(async () => {
    await child.stop();
    script.cleanup();
  });

  const fetch = (sdkfileid: string, expectedMd5: string | null, sinks: RecordedSink[], source = child) =>
    fetchMedia({
      source,
      sdkfileid,
      expectedMd5,
      maxAttempts: 3,
      maxBytes: 1 << 24,
      openSink: recordingSink(sinks),
    });

  test('[REG-01] binary media across many chunks arrives byte for byte and md5-verified', async () => {
    const sinks: RecordedSink[] = [];
    const result = await fetch('good', md5Hex(good), sinks);
    assert.deepEqual(result, { status: 'done', md5: md5Hex(good), bytes: good.length, attempts: 1 });
    assert.equal(sinks.length, 1);
    assert.equal(sinks[0]!.state, 'finished');
    assert.ok(sinks[0]!.bytes.length >= 9, 'streamed in several writes, not buffered whole');
    assert.ok(Buffer.concat(sinks[0]!.bytes).equals(good));
  });

  test('md5 mismatch on one download: that upload is aborted before completing, the retry is stored', async () => {
    const sinks: RecordedSink[] = [];
    const result = await fetch('flaky', md5Hex(flaky), sinks);
    assert.equal(result.status, 'done');
    assert.equal(result.attempts, 2);
    assert.deepEqual(
      sinks.map((s) => s.state),
      ['aborted', 'finished'],
    );
    // the aborted attempt never received its last chunk
    assert.ok(Buffer.concat(sinks[0]!.bytes).length < flaky.length);
    assert.ok(Buffer.concat(sinks[1]!.bytes).equals(flaky));
  });

  test('md5 mismatch on every download: the bytes are kept and reported with both digests', async () => {
    const sinks: RecordedSink[] = [];
    const announced = md5Hex(Buffer.from('not the content'));
    const result = await fetch('wrong-md5', announced, sinks);
    assert.equal(result.status, 'md5_mismatch');
    assert.equal(result.md5, md5Hex(wrongMd5));
    assert.notEqual(result.md5, announced);
    assert.equal(result.attempts, 3);
    assert.deepEqual(
      sinks.map((s) => s.state),
      ['aborted', 'aborted', 'finished'],
    );
    assert.ok(Buffer.concat(sinks[2]!.bytes).equals(wrongMd5));
  });

  test('a crash inside GetMediaData aborts the upload and surfaces as a dead child', async () => {
    const sinks: RecordedSink[] = [];
    await assert.rejects(
      fetch('crashing', md5Hex(crashing), sinks),
      (err: unknown) => err instanceof ChildGoneError,
    );
    assert.deepEqual(
      sinks.map((s) => s.state),
      ['aborted'],
    );
    await child.start();
  });

  test('media references are found wherever a record holds them (payload, mixed, chatrecord items)', () => {
    const record = {
      msgtype: 'mixed',
      mixed: {
        item: [
          { type: 'text', content: '{"content":"hi"}' },
          {
            type: 'image',
            content: { sdkfileid: 'A', md5sum: 'ABCDEF0123456789ABCDEF0123456789', filesize: 10 },
          },
        ],
      },
      chatrecord: { item: [{ type: 'ChatRecordFile', content: { sdkfileid: 'B' } }] },
      image: { sdkfileid: 'A' },
    };
    assert.deepEqual(mediaRefsOf(record, 'm1', 5), [
      { msgid: 'm1', seq: 5, sdkfileid: 'A', md5sum: 'abcdef0123456789abcdef0123456789', size: 10 },
      { msgid: 'm1', seq: 5, sdkfileid: 'B' },
    ]);
  });
});
