/*
 * SM2 signatures (GB/T 32918.2, curve sm2p256v1) with the default user ID 1234567812345678
 * (GM/T 0009), SM3 digest over Z ‖ message, DER-encoded (r, s).
 *
 * Why not node:crypto: OpenSSL 3.0 signs SM2 with an EMPTY distinguishing ID unless the caller
 * sets `distid`, which Node's sign/verify API cannot pass; checked on this OpenSSL 3.0.19 build:
 * crypto.verify rejects a correct default-ID signature, `openssl pkeyutl -pkeyopt
 * distid:1234567812345678` accepts it. The tests use that CLI as the independent cross-check.
 *
 * Why sm-crypto-v2 and not sm-crypto: the signature nonce k must come from a CSPRNG (a biased or
 * guessable k reveals the private key).
 *  - sm-crypto 0.3.x takes k from jsbn's SecureRandom, which on Node (no `window.crypto`) fills
 *    its pool from Math.random() and the clock and then runs RC4: not a CSPRNG.
 *  - sm-crypto 0.5.x seeds an RC4 generator once from 32 bytes of crypto.getRandomValues and
 *    never reseeds: every nonce of the process is RC4 keystream, which is biased and not a CSPRNG.
 *  - sm-crypto-v2 (maintained, on @noble/curves) draws k via `randomPrivateKey()` from
 *    globalThis.crypto.getRandomValues (WebCrypto, i.e. OpenSSL's CSPRNG on Node 20).
 * On top of that this module draws k and private keys itself from node:crypto.randomBytes and
 * hands k to the library (its `pointPool`), so the nonce source does not depend on the library's
 * environment detection. Caveat found while reading it: sm-crypto-v2's
 * `generateKeyPairHex(seed)` with a seed argument always yields private key 1; never call it
 * with an argument (this module does not).
 * The library's lenient DER parser is not used either: signatures are encoded and parsed here,
 * strictly (minimal INTEGERs, 1 ≤ r, s < n, no trailing bytes), so a signature has one encoding.
 */
import { randomBytes } from 'node:crypto';
import { sm2 } from 'sm-crypto-v2';
import { CryptoError } from './errors';

export const SM2_DEFAULT_USER_ID = '1234567812345678';
const CURVE_ORDER = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123');
const SCALAR_HEX = 64;

export interface Sm2KeyPair {
  /** 04 ‖ X ‖ Y, 130 hex chars */
  publicKey: string;
  /** 64 hex chars */
  privateKey: string;
}

/** A uniform scalar in [1, max] from the CSPRNG (64 extra bits make the modulo bias negligible). */
function randomScalar(max: bigint): bigint {
  return (BigInt(`0x${randomBytes(40).toString('hex')}`) % max) + 1n;
}

function toHex32(value: bigint): string {
  return value.toString(16).padStart(SCALAR_HEX, '0');
}

function privateScalar(privateKeyHex: string): bigint {
  if (!/^[0-9a-fA-F]{64}$/.test(privateKeyHex))
    throw new CryptoError('invalid_argument', 'SM2 private key must be 64 hex chars');
  const d = BigInt(`0x${privateKeyHex}`);
  // GB/T 32918.1: d ∈ [1, n-2] so that (1 + d) is invertible mod n
  if (d < 1n || d > CURVE_ORDER - 2n)
    throw new CryptoError('invalid_argument', 'SM2 private key out of range');
  return d;
}

function isUncompressedPublicKey(publicKeyHex: string): boolean {
  if (!/^04[0-9a-fA-F]{128}$/.test(publicKeyHex)) return false;
  try {
    return sm2.verifyPublicKey(publicKeyHex.toLowerCase()); // throws for points off the curve
  } catch {
    return false;
  }
}

export function sm2PublicKeyFromPrivate(privateKeyHex: string): string {
  return sm2.getPublicKeyFromPrivateKey(toHex32(privateScalar(privateKeyHex)));
}

