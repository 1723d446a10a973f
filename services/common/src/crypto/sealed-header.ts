import { CryptoError } from './errors';
import {
  DATA_CLASS_CODES,
  dataClassFromCode,
  MAX_KEK_ID_BYTES,
  type DataClass,
  type WrappedKey,
} from './keys';

/*
 * Sealed-object format "CZS1", version 1, suite 1 (SM4-CTR + HMAC-SM3 + HKDF-SM3).
 * All integers big-endian.
 *
 *   off  size  field
 *     0     4  magic "CZS1"
 *     4     1  format version (1)
 *     5     1  cipher suite (1)
 *     6     1  data class (1 chat, 2 recording, 3 pii, 4 index, 5 audit)
 *     7     1  KEK id length L (1..64)
 *     8     L  KEK id, UTF-8
 *   8+L     4  KEK version
 *  12+L     2  wrapped data key length W (1..1024)
 *  14+L     W  wrapped data key
 *  14+L+W  16  salt (random)
 *  30+L+W   8  nonce prefix (random)
 *  38+L+W   4  segment size S (16 .. 16 MiB)
 *  42+L+W  16  header MAC = HMAC-SM3(macKey, bytes 0 .. 42+L+W)[0..16]
 *  58+L+W      body: segments
 *
 * Keys: encKey = HKDF-SM3(dataKey, salt, "cz-seal/1/enc", 16), macKey = HKDF-SM3(dataKey, salt,
 * "cz-seal/1/mac", 32). A per-object salt means a data key shared by many objects (per-day keys)
 * still gives every object its own keys.
 *
 * Body: segments of S plaintext bytes, the last one 0..S bytes (empty only when the whole
 * plaintext is empty). Segment i = SM4-CTR(encKey, iv_i, plaintext_i) ‖ tag_i, where
 *   iv_i  = noncePrefix(8) ‖ u32 i ‖ u8 last ‖ 00 00 00   (a 24-bit block counter: 2^24 blocks =
 *           256 MiB > S, so the counter never carries into `last` or `i`)
 *   tag_i = HMAC-SM3(macKey, salt ‖ noncePrefix ‖ u32 i ‖ u8 last ‖ ciphertext_i)[0..16]
 * Index and last flag in the tag make reordering, dropping the final segment and appending fail;
 * the per-object salt/nonce (the "object id") makes splicing between objects fail even under the
 * same data key. The object id, not the header MAC, is bound so that rewrapping the data key
 * (new KEK fields + new header MAC) leaves every segment byte unchanged.
 *
 * Suite 2 (the same layout, for streams: recordings and media) binds the object to where it sits
 * without storing anything: both HKDF infos get the binding appended, "cz-seal/1/enc" ‖ 00 ‖ binding
 * (kind code, corp, id as in format v2's header). The reader must name the binding it expects; any
 * other one derives other keys and the header MAC fails ('binding_mismatch').
 *
 * Tags and the header MAC are HMAC-SM3 truncated to 128 bits (as with GCM's 128-bit tag, a forgery
 * succeeds with probability 2^-128 per try); this halves the per-message overhead.
 */

export const SEALED_MAGIC = Buffer.from('CZS1', 'latin1');
export const SEALED_FORMAT_VERSION = 1;
export const SUITE_SM4CTR_HMACSM3 = 1;
/** suite 1 with the object's binding in its key derivation (see above) */
export const SUITE_SM4CTR_HMACSM3_BOUND = 2;
const isKnownSuite = (suite: number) =>
  suite === SUITE_SM4CTR_HMACSM3 || suite === SUITE_SM4CTR_HMACSM3_BOUND;
