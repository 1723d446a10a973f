/**
 * Golden vectors (known-answer tests) of everything the archive keeps for ten years: sealed v1,
 * sealed v2 (both KEK forms, compressed and not), the v1 streaming format of recordings, and the
 * blind index of every purpose. Fixed keys, salts and nonces give exact bytes, committed under
 * ./vectors. A change to a derivation label, an IV byte, a salt, the compression dictionary or a
 * header field makes this test fail: an archive written today must still open and be found.
 *
 * The vectors are written once (CZ_WRITE_VECTORS=1 on a missing file) and never rewritten: a new
 * format is a new vector next to the old ones, never an edit.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  blindIndex,
  createOpenStream,
  createSealStream,
  deriveIndexKey,
  hkdfSm3,
  hmacSm3,
  keyWrap,
  LocalKeyProvider,
  openBuffer,
  openSealed,
  sealBuffer,
  type DataClass,
  type KeyProvider,
  type SealBinding,
  type WrappedKey,
} from '../../src/crypto';
import { phoneIndexToken, stableJson } from '../../src/call-events';
import { IndexPurposes } from '../../src/index-keys';
import { indexTokens } from '../../src/search';
import { runTransform } from './helpers';

const VECTORS = new URL('./vectors/', import.meta.url);
const MASTER = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const DATA_KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const INDEX_ROOT = Buffer.from('f0e1d2c3b4a5968778695a4b3c2d1e0f0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex');
const HANDLE_ID = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf', 'hex');

/** Hands out the fixed data key, wrapped as the development provider wraps it (local/<class>#1). */
class FixedLocalProvider implements KeyProvider {
  private readonly local = new LocalKeyProvider({ masterKey: MASTER });
  async newDataKey(dataClass: DataClass): Promise<{ plaintext: Buffer; wrapped: WrappedKey }> {
    const kek = hkdfSm3(MASTER, Buffer.from('cunzheng/kek/v1'), `local/${dataClass}#1`, 16);
    return {
      plaintext: Buffer.from(DATA_KEY),
      wrapped: { kekId: `local/${dataClass}`, kekVersion: 1, wrapped: keyWrap('sm4-ecb', kek, DATA_KEY) },
    };
  }
  unwrapDataKey(wrapped: WrappedKey): Promise<Buffer> {
    return this.local.unwrapDataKey(wrapped);
  }
}

/** The key service's form: a handle ("CZDK" 01 ‖ key id) in place of a wrap. */
class FixedHandleProvider implements KeyProvider {
  async newDataKey(dataClass: DataClass): Promise<{ plaintext: Buffer; wrapped: WrappedKey }> {
    const wrapped = Buffer.concat([Buffer.from('CZDK\x01', 'latin1'), HANDLE_ID]);
    return {
      plaintext: Buffer.from(DATA_KEY),
      wrapped: { kekId: `keyservice/${dataClass}`, kekVersion: 7, wrapped },
    };
  }
  async unwrapDataKey(wrapped: WrappedKey): Promise<Buffer> {
    if (!wrapped.wrapped.subarray(5).equals(HANDLE_ID)) throw new Error('unknown handle');
    return Buffer.from(DATA_KEY);
  }
}

/** Deterministic "randomness": the given hex strings, in order. */
function fixedRandom(...hex: string[]) {
  const queue = hex.map((h) => Buffer.from(h, 'hex'));
  return (bytes: number) => {
    const next = queue.shift();
    if (!next || next.length !== bytes) throw new Error(`fixed random: no ${bytes}-byte value left`);
    return next;
  };
}

const CHAT_TEXT = '您好，上次您咨询的稳健型理财产品本周五开放申购，年化业绩比较基准3.2%，电话13812345678。';
const CHAT_RECORD = JSON.stringify({
  schema: 'cz.msg.v1',
  id: '5f0c7a1e2d3b4c5d6e7f8091a2b3c4d5',
  corpId: 'wwvectorbank',
  msgid: 'vector-msg-1',
  action: 'send',
  from: 'zhangwei',
  tolist: ['wmVectorCustomer'],
  conversationId: 'p:wmVectorCustomer|zhangwei',
  msgtime: 1733212345678,
  text: CHAT_TEXT,
  raw: {
    msgid: 'vector-msg-1',
    action: 'send',
    from: 'zhangwei',
    tolist: ['wmVectorCustomer'],
    msgtime: 1733212345678,
    msgtype: 'text',
    text: { content: CHAT_TEXT },
  },
  receivedAt: 1733212346000,
  media: [],
  msgtype: 'text',
});
const CHAT_BINDING: SealBinding = {
  kind: 'msg',
  corp: 'wwvectorbank',
  id: '5f0c7a1e2d3b4c5d6e7f8091a2b3c4d5',
};

