import { CryptoError } from './errors';
import { hkdfSm3, hmacSm3 } from './primitives';

/*
 * Blind index: HMAC-SM3(indexKey, token) truncated to 64 bits, stored as BIGINT UNSIGNED. Equal
 * tokens give equal values under one key, so an exact look-up needs no plaintext column. What it
 * leaks: which rows share a token and how often a token occurs (frequency), nothing about the
 * token itself without the key. 64 bits keep false matches negligible per look-up (the caller
 * still opens and checks the matched records); keys are separated per purpose so the index of
 * phone numbers cannot be joined with the index of chat words.
 */

const INDEX_KEY_SALT = Buffer.from('cunzheng/blind-index/v1', 'utf8');
const MIN_INDEX_KEY_BYTES = 16;

/** Derives a separate 32-byte index key per purpose (e.g. `chat-words`, `phone`) from a root or data key. */
export function deriveIndexKey(masterOrDataKey: Buffer, purpose: string): Buffer {
  if (masterOrDataKey.length < MIN_INDEX_KEY_BYTES) {
    throw new CryptoError(
      'invalid_argument',
      `index key material must be at least ${MIN_INDEX_KEY_BYTES} bytes`,
    );
  }
  if (purpose.length === 0)
    throw new CryptoError('invalid_argument', 'blind-index purpose must not be empty');
  return hkdfSm3(masterOrDataKey, INDEX_KEY_SALT, purpose, 32);
}

export function blindIndexBigInt(indexKey: Buffer, normalisedToken: string): bigint {
  if (indexKey.length < MIN_INDEX_KEY_BYTES) {
    throw new CryptoError('invalid_argument', `index key must be at least ${MIN_INDEX_KEY_BYTES} bytes`);
  }
  return hmacSm3(indexKey, Buffer.from(normalisedToken, 'utf8')).readBigUInt64BE(0);
}

/** The blind index as an unsigned decimal string (fits MySQL BIGINT UNSIGNED; TypeORM bigint-as-string). */
export function blindIndex(indexKey: Buffer, normalisedToken: string): string {
  return blindIndexBigInt(indexKey, normalisedToken).toString(10);
}
