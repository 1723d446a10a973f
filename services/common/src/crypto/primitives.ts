import { createHash, createHmac, getCiphers, getHashes, timingSafeEqual } from 'node:crypto';
import { CryptoError } from './errors';

/** What the product needs from OpenSSL: SM4-CTR for data, SM4-ECB for key wrapping, SM3 for MACs. */
export const REQUIRED_CIPHERS = ['sm4-ctr', 'sm4-ecb'] as const;
export const REQUIRED_HASHES = ['sm3'] as const;

export interface CryptoCapabilities {
  ciphers: readonly string[];
  hashes: readonly string[];
  opensslVersion: string;
}

function currentCapabilities(): CryptoCapabilities {
  return {
    ciphers: getCiphers(),
    hashes: getHashes(),
    opensslVersion: process.versions.openssl ?? 'unknown',
  };
}

/**
 * Fails fast at service start-up when the linked OpenSSL lacks SM4/SM3 (e.g. a FIPS-only or
 * stripped build), naming exactly what is missing. `capabilities` is only for tests.
 */
export function assertNationalCryptoAvailable(
  capabilities: CryptoCapabilities = currentCapabilities(),
): void {
  const ciphers = new Set(capabilities.ciphers.map((name) => name.toLowerCase()));
  const hashes = new Set(capabilities.hashes.map((name) => name.toLowerCase()));
  const missing = [
    ...REQUIRED_CIPHERS.filter((name) => !ciphers.has(name)).map((name) => `cipher ${name}`),
    ...REQUIRED_HASHES.filter((name) => !hashes.has(name)).map((name) => `hash ${name}`),
  ];
  if (missing.length > 0) {
    throw new CryptoError(
      'national_crypto_unavailable',
      `OpenSSL ${capabilities.opensslVersion} lacks ${missing.join(', ')}; ` +
        'SM4/SM3 are mandatory (GB/T 39786-2021), use a Node.js build linked against OpenSSL 3 with SM algorithms enabled',
    );
  }
}

export const SM3_DIGEST_BYTES = 32;
export const SM4_KEY_BYTES = 16;

export function sm3(data: Buffer | string): Buffer {
  return createHash('sm3').update(data).digest();
}

export function hmacSm3(key: Buffer, data: Buffer | string): Buffer {
  return createHmac('sm3', key).update(data).digest();
}

/**
 * HKDF (RFC 5869) with SM3, extract and expand written out over `createHmac('sm3')`: the same bytes
 * as OpenSSL's `hkdfSync('sm3', …)` (the tests check both) at less than half its cost per call —
 * it runs twice for every sealed record opened.
 */
export function hkdfSm3(ikm: Buffer, salt: Buffer, info: string | Buffer, length: number): Buffer {
  if (!Number.isInteger(length) || length < 1 || length > 255 * SM3_DIGEST_BYTES) {
    throw new CryptoError('invalid_argument', `HKDF-SM3 output length must be 1..${255 * SM3_DIGEST_BYTES}`);
  }
  const infoBytes = typeof info === 'string' ? Buffer.from(info, 'utf8') : info;
  // RFC 5869 2.2: an empty salt is a string of HashLen zeros
  const prk = createHmac('sm3', salt.length > 0 ? salt : Buffer.alloc(SM3_DIGEST_BYTES))
    .update(ikm)
    .digest();
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let counter = 1; blocks.length * SM3_DIGEST_BYTES < length; counter++) {
    previous = createHmac('sm3', prk).update(previous).update(infoBytes).update(Buffer.of(counter)).digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** Constant-time comparison for MAC tags; different lengths are simply unequal. */
export function tagsEqual(expected: Buffer, actual: Buffer): boolean {
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