interface SealedVector {
  name: string;
  format: 'v1' | 'v2' | 'stream-v1';
  provider: 'local' | 'handle';
  dataClass: DataClass;
  segmentSize?: number;
  binding?: SealBinding;
  compress?: boolean;
  random: string[];
  plaintext: string;
  sealed: string;
}

const SALT = '0f0e0d0c0b0a09080706050403020100';
const NONCE = '1122334455667788';
const SALT_2 = 'c0ffee00c0ffee01c0ffee02c0ffee03';

/** What each vector is made from (its `sealed` is computed, then compared with the committed bytes). */
const SEALED_SPECS: Omit<SealedVector, 'sealed'>[] = [
  {
    name: 'v1 chat record, one segment',
    format: 'v1',
    provider: 'local',
    dataClass: 'chat',
    random: [SALT, NONCE],
    plaintext: CHAT_RECORD,
  },
  {
    name: 'v1 segments of 16 bytes (index and last flag in IV and tag)',
    format: 'v1',
    provider: 'local',
    dataClass: 'pii',
    segmentSize: 16,
    random: [SALT, NONCE],
    plaintext: '{"externalUserId":"wmVectorCustomer","name":"王小明"}',
  },
  {
    name: 'v1 empty plaintext',
    format: 'v1',
    provider: 'handle',
    dataClass: 'audit',
    random: [SALT, NONCE],
    plaintext: '',
  },
  {
    name: 'v2 chat record, compressed, key-service handle',
    format: 'v2',
    provider: 'handle',
    dataClass: 'chat',
    binding: CHAT_BINDING,
    random: [SALT_2],
    plaintext: CHAT_RECORD,
  },
  {
    name: 'v2 chat record, uncompressed, local wrap',
    format: 'v2',
    provider: 'local',
    dataClass: 'chat',
    binding: CHAT_BINDING,
    compress: false,
    random: [SALT_2],
    plaintext: CHAT_RECORD,
  },
  {
    name: 'v2 transcript text (utf-8 binding id)',
    format: 'v2',
    provider: 'handle',
    dataClass: 'chat',
    binding: { kind: 'transcript', corp: 'wwvectorbank', id: '5f0c7a1e2d3b4c5d6e7f8091a2b3c4d5/asr' },
    random: [SALT_2],
    plaintext: CHAT_TEXT,
  },
  {
    name: 'v2 short secret (not compressed: it would grow)',
    format: 'v2',
    provider: 'local',
    dataClass: 'pii',
    binding: { kind: 'secret', corp: 'wwvectorbank', id: 'corp-secret' },
    random: [SALT_2],
    plaintext: 's3cr3t',
  },
  {
    name: 'stream v1, recording, segments of 16 bytes',
    format: 'stream-v1',
    provider: 'handle',
    dataClass: 'recording',
    segmentSize: 16,
    random: [SALT, NONCE],
    plaintext: 'RIFF....WAVEfmt audio bytes of a call recording, three segments and a bit',
  },
];

function providerOf(spec: Pick<SealedVector, 'provider'>): KeyProvider {
  return spec.provider === 'local' ? new FixedLocalProvider() : new FixedHandleProvider();
}

async function sealSpec(spec: Omit<SealedVector, 'sealed'>): Promise<Buffer> {
  const keys = providerOf(spec);
  const plaintext = Buffer.from(spec.plaintext, 'utf8');
  const random = fixedRandom(...spec.random);
  if (spec.format === 'v1') {
    return sealBuffer(plaintext, keys, spec.dataClass, {
      random,
      ...(spec.segmentSize ? { segmentSize: spec.segmentSize } : {}),
    });
  }
  if (spec.format === 'stream-v1') {
    return runTransform(
      createSealStream(keys, spec.dataClass, { random, segmentSize: spec.segmentSize! }),
      plaintext,
      7,
    );
  }
  return sealBuffer(plaintext, keys, spec.dataClass, spec.binding!, {
    random,
    ...(spec.compress === false ? { compress: false } : {}),
  });
}

