import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  createOpenStream,
  createSealStream,
  FLAG_DEFLATE_DICT1,
  openSealedHeader,
  SUITE_SM4CTR_HMACSM3_BOUND,
  LocalKeyProvider,
  openBuffer,
  openSealed,
  parseSealedHeader,
  parseSealedV2Header,
  rewrapSealedV2,
  sealBuffer,
  sealedKeyInfo,
  SEALED_V2_TAG_BYTES,
  type DataClass,
  type KeyProvider,
  type SealBinding,
  type WrappedKey,
} from '../../src/crypto';
import { isCryptoError, MASTER_KEY, runTransform } from './helpers';

const keys = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 2 });
const binding: SealBinding = { kind: 'msg', corp: 'wwbank0001', id: 'a26e0e4c047782982dfcfd3fe2b30006' };

/** A chat record as ingest seals it: a ~60-character line plus the normalised fields and the raw record. */
export function typicalChatRecord(): Buffer {
  const text =
    '您好，我是招商银行理财经理小王，上次您咨询的那款稳健型理财产品本周五开放申购，年化业绩比较基准3.2%，需要的话我帮您预约。';
  const raw = {
    msgid: '7402816113467985361_1733212345678_external',
    action: 'send',
    from: 'zhangwei',
    tolist: ['wmQ1x2y3z4AbCdEfGh'],
    msgtime: 1733212345678,
    msgtype: 'text',
    text: { content: text },
  };
  return Buffer.from(
    JSON.stringify({
      schema: 'cz.msg.v1',
      id: binding.id,
      corpId: binding.corp,
      msgid: raw.msgid,
      action: 'send',
      from: raw.from,
      tolist: raw.tolist,
      conversationId: `p:${raw.from}|${raw.tolist[0]}`,
      msgtime: raw.msgtime,
      text,
      raw,
      receivedAt: raw.msgtime + 1500,
      media: [],
      msgtype: 'text',
      contentMac: 'c852a98f7641bd504572fb3203542ddf701a51b0b07551ecee894e124490818b',
    }),
  );
}

/** Like the key service: a 21-byte handle ("CZDK" 01 ‖ 16-byte key id) instead of a wrap. */
class HandleKeyProvider implements KeyProvider {
  private readonly byId = new Map<string, Buffer>();
  async newDataKey(dataClass: DataClass): Promise<{ plaintext: Buffer; wrapped: WrappedKey }> {
    const id = randomBytes(16);
    const plaintext = randomBytes(16);
    this.byId.set(id.toString('hex'), plaintext);
    const wrapped = Buffer.concat([Buffer.from('CZDK\x01', 'latin1'), id]);
    return { plaintext, wrapped: { kekId: `keyservice/${dataClass}`, kekVersion: 3, wrapped } };
  }
  async unwrapDataKey(wrapped: WrappedKey): Promise<Buffer> {
    const key = this.byId.get(wrapped.wrapped.subarray(5).toString('hex'));
    if (!key) throw new Error('unknown handle');
    return key;
  }
}

