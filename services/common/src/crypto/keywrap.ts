import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoError } from './errors';
import { tagsEqual } from './primitives';

/**
 * The key wrap of RFC 3394 / NIST SP 800-38F ("KW"), written over any 128-bit block cipher in ECB
 * mode. With SM4 it wraps a 16-byte data key into 24 bytes, deterministically and with a 64-bit
 * integrity check: small enough that a 100-byte chat message does not double in size. The tests
 * run the same code with AES-128 against the RFC 3394 vector to show the construction is right.
 */
const DEFAULT_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
const HALF = 8;
const ROUNDS = 6;

function xorCounterInto(a: Buffer, t: number): void {
  const counter = Buffer.alloc(HALF);
  counter.writeBigUInt64BE(BigInt(t));
  for (let i = 0; i < HALF; i++) a[i] = a[i]! ^ counter[i]!;
}

function checkLengths(kek: Buffer, data: Buffer, minBlocks: number): number {
  if (kek.length !== 16) throw new CryptoError('invalid_argument', 'key-wrap KEK must be 16 bytes');
  if (data.length % HALF !== 0 || data.length / HALF < minBlocks) {
    throw new CryptoError(
      'invalid_argument',
      `key-wrap input must be a multiple of 8 bytes, at least ${minBlocks * HALF}`,
    );
  }
  return data.length / HALF;
}

export function keyWrap(ecbCipher: string, kek: Buffer, keyData: Buffer): Buffer {
  const n = checkLengths(kek, keyData, 2);
  const cipher = createCipheriv(ecbCipher, kek, null).setAutoPadding(false);
  const a = Buffer.from(DEFAULT_IV);
  const r = Buffer.from(keyData);
  const block = Buffer.alloc(16);
  for (let j = 0; j < ROUNDS; j++) {
    for (let i = 0; i < n; i++) {
      a.copy(block, 0);
      r.copy(block, HALF, i * HALF, (i + 1) * HALF);
      const b = cipher.update(block);
      b.copy(a, 0, 0, HALF);
      xorCounterInto(a, n * j + i + 1);
      b.copy(r, i * HALF, HALF, 16);
    }
  }
  return Buffer.concat([a, r]);
}

/** Throws CryptoError('unwrap_failed') when the integrity check fails (wrong KEK or modified). */
export function keyUnwrap(ecbCipher: string, kek: Buffer, wrapped: Buffer): Buffer {
  const n = checkLengths(kek, wrapped, 3) - 1;
  const decipher = createDecipheriv(ecbCipher, kek, null).setAutoPadding(false);
  const a = Buffer.from(wrapped.subarray(0, HALF));
  const r = Buffer.from(wrapped.subarray(HALF));
  const block = Buffer.alloc(16);
  for (let j = ROUNDS - 1; j >= 0; j--) {
    for (let i = n - 1; i >= 0; i--) {
      xorCounterInto(a, n * j + i + 1);
      a.copy(block, 0);
      r.copy(block, HALF, i * HALF, (i + 1) * HALF);
      const b = decipher.update(block);
      b.copy(a, 0, 0, HALF);
      b.copy(r, i * HALF, HALF, 16);
    }
  }
  if (!tagsEqual(DEFAULT_IV, a)) {
    r.fill(0);
    throw new CryptoError('unwrap_failed', 'key-wrap integrity check failed');
  }
  return r;
}
