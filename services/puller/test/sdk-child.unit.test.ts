/**
 * The SDK sandbox child against the C test double (the real Tencent library cannot be had here):
 * the ABI binding, RSA with several key versions, binary-safe media chunks, and a native crash that
 * ends the child only.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  buildFinanceSdkDouble,
  md5Hex,
  rsaKeyPair,
  writeDoubleScript,
  type WrittenScript,
} from '@cz/testkit';
import { ChildGoneError, SdkChild, SdkError } from '../src/sdk/sdk-child';

type TextMessage = { text: { content: string } };

const v1 = rsaKeyPair();
const v2 = rsaKeyPair();

const text = (msgid: string, content: string) => ({
  msgid,
  action: 'send',
  from: 'zhangwei',
  tolist: ['wmCust1'],
  msgtime: Date.UTC(2026, 10, 1, 2),
  msgtype: 'text',
  text: { content },
});

describe('SDK sandbox child (C test double)', () => {
  let library: string;
  let script: WrittenScript;
  // binary content with NULs and bytes that are not UTF-8, over several chunks
  const media = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0, 0x80]), randomBytes(300_000)]);

  before(() => {
    library = buildFinanceSdkDouble();
    script = writeDoubleScript({
      corpId: 'wwcorp1',
      secret: 's3cret',
      publicKeys: { 1: v1.publicKeyPem, 2: v2.publicKeyPem },
      chats: [
        { seq: 1, msgid: 'm1', publickeyVer: 1, message: text('m1', '你好') },
        { seq: 2, msgid: 'm2', publickeyVer: 2, message: text('m2', 'second key version') },
        { seq: 3, msgid: 'm3', publickeyVer: 7, message: text('m3', 'nobody holds version 7') },
        { seq: 4, msgid: 'm4', publickeyVer: 1, message: text('m4', 'crashes the first time') },
        { seq: 5, msgid: 'm5', publickeyVer: 1, message: text('m5', 'after the crash') },
      ],
      media: [{ sdkfileid: 'FILE/ID+1==', content: media, chunkBytes: 64 * 1024 }],
      crashDecryptOf: ['m4'],
    });
  });
  after(() => script.cleanup());

  const startChild = async (secret = 's3cret') => {
    const child = new SdkChild({
      init: {
        libraryPath: library,
        corpId: 'wwcorp1',
        secret,
        privateKeys: [
          { publickeyVer: 1, pem: v1.privateKeyPem },
          { publickeyVer: 2, pem: v2.privateKeyPem },
        ],
        proxy: '',
        passwd: '',
        timeoutSec: 5,
      },
      callTimeoutMs: 20000,
      env: { ...process.env, CZ_FAKE_WEWORK_SCRIPT: script.path },
    });
    await child.start();
    return child;
  };

  test('a wrong secret fails Init with the SDK return code, and the child ends', async () => {
    await assert.rejects(startChild('wrong'), (err: unknown) => err instanceof SdkError && err.rc === 41001);
  });

  test('[REG-01] decrypts with the key of each record’s publickey_ver; an unknown version is reported, not dropped', async () => {
    const child = await startChild();
    try {
      const records = await child.pull(0, 3);
      assert.deepEqual(
        records.map((r) => r.envelope.seq),
        [1, 2, 3],
      );
      const [r1, r2, r3] = records;
      assert.ok(r1?.ok && r2?.ok);
      assert.equal((JSON.parse(Buffer.from(r1.plaintext).toString()) as TextMessage).text.content, '你好');
      assert.equal(
        (JSON.parse(Buffer.from(r2.plaintext).toString()) as TextMessage).text.content,
        'second key version',
      );
      assert.ok(r3 && !r3.ok);
      assert.equal(r3.stage, 'key');
      assert.match(r3.reason, /no private key for publickey_ver 7/);
      assert.equal(r3.envelope.msgid, 'm3');
    } finally {
      await child.stop();
    }
  });

  test('media comes back binary-safe over several GetMediaData calls until is_finish', async () => {
    const child = await startChild();
    try {
      const chunks: Buffer[] = [];
      let index: Buffer = Buffer.alloc(0);
      for (;;) {
        const chunk = await child.mediaChunk('FILE/ID+1==', index);
        chunks.push(chunk.data);
        index = chunk.outIndex;
        if (chunk.finished) break;
      }
      assert.ok(chunks.length >= 5, `expected several chunks, got ${chunks.length}`);
      assert.equal(md5Hex(Buffer.concat(chunks)), md5Hex(media));
      await assert.rejects(child.mediaChunk('no-such-file', Buffer.alloc(0)), (err: unknown) => {
        return err instanceof SdkError && err.rc === 10005;
      });
    } finally {
      await child.stop();
    }
  });

  test('a segfault in the library ends the child only; a new child goes on', async () => {
    const child = await startChild();
    await assert.rejects(
      child.pull(3, 2),
      (err: unknown) => err instanceof ChildGoneError && err.signal === 'SIGSEGV',
    );
    assert.equal(child.alive, false);
    const again = await startChild();
    try {
      const records = await again.pull(3, 2);
      assert.deepEqual(
        records.map((r) => [r.envelope.seq, r.ok]),
        [
          [4, true],
          [5, true],
        ],
      );
    } finally {
      await again.stop();
    }
  });
});
