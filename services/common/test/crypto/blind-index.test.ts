import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { blindIndex, blindIndexBigInt, deriveIndexKey, hmacSm3 } from '../../src/crypto';
import { isCryptoError, MASTER_KEY } from './helpers';

describe('blind index', () => {
  const phoneKey = deriveIndexKey(MASTER_KEY, 'phone');
  const wordKey = deriveIndexKey(MASTER_KEY, 'chat-words');

  it('[REG-06] is HMAC-SM3 truncated to 64 bits, as an unsigned decimal string', () => {
    const token = '13812341234';
    const expected = hmacSm3(phoneKey, token).readBigUInt64BE(0);
    assert.equal(blindIndexBigInt(phoneKey, token), expected);
    assert.equal(blindIndex(phoneKey, token), expected.toString());
    assert.match(blindIndex(phoneKey, token), /^[0-9]{1,20}$/);
    for (let i = 0; i < 200; i++) {
      const value = blindIndexBigInt(wordKey, randomBytes(6).toString('base64'));
      assert.ok(value >= 0n && value <= 0xffff_ffff_ffff_ffffn, 'fits BIGINT UNSIGNED');
    }
  });

  it('[REG-06] is deterministic per key and token, including CJK tokens', () => {
    for (const token of ['保本', '本保', '刚性兑付', 'a', '']) {
      assert.equal(
        blindIndex(wordKey, token),
        blindIndex(deriveIndexKey(Buffer.from(MASTER_KEY), 'chat-words'), token),
      );
    }
    assert.notEqual(blindIndex(wordKey, '保本'), blindIndex(wordKey, '本保'));
  });

  it('[REG-06] separates keys by purpose and by master key', () => {
    assert.notDeepEqual(phoneKey, wordKey);
    assert.equal(phoneKey.length, 32);
    assert.notEqual(blindIndex(phoneKey, '13812341234'), blindIndex(wordKey, '13812341234'));
    assert.notEqual(
      blindIndex(phoneKey, '13812341234'),
      blindIndex(deriveIndexKey(Buffer.alloc(32, 1), 'phone'), '13812341234'),
    );
    assert.deepEqual(deriveIndexKey(MASTER_KEY, 'phone'), phoneKey);
  });

  it('[REG-06] refuses short keys and empty purposes', () => {
    assert.throws(() => blindIndex(Buffer.alloc(8), 'x'), isCryptoError('invalid_argument'));
    assert.throws(() => deriveIndexKey(Buffer.alloc(8), 'phone'), isCryptoError('invalid_argument'));
    assert.throws(() => deriveIndexKey(MASTER_KEY, ''), isCryptoError('invalid_argument'));
  });
});