interface IndexVector {
  purpose: string;
  /** HKDF-SM3(root, "cunzheng/blind-index/v1", purpose, 32) */
  key: string;
  tokens: { token: string; index: string }[];
  /** content fingerprints: HMAC-SM3(key, stableJson(record)) in hex */
  contentMac?: { record: unknown; mac: string };
}

const INDEX_INPUTS: Record<string, string[]> = {
  [IndexPurposes.consent]: ['wmVectorCustomer', 'zhangwei'],
  [IndexPurposes.messageContent]: ['vector-msg-1'],
  [IndexPurposes.phone]: ['+86 138-1234-5678', '0086 13912345678', '021-6888 8888'].map(phoneIndexToken),
  [IndexPurposes.externalUserId]: ['wmVectorCustomer', 'woGroupOwner01'],
  [IndexPurposes.callContent]: ['call-1'],
  [IndexPurposes.eventContent]: ['event-1'],
  [IndexPurposes.searchToken]: indexTokens(CHAT_TEXT),
  [IndexPurposes.personName]: ['王小明', 'zhang wei'],
};
const CONTENT_RECORD = {
  callId: 'call-1',
  agentId: 'agent-4',
  startTime: 1733212345678,
  customerNumber: '13812345678',
};

function indexVectors(): IndexVector[] {
  return Object.values(IndexPurposes).map((purpose) => {
    const key = deriveIndexKey(INDEX_ROOT, purpose);
    const vector: IndexVector = {
      purpose,
      key: key.toString('hex'),
      tokens: (INDEX_INPUTS[purpose] ?? []).map((token) => ({ token, index: blindIndex(key, token) })),
    };
    if (purpose === IndexPurposes.callContent || purpose === IndexPurposes.eventContent) {
      vector.contentMac = {
        record: CONTENT_RECORD,
        mac: hmacSm3(key, stableJson(CONTENT_RECORD)).toString('hex'),
      };
    }
    return vector;
  });
}

function committed<T>(file: string, compute: () => Promise<T>): Promise<T> {
  const url = new URL(file, VECTORS);
  if (!existsSync(url)) {
    if (process.env.CZ_WRITE_VECTORS !== '1') throw new Error(`missing golden vectors ${url.pathname}`);
    return compute().then((value) => {
      writeFileSync(url, `${JSON.stringify(value, null, 2)}\n`);
      return value;
    });
  }
  return Promise.resolve(JSON.parse(readFileSync(url, 'utf8')) as T);
}

