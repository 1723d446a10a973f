import assert from 'node:assert/strict';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  getCiphers,
  getHashes,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import { describe, it } from 'node:test';
import { sm4 as jsSm4 } from 'sm-crypto-v2';
import {
  assertNationalCryptoAvailable,
  CryptoError,
  hkdfSm3,
  hmacSm3,
  keyUnwrap,
  keyWrap,
  sm3,
  tagsEqual,
} from '../../src/crypto';
import { isCryptoError } from './helpers';

const hex = (value: string) => Buffer.from(value, 'hex');

describe('SM4 (GB/T 32907-2016)', () => {
  const key = hex('0123456789abcdeffedcba9876543210');

  it('[REG-06] encrypts the standard example block', () => {
    const cipher = createCipheriv('sm4-ecb', key, null).setAutoPadding(false);
    assert.equal(cipher.update(key).toString('hex'), '681edf34d206965e86b3e94f536e4246');
    const decipher = createDecipheriv('sm4-ecb', key, null).setAutoPadding(false);
    assert.equal(
      decipher.update(hex('681edf34d206965e86b3e94f536e4246')).toString('hex'),
      key.toString('hex'),
    );
  });

  it('[REG-06] encrypts the standard example 1,000,000 times', () => {
    const cipher = createCipheriv('sm4-ecb', key, null).setAutoPadding(false);
    let block: Buffer = key;
    for (let i = 0; i < 1_000_000; i++) block = cipher.update(block);
    assert.equal(block.toString('hex'), '595298c7c6fd271f0402f804c33d3f66');
  });

  it('[REG-06] node:crypto SM4 equals the pure-JS sm-crypto-v2 SM4 (ECB and CBC)', () => {
    for (const length of [16, 64, 4096]) {
      const data = randomBytes(length);
      const dataKey = randomBytes(16);
      const iv = randomBytes(16);
      const ecb = Buffer.from(
        jsSm4.encrypt(data, dataKey, { mode: 'ecb', padding: 'none', output: 'array' }),
      );
      assert.deepEqual(ecb, createCipheriv('sm4-ecb', dataKey, null).setAutoPadding(false).update(data));
      const cbc = Buffer.from(
        jsSm4.encrypt(data, dataKey, { mode: 'cbc', iv, padding: 'none', output: 'array' }),
      );
      assert.deepEqual(cbc, createCipheriv('sm4-cbc', dataKey, iv).setAutoPadding(false).update(data));
    }
  });

  it('[REG-06] SM4-CTR is SM4-ECB of the big-endian counter block XOR plaintext', () => {
    const dataKey = randomBytes(16);
    const iv = Buffer.concat([randomBytes(13), Buffer.from([0xff, 0xff, 0xfe])]);
    const data = randomBytes(5 * 16 + 3);
    const ecb = createCipheriv('sm4-ecb', dataKey, null).setAutoPadding(false);
    const expected = Buffer.alloc(data.length);
    const counter = Buffer.from(iv);
    for (let block = 0; block * 16 < data.length; block++) {
      const keystream = ecb.update(counter);
      for (let i = 0; i < 16 && block * 16 + i < data.length; i++)
        expected[block * 16 + i] = data[block * 16 + i]! ^ keystream[i]!;
      for (let i = 15; i >= 0; i--) {
        counter[i] = (counter[i]! + 1) & 0xff;
        if (counter[i] !== 0) break;
      }
    }
    assert.deepEqual(createCipheriv('sm4-ctr', dataKey, iv).update(data), expected);
  });
});