function flip(sealed: Buffer, at: number): Buffer {
  const copy = Buffer.from(sealed);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

describe('sealed format v2', () => {
  it('[REG-06] seals bound to kind, corp and id; opens with the same binding', async () => {
    const plaintext = typicalChatRecord();
    const sealed = await sealBuffer(plaintext, keys, 'chat', binding);
    assert.deepEqual(await openBuffer(sealed, keys, binding), plaintext);
    const opened = await openSealed(sealed, keys);
    assert.equal(opened.version, 2);
    assert.deepEqual(opened.binding, binding);
    const info = sealedKeyInfo(sealed);
    assert.equal(info.kekId, 'local/chat');
    assert.equal(info.kekVersion, 2);
    assert.equal(info.dataClass, 'chat');
  });

  for (const [what, other] of [
    ['another record id', { ...binding, id: 'b26e0e4c047782982dfcfd3fe2b30006' }],
    ['another corp', { ...binding, corp: 'wwbank0002' }],
    ['another kind', { ...binding, kind: 'call' }],
  ] as [string, SealBinding][]) {
    it(`[REG-06] moved sealed value: opened for ${what} → binding_mismatch`, async () => {
      const sealed = await sealBuffer(typicalChatRecord(), keys, 'chat', binding);
      await assert.rejects(openBuffer(sealed, keys, other), isCryptoError('binding_mismatch'));
    });
  }

  it('[REG-06] a binding rewritten in the header to the target row fails authentication', async () => {
    // the attacker re-encodes the header with the row's binding: the tag covers the binding
    const sealed = await sealBuffer(typicalChatRecord(), keys, 'chat', binding);
    const header = parseSealedV2Header(sealed);
    const target: SealBinding = { ...binding, id: 'b26e0e4c047782982dfcfd3fe2b30006' };
    const forged = Buffer.from(sealed);
    forged[header.boundLength - 16] = 0xb2; // first byte of the binary id: a2 → b2
    assert.deepEqual(parseSealedV2Header(forged).binding, target);
    await assert.rejects(openBuffer(forged, keys, target), isCryptoError('segment_tampered'));
  });

  it('the data class is authenticated: changing it fails', async () => {
    const sealed = await sealBuffer(Buffer.from('x'.repeat(40)), keys, 'pii', binding);
    const moved = Buffer.from(sealed);
    moved[3] = 1; // pii → chat: another KEK id (local/chat), so another data key or none
    await assert.rejects(openBuffer(moved, keys, binding));
  });

  it('every byte of header and body is protected', async () => {
    const sealed = await sealBuffer(typicalChatRecord(), keys, 'chat', binding);
    for (let at = 0; at < sealed.length; at += 7) {
      await assert.rejects(openBuffer(flip(sealed, at), keys), `byte ${at}`);
    }
    await assert.rejects(
      openBuffer(sealed.subarray(0, sealed.length - 1), keys),
      isCryptoError('segment_tampered'),
    );
    await assert.rejects(
      openBuffer(Buffer.concat([sealed, Buffer.from([0])]), keys),
      isCryptoError('segment_tampered'),
    );
    await assert.rejects(openBuffer(sealed.subarray(0, 20), keys), isCryptoError('truncated'));
  });

  it('compresses when it shrinks, not otherwise; empty plaintext round-trips', async () => {
    const json = await sealBuffer(typicalChatRecord(), keys, 'chat', binding);
    assert.equal(parseSealedV2Header(json).flags & FLAG_DEFLATE_DICT1, FLAG_DEFLATE_DICT1);
    const noise = randomBytes(300);
    const sealedNoise = await sealBuffer(noise, keys, 'chat', binding);
    assert.equal(parseSealedV2Header(sealedNoise).flags, 0);
    assert.deepEqual(await openBuffer(sealedNoise, keys, binding), noise);
    const empty = await sealBuffer(Buffer.alloc(0), keys, 'chat', binding);
    assert.equal((await openBuffer(empty, keys, binding)).length, 0);
    const big = Buffer.from('理财'.repeat(200_000));
    assert.deepEqual(await openBuffer(await sealBuffer(big, keys, 'chat', binding), keys, binding), big);
  });

  it('[REG-06] a typical chat record seals to at most half of v1 (key-service handles)', async () => {
    const provider = new HandleKeyProvider();
    const plaintext = typicalChatRecord();
    const v1 = await sealBuffer(plaintext, provider, 'chat');
    const v2 = await sealBuffer(plaintext, provider, 'chat', binding);
    const h1 = parseSealedHeader(v1);
    const h2 = parseSealedV2Header(v2);
    console.log(
      `chat record: plaintext JSON ${plaintext.length} B; v1 ${v1.length} B = header ${h1.headerLength} ` +
        `(KEK id ${h1.kekId.length}, handle ${h1.wrappedKey.length}, salt 16, nonce 8, header MAC 16) + body ${plaintext.length} + tag 16; ` +
        `v2 ${v2.length} B = header ${h2.headerLength} (binding ${h2.boundLength - 6}, KEK by code, handle 16, salt 16) ` +
        `+ compressed body ${v2.length - h2.headerLength - SEALED_V2_TAG_BYTES} + tag 16`,
    );
    assert.ok(v2.length * 2 <= v1.length, `v2 ${v2.length} B is not at most half of v1 ${v1.length} B`);
    assert.equal(sealedKeyInfo(v2).kekId, 'keyservice/chat');
    assert.equal(
      sealedKeyInfo(v2).wrappedKey.subarray(0, 5).toString('latin1'),
      'CZDK\x01',
      'the handle is restored whole',
    );
    assert.deepEqual(await openBuffer(v2, provider, binding), plaintext);
  });

  it('v1 objects still open, and report no binding', async () => {
    const v1 = await sealBuffer(Buffer.from('legacy'), keys, 'chat');
    const opened = await openSealed(v1, keys, binding);
    assert.equal(opened.version, 1);
    assert.equal(opened.binding, undefined);
    assert.equal(opened.plaintext.toString(), 'legacy');
    assert.equal(sealedKeyInfo(v1).version, 1);
  });

  it('rewrap swaps the KEK section only; the binding and body stay byte for byte', async () => {
    const v1Keys = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 1 });
    const sealed = await sealBuffer(typicalChatRecord(), v1Keys, 'chat', binding);
    const info = sealedKeyInfo(sealed);
    const rewrapped = await keys.rewrapDataKey({
      kekId: info.kekId,
      kekVersion: info.kekVersion,
      wrapped: info.wrappedKey,
    });
    const moved = await rewrapSealedV2(sealed, keys, rewrapped);
    assert.equal(sealedKeyInfo(moved).kekVersion, 2);
    assert.deepEqual(moved.subarray(moved.length - 100), sealed.subarray(sealed.length - 100));
    const v1Retired = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 2, retiredVersions: [1] });
    assert.deepEqual(await openBuffer(moved, v1Retired, binding), typicalChatRecord());
  });

  it('[REG-06] a bound stream (recordings: suite 2) opens only for its own binding, whole or by Range', async () => {
    const recording: SealBinding = { kind: 'call', corp: 'wwbank0001', id: 'b'.repeat(32) };
    const audio = randomBytes(5000);
    const sealed = await runTransform(
      createSealStream(keys, 'recording', { segmentSize: 1024, binding: recording }),
      audio,
      333,
    );
    assert.equal(parseSealedHeader(sealed).suite, SUITE_SM4CTR_HMACSM3_BOUND);
    assert.deepEqual(await runTransform(createOpenStream(keys, recording), sealed, 500), audio);
    assert.deepEqual(await openBuffer(sealed, keys, recording), audio);
    const opened = await openSealedHeader(sealed, keys, recording);
    assert.equal(opened.header.segmentSize, 1024);
    for (const other of [
      { ...recording, id: 'c'.repeat(32) },
      { ...recording, corp: 'wwbank0002' },
    ]) {
      await assert.rejects(
        runTransform(createOpenStream(keys, other), sealed),
        isCryptoError('binding_mismatch'),
      );
      await assert.rejects(openSealedHeader(sealed, keys, other), isCryptoError('binding_mismatch'));
    }
    await assert.rejects(runTransform(createOpenStream(keys), sealed), isCryptoError('binding_mismatch'));
    // unbound streams are unchanged: an expected binding is ignored
    const plain = await runTransform(createSealStream(keys, 'recording'), audio);
    assert.deepEqual(await runTransform(createOpenStream(keys, recording), plain), audio);
  });

  it('bad input: unknown kind, empty id, malformed headers', async () => {
    await assert.rejects(
      sealBuffer(Buffer.from('x'), keys, 'chat', {
        kind: 'nope',
        corp: 'c',
        id: 'i',
      } as unknown as SealBinding),
      isCryptoError('invalid_argument'),
    );
    await assert.rejects(
      sealBuffer(Buffer.from('x'), keys, 'chat', { ...binding, id: '' }),
      isCryptoError('invalid_argument'),
    );
    const sealed = await sealBuffer(Buffer.from('x'), keys, 'chat', binding);
    const badFlags = Buffer.from(sealed);
    badFlags[4] = 0x80;
    assert.throws(() => parseSealedV2Header(badFlags), isCryptoError('malformed_header'));
    const badKind = Buffer.from(sealed);
    badKind[5] = 200;
    assert.throws(() => parseSealedV2Header(badKind), isCryptoError('malformed_header'));
    assert.throws(() => parseSealedHeader(sealed), isCryptoError('unsupported_version'));
  });
});