describe('golden vectors', async () => {
  const sealedVectors = await committed<SealedVector[]>('sealed.json', async () =>
    Promise.all(
      SEALED_SPECS.map(async (spec) => ({ ...spec, sealed: (await sealSpec(spec)).toString('hex') })),
    ),
  );
  const blindVectors = await committed<IndexVector[]>('blind-index.json', async () => indexVectors());
  const boundStream = await committed<SealedVector>('stream-bound.json', async () => {
    const spec: Omit<SealedVector, 'sealed'> = {
      name: 'stream suite 2 (bound), recording of a call, segments of 16 bytes',
      format: 'stream-v1',
      provider: 'handle',
      dataClass: 'recording',
      segmentSize: 16,
      binding: { kind: 'call', corp: 'wwvectorbank', id: '9e8d7c6b5a4938271605f4e3d2c1b0a9' },
      random: [SALT, NONCE],
      plaintext: 'RIFF....WAVEfmt audio bytes of a bound call recording',
    };
    const sealed = await runTransform(
      createSealStream(providerOf(spec), spec.dataClass, {
        random: fixedRandom(...spec.random),
        segmentSize: spec.segmentSize!,
        binding: spec.binding!,
      }),
      Buffer.from(spec.plaintext, 'utf8'),
      7,
    );
    return { ...spec, sealed: sealed.toString('hex') };
  });

  it('[REG-06] every committed sealed object opens to its plaintext (v1, v2, stream)', async () => {
    assert.equal(sealedVectors.length, SEALED_SPECS.length);
    for (const v of sealedVectors) {
      const sealed = Buffer.from(v.sealed, 'hex');
      const keys = providerOf(v);
      if (v.format === 'stream-v1') {
        const opened = await runTransform(createOpenStream(keys), sealed, 5);
        assert.equal(opened.toString('utf8'), v.plaintext, v.name);
      } else {
        const opened = await openSealed(sealed, keys, v.binding);
        assert.equal(opened.plaintext.toString('utf8'), v.plaintext, v.name);
        assert.equal(opened.version, v.format === 'v2' ? 2 : 1, v.name);
        if (v.binding) assert.deepEqual(opened.binding, v.binding, v.name);
      }
    }
  });

  it('[REG-06] sealing the same inputs today gives the committed bytes exactly', async () => {
    for (const v of sealedVectors) {
      const spec = SEALED_SPECS.find((s) => s.name === v.name);
      assert.ok(spec, `vector ${v.name} has no spec`);
      assert.equal((await sealSpec(spec)).toString('hex'), v.sealed, v.name);
    }
  });

  it('[REG-06] a committed v2 object opened for another row is refused', async () => {
    const v = sealedVectors.find((s) => s.format === 'v2')!;
    await assert.rejects(
      openBuffer(Buffer.from(v.sealed, 'hex'), providerOf(v), { ...v.binding!, corp: 'wwotherbank' }),
      /binding_mismatch/,
    );
  });

  it('[REG-06] the committed bound stream (suite 2, recordings bound to their call) opens for its binding only', async () => {
    const v = boundStream;
    const sealed = Buffer.from(v.sealed, 'hex');
    assert.equal(
      (await runTransform(createOpenStream(providerOf(v), v.binding), sealed, 9)).toString('utf8'),
      v.plaintext,
    );
    await assert.rejects(
      runTransform(createOpenStream(providerOf(v), { ...v.binding!, id: 'other-call' }), sealed),
      /binding_mismatch/,
    );
    const again = await runTransform(
      createSealStream(providerOf(v), v.dataClass, {
        random: fixedRandom(...v.random),
        segmentSize: v.segmentSize!,
        binding: v.binding!,
      }),
      Buffer.from(v.plaintext, 'utf8'),
      7,
    );
    assert.equal(again.toString('hex'), v.sealed);
  });

  it('[REG-06] every blind-index purpose derives the committed key and finds the committed tokens', () => {
    const purposes = Object.values(IndexPurposes);
    assert.deepEqual(
      blindVectors.map((v) => v.purpose).sort(),
      [...purposes].sort(),
      'a purpose was added or renamed: add its vector (never change an existing one)',
    );
    for (const v of blindVectors) {
      const key = deriveIndexKey(INDEX_ROOT, v.purpose);
      assert.equal(key.toString('hex'), v.key, v.purpose);
      assert.ok(v.tokens.length > 0, `${v.purpose} has token vectors`);
      for (const t of v.tokens) assert.equal(blindIndex(key, t.token), t.index, `${v.purpose}: ${t.token}`);
      if (v.contentMac) {
        assert.equal(
          hmacSm3(key, stableJson(v.contentMac.record)).toString('hex'),
          v.contentMac.mac,
          v.purpose,
        );
      }
    }
  });

  it('[REG-06] the committed chat object, opened and tokenised, is found by its committed search tokens', async () => {
    const v = sealedVectors.find((s) => s.name.startsWith('v2 chat record, compressed'))!;
    const record = JSON.parse(
      (await openBuffer(Buffer.from(v.sealed, 'hex'), providerOf(v), v.binding)).toString(),
    ) as {
      text: string;
    };
    const search = blindVectors.find((b) => b.purpose === IndexPurposes.searchToken)!;
    const key = Buffer.from(search.key, 'hex');
    const stored = new Set(search.tokens.map((t) => t.index));
    for (const token of indexTokens(record.text))
      assert.ok(stored.has(blindIndex(key, token)), `token ${token}`);
    const phone = blindVectors.find((b) => b.purpose === IndexPurposes.phone)!;
    assert.equal(
      blindIndex(Buffer.from(phone.key, 'hex'), phoneIndexToken('138 1234 5678')),
      phone.tokens[0]!.index,
      'a phone typed another way finds the committed index',
    );
  });
});