describe('SM3 (GB/T 32905-2016)', () => {
  it('[REG-06] hashes "abc"', () => {
    assert.equal(
      sm3('abc').toString('hex'),
      '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0',
    );
  });

  it('[REG-06] hashes "abcd" x 16 (64 bytes)', () => {
    assert.equal(
      sm3('abcd'.repeat(16)).toString('hex'),
      'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732',
    );
  });

  it('[REG-06] HMAC-SM3 equals the RFC 2104 construction over SM3', () => {
    const rfc2104 = (key: Buffer, data: Buffer) => {
      const block = Buffer.alloc(64);
      (key.length > 64 ? sm3(key) : key).copy(block);
      const pad = (byte: number) => Buffer.from(block.map((b) => b ^ byte));
      return sm3(Buffer.concat([pad(0x5c), sm3(Buffer.concat([pad(0x36), data]))]));
    };
    for (const keyLength of [0, 16, 32, 64, 65, 100]) {
      const key = randomBytes(keyLength);
      const data = randomBytes(200);
      assert.deepEqual(hmacSm3(key, data), rfc2104(key, data));
    }
    assert.equal(hmacSm3(Buffer.from('key'), 'abc').length, 32);
  });

  it('[REG-06] HKDF-SM3 equals RFC 5869 extract-then-expand written out by hand', () => {
    const rfc5869 = (ikm: Buffer, salt: Buffer, info: Buffer, length: number) => {
      const prk = hmacSm3(salt.length > 0 ? salt : Buffer.alloc(32), ikm);
      const blocks: Buffer[] = [];
      let previous: Buffer = Buffer.alloc(0);
      for (let i = 1; Buffer.concat(blocks).length < length; i++) {
        previous = hmacSm3(prk, Buffer.concat([previous, info, Buffer.from([i])]));
        blocks.push(previous);
      }
      return Buffer.concat(blocks).subarray(0, length);
    };
    for (const [saltLength, length] of [
      [16, 16],
      [0, 32],
      [32, 48],
      [13, 100],
    ] as const) {
      const ikm = randomBytes(22);
      const salt = randomBytes(saltLength);
      const info = randomBytes(10);
      assert.deepEqual(hkdfSm3(ikm, salt, info, length), rfc5869(ikm, salt, info, length));
      // and OpenSSL's own HKDF (what earlier versions called): the same bytes
      assert.deepEqual(
        hkdfSm3(ikm, salt, info, length),
        Buffer.from(hkdfSync('sm3', ikm, salt, info, length)),
      );
    }
    assert.deepEqual(
      hkdfSm3(hex('00'), hex('01'), 'enc', 16),
      hkdfSm3(hex('00'), hex('01'), Buffer.from('enc'), 16),
    );
    assert.notDeepEqual(hkdfSm3(hex('00'), hex('01'), 'enc', 16), hkdfSm3(hex('00'), hex('01'), 'mac', 16));
    assert.throws(() => hkdfSm3(hex('00'), hex('01'), 'x', 0), isCryptoError('invalid_argument'));
    assert.throws(() => hkdfSm3(hex('00'), hex('01'), 'x', 255 * 32 + 1), isCryptoError('invalid_argument'));
  });

  it('[REG-06] tags compare in constant time and unequal lengths are unequal', () => {
    const tag = randomBytes(16);
    assert.equal(tagsEqual(tag, Buffer.from(tag)), true);
    assert.equal(tagsEqual(tag, tag.subarray(0, 15)), false);
    const other = Buffer.from(tag);
    other[15] = other[15]! ^ 1;
    assert.equal(tagsEqual(tag, other), false);
  });
});

describe('national crypto availability', () => {
  it('[REG-06] passes on this OpenSSL build', () => {
    assert.doesNotThrow(() => assertNationalCryptoAvailable());
    assert.ok(getCiphers().includes('sm4-ctr') && getHashes().includes('sm3'));
  });

  it('[REG-06] names exactly what is missing and the OpenSSL version', () => {
    try {
      assertNationalCryptoAvailable({
        ciphers: ['aes-128-gcm', 'sm4-ecb'],
        hashes: ['sha256'],
        opensslVersion: '3.0.99-fips',
      });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof CryptoError);
      assert.equal(err.code, 'national_crypto_unavailable');
      assert.match(err.message, /OpenSSL 3\.0\.99-fips lacks cipher sm4-ctr, hash sm3;/);
      assert.doesNotMatch(err.message, /sm4-ecb/);
    }
    assert.doesNotThrow(() =>
      assertNationalCryptoAvailable({
        ciphers: ['SM4-CTR', 'sm4-ecb'],
        hashes: ['sm3'],
        opensslVersion: 'x',
      }),
    );
  });
});

describe('SM4 key wrap (RFC 3394 construction)', () => {
  it('[REG-06] the construction reproduces the RFC 3394 AES-128 vector', () => {
    const kek = hex('000102030405060708090a0b0c0d0e0f');
    const key = hex('00112233445566778899aabbccddeeff');
    const wrapped = keyWrap('aes-128-ecb', kek, key);
    assert.equal(wrapped.toString('hex'), '1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5');
    assert.deepEqual(keyUnwrap('aes-128-ecb', kek, wrapped), key);
  });

  it('[REG-06] wraps a 16-byte key into 24 bytes with SM4 and detects any change', () => {
    const kek = randomBytes(16);
    const key = randomBytes(16);
    const wrapped = keyWrap('sm4-ecb', kek, key);
    assert.equal(wrapped.length, 24);
    assert.deepEqual(keyUnwrap('sm4-ecb', kek, wrapped), key);
    for (let i = 0; i < wrapped.length; i++) {
      const bad = Buffer.from(wrapped);
      bad[i] = bad[i]! ^ 0x01;
      assert.throws(() => keyUnwrap('sm4-ecb', kek, bad), isCryptoError('unwrap_failed'));
    }
    assert.throws(() => keyUnwrap('sm4-ecb', randomBytes(16), wrapped), isCryptoError('unwrap_failed'));
  });

  it('[REG-06] sm3() equals createHash("sm3")', () => {
    const data = randomBytes(1000);
    assert.deepEqual(sm3(data), createHash('sm3').update(data).digest());
  });
});