export function sm2GenerateKeyPair(): Sm2KeyPair {
  const privateKey = toHex32(randomScalar(CURVE_ORDER - 2n));
  return { publicKey: sm2.getPublicKeyFromPrivateKey(privateKey), privateKey };
}

function messageBytes(message: Buffer | string): Uint8Array {
  return typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
}

/**
 * Signs with a given nonce. Exposed only so tests can reproduce the GM/T 0003.5 example
 * signature; production code signs through `sm2Sign`, which draws k from the CSPRNG.
 */
export function sm2SignWithNonceForTestVectors(
  message: Buffer | string,
  privateKeyHex: string,
  k: bigint,
): Buffer {
  const d = toHex32(privateScalar(privateKeyHex));
  if (k < 1n || k >= CURVE_ORDER) throw new CryptoError('invalid_argument', 'nonce out of range');
  const kPoint = sm2.getPublicKeyFromPrivateKey(toHex32(k));
  const x1 = BigInt(`0x${kPoint.slice(2, 2 + SCALAR_HEX)}`);
  const rs = sm2.doSignature(messageBytes(message), d, {
    hash: true,
    der: false,
    userId: SM2_DEFAULT_USER_ID,
    publicKey: sm2.getPublicKeyFromPrivateKey(d),
    // the library pops k from this pool; in the negligible case that r or s comes out 0 it draws
    // another k itself, from WebCrypto
    pointPool: [{ k, x1 }],
  });
  return encodeSignatureDer(BigInt(`0x${rs.slice(0, SCALAR_HEX)}`), BigInt(`0x${rs.slice(SCALAR_HEX)}`));
}

/** SM2 signature (GB/T 32918.2) with user ID 1234567812345678; returns DER SEQUENCE { r, s }. */
export function sm2Sign(message: Buffer | string, privateKeyHex: string): Buffer {
  return sm2SignWithNonceForTestVectors(message, privateKeyHex, randomScalar(CURVE_ORDER - 1n));
}

/** False for any invalid signature, key or encoding; never throws on untrusted input. */
export function sm2Verify(message: Buffer | string, derSig: Buffer, publicKeyHex: string): boolean {
  const rs = decodeSignatureDer(derSig);
  if (!rs || !isUncompressedPublicKey(publicKeyHex)) return false;
  try {
    return sm2.doVerifySignature(
      messageBytes(message),
      toHex32(rs.r) + toHex32(rs.s),
      publicKeyHex.toLowerCase(),
      {
        hash: true,
        der: false,
        userId: SM2_DEFAULT_USER_ID,
      },
    );
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Strict DER for SEQUENCE { INTEGER r, INTEGER s }

function encodeInteger(value: bigint): Buffer {
  const hex = value.toString(16);
  let bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]); // keep it positive
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

export function encodeSignatureDer(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([encodeInteger(r), encodeInteger(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

function decodeInteger(der: Buffer, at: number): { value: bigint; next: number } | null {
  if (der[at] !== 0x02) return null;
  const length = der[at + 1];
  if (length === undefined || length < 1 || length > 33 || at + 2 + length > der.length) return null;
  const bytes = der.subarray(at + 2, at + 2 + length);
  if (bytes[0]! & 0x80) return null; // negative
  if (length > 1 && bytes[0] === 0 && !(bytes[1]! & 0x80)) return null; // non-minimal
  const value = BigInt(`0x${bytes.toString('hex')}`);
  if (value < 1n || value >= CURVE_ORDER) return null;
  return { value, next: at + 2 + length };
}

export function decodeSignatureDer(der: Buffer): { r: bigint; s: bigint } | null {
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return null;
  const r = decodeInteger(der, 2);
  if (!r) return null;
  const s = decodeInteger(der, r.next);
  if (!s || s.next !== der.length) return null;
  return { r: r.value, s: s.value };
}