export const SEALED_TAG_BYTES = 16;
export const SEALED_SALT_BYTES = 16;
export const SEALED_NONCE_PREFIX_BYTES = 8;
export const DEFAULT_SEGMENT_SIZE = 64 * 1024;
export const MIN_SEGMENT_SIZE = 16;
/** Far below the 256 MiB that the 24-bit CTR block counter of one segment could address. */
export const MAX_SEGMENT_SIZE = 16 * 1024 * 1024;
export const MAX_WRAPPED_KEY_BYTES = 1024;
/** Reading this many bytes from the start of an object always covers its whole header. */
export const MAX_SEALED_HEADER_BYTES = 58 + MAX_KEK_ID_BYTES + MAX_WRAPPED_KEY_BYTES;
export const MAX_SEGMENT_INDEX = 0xffffffff;

export interface SealedHeader {
  version: number;
  suite: number;
  dataClass: DataClass;
  kekId: string;
  kekVersion: number;
  wrappedKey: Buffer;
  salt: Buffer;
  noncePrefix: Buffer;
  segmentSize: number;
  headerMac: Buffer;
}

export type ParsedSealedHeader = SealedHeader & { headerLength: number };

export function wrappedKeyOf(header: SealedHeader): WrappedKey {
  return { kekId: header.kekId, kekVersion: header.kekVersion, wrapped: header.wrappedKey };
}

export function checkSegmentSize(segmentSize: number): number {
  if (!Number.isInteger(segmentSize) || segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
    throw new CryptoError(
      'invalid_argument',
      `segment size must be an integer in ${MIN_SEGMENT_SIZE}..${MAX_SEGMENT_SIZE}`,
    );
  }
  return segmentSize;
}

// ---------------------------------------------------------------------------------------------
// Header encoding and parsing

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** The header bytes up to (not including) the header MAC. */
export function encodeHeaderBody(
  fields: Omit<SealedHeader, 'headerMac' | 'version' | 'suite'> & { suite?: number },
): Buffer {
  const kekId = Buffer.from(fields.kekId, 'utf8');
  if (kekId.length < 1 || kekId.length > MAX_KEK_ID_BYTES) {
    throw new CryptoError('invalid_argument', `KEK id must be 1..${MAX_KEK_ID_BYTES} UTF-8 bytes`);
  }
  if (!Number.isInteger(fields.kekVersion) || fields.kekVersion < 0 || fields.kekVersion > 0xffffffff) {
    throw new CryptoError('invalid_argument', 'KEK version must be a u32');
  }
  if (fields.wrappedKey.length < 1 || fields.wrappedKey.length > MAX_WRAPPED_KEY_BYTES) {
    throw new CryptoError('invalid_argument', `wrapped data key must be 1..${MAX_WRAPPED_KEY_BYTES} bytes`);
  }
  const body = Buffer.alloc(42 + kekId.length + fields.wrappedKey.length);
  let at = SEALED_MAGIC.copy(body, 0);
  at = body.writeUInt8(SEALED_FORMAT_VERSION, at);
  at = body.writeUInt8(fields.suite ?? SUITE_SM4CTR_HMACSM3, at);
  at = body.writeUInt8(DATA_CLASS_CODES[fields.dataClass], at);
  at = body.writeUInt8(kekId.length, at);
  at += kekId.copy(body, at);
  at = body.writeUInt32BE(fields.kekVersion, at);
  at = body.writeUInt16BE(fields.wrappedKey.length, at);
  at += fields.wrappedKey.copy(body, at);
  at += fields.salt.copy(body, at);
  at += fields.noncePrefix.copy(body, at);
  body.writeUInt32BE(checkSegmentSize(fields.segmentSize), at);
  return body;
}

/**
 * Parses as much header as `buf` holds: returns null when more bytes are needed, throws as soon
 * as the bytes seen so far cannot start a valid header.
 */
export function tryParseSealedHeader(buf: Buffer): ParsedSealedHeader | null {
  if (buf.length >= 3 && buf[0] === 0x43 && buf[1] === 0x5a && buf[2] === 2) {
    throw new CryptoError(
      'unsupported_version',
      'a v2 object has no segmented header: use sealedKeyInfo / openBuffer',
    );
  }
  const magicSeen = Math.min(buf.length, SEALED_MAGIC.length);
  if (!buf.subarray(0, magicSeen).equals(SEALED_MAGIC.subarray(0, magicSeen))) {
    throw new CryptoError('bad_magic', 'not a sealed object (magic is not CZS1)');
  }
  if (buf.length < 8) {
    if (buf.length > 4 && buf[4] !== SEALED_FORMAT_VERSION) throw unsupportedVersion(buf[4]!);
    if (buf.length > 5 && !isKnownSuite(buf[5]!)) throw unsupportedSuite(buf[5]!);
    return null;
  }
  const version = buf[4]!;
  if (version !== SEALED_FORMAT_VERSION) throw unsupportedVersion(version);
  const suite = buf[5]!;
  if (!isKnownSuite(suite)) throw unsupportedSuite(suite);
  const dataClass = dataClassFromCode(buf[6]!);
  if (!dataClass) throw new CryptoError('malformed_header', `unknown data class code ${buf[6]}`);
  const kekIdLength = buf[7]!;
  if (kekIdLength < 1 || kekIdLength > MAX_KEK_ID_BYTES) {
    throw new CryptoError('malformed_header', `KEK id length ${kekIdLength} out of range`);
  }
  let at = 8 + kekIdLength;
  if (buf.length < at + 6) return null;
  let kekId: string;
  try {
    kekId = utf8Strict.decode(buf.subarray(8, at));
  } catch {
    throw new CryptoError('malformed_header', 'KEK id is not UTF-8');
  }
  const kekVersion = buf.readUInt32BE(at);
  const wrappedLength = buf.readUInt16BE(at + 4);
  if (wrappedLength < 1 || wrappedLength > MAX_WRAPPED_KEY_BYTES) {
    throw new CryptoError('malformed_header', `wrapped key length ${wrappedLength} out of range`);
  }
  at += 6;
  const headerLength =
    at + wrappedLength + SEALED_SALT_BYTES + SEALED_NONCE_PREFIX_BYTES + 4 + SEALED_TAG_BYTES;
  if (buf.length < headerLength) return null;
  const wrappedKey = Buffer.from(buf.subarray(at, (at += wrappedLength)));
  const salt = Buffer.from(buf.subarray(at, (at += SEALED_SALT_BYTES)));
  const noncePrefix = Buffer.from(buf.subarray(at, (at += SEALED_NONCE_PREFIX_BYTES)));
  const segmentSize = buf.readUInt32BE(at);
  if (segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
    throw new CryptoError('malformed_header', `segment size ${segmentSize} out of range`);
  }
  at += 4;
  const headerMac = Buffer.from(buf.subarray(at, at + SEALED_TAG_BYTES));
  return {
    version,
    suite,
    dataClass,
    kekId,
    kekVersion,
    wrappedKey,
    salt,
    noncePrefix,
    segmentSize,
    headerMac,
    headerLength,
  };
}

function unsupportedVersion(version: number): CryptoError {
  return new CryptoError(
    'unsupported_version',
    `sealed format version ${version} (this build reads ${SEALED_FORMAT_VERSION})`,
  );
}

function unsupportedSuite(suite: number): CryptoError {
  return new CryptoError(
    'unsupported_suite',
    `cipher suite ${suite} (this build knows ${SUITE_SM4CTR_HMACSM3} and ${SUITE_SM4CTR_HMACSM3_BOUND})`,
  );
}

/**
 * Reads the header without any key: data class, KEK id/version (for the key-version column and
 * rewrap jobs), segment size. Nothing in it is authenticated until the object is opened.
 */
export function parseSealedHeader(buf: Buffer): ParsedSealedHeader {
  const header = tryParseSealedHeader(buf);
  if (!header) throw new CryptoError('truncated', 'object ends inside the header');
  return header;
}
