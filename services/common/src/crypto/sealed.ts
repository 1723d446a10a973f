import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { CryptoError } from './errors';
import {
  DATA_CLASS_CODES,
  dataClassFromCode,
  isDataClass,
  MAX_KEK_ID_BYTES,
  type DataClass,
  type KeyProvider,
  type WrappedKey,
} from './keys';
import { hkdfSm3, SM4_KEY_BYTES, tagsEqual } from './primitives';

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
 * Tags and the header MAC are HMAC-SM3 truncated to 128 bits (as with GCM's 128-bit tag, a forgery
 * succeeds with probability 2^-128 per try); this halves the per-message overhead.
 */

export const SEALED_MAGIC = Buffer.from('CZS1', 'latin1');
export const SEALED_FORMAT_VERSION = 1;
export const SUITE_SM4CTR_HMACSM3 = 1;
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
const MAX_SEGMENT_INDEX = 0xffffffff;

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

export interface SealOptions {
  /** plaintext bytes per segment; default 64 KiB */
  segmentSize?: number;
}

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
function encodeHeaderBody(fields: Omit<SealedHeader, 'headerMac' | 'version' | 'suite'>): Buffer {
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
  at = body.writeUInt8(SUITE_SM4CTR_HMACSM3, at);
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
  const magicSeen = Math.min(buf.length, SEALED_MAGIC.length);
  if (!buf.subarray(0, magicSeen).equals(SEALED_MAGIC.subarray(0, magicSeen))) {
    throw new CryptoError('bad_magic', 'not a sealed object (magic is not CZS1)');
  }
  if (buf.length < 8) {
    if (buf.length > 4 && buf[4] !== SEALED_FORMAT_VERSION) throw unsupportedVersion(buf[4]!);
    if (buf.length > 5 && buf[5] !== SUITE_SM4CTR_HMACSM3) throw unsupportedSuite(buf[5]!);
    return null;
  }
  const version = buf[4]!;
  if (version !== SEALED_FORMAT_VERSION) throw unsupportedVersion(version);
  const suite = buf[5]!;
  if (suite !== SUITE_SM4CTR_HMACSM3) throw unsupportedSuite(suite);
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
    `cipher suite ${suite} (this build knows ${SUITE_SM4CTR_HMACSM3})`,
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

// ---------------------------------------------------------------------------------------------
// Per-object keys and segment crypto

const ENC_INFO = Buffer.from(`cz-seal/${SUITE_SM4CTR_HMACSM3}/enc`, 'latin1');
const MAC_INFO = Buffer.from(`cz-seal/${SUITE_SM4CTR_HMACSM3}/mac`, 'latin1');
const SEGMENT_AD_BYTES = SEALED_SALT_BYTES + SEALED_NONCE_PREFIX_BYTES + 4 + 1;

/**
 * The keys of one object plus reusable IV / MAC-prefix scratch buffers, so a segment costs one
 * cipher and one HMAC context and no other allocation besides the ciphertext node returns.
 */
export class SegmentCrypto {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;
  private readonly iv = Buffer.alloc(16);
  private readonly macPrefix = Buffer.alloc(SEGMENT_AD_BYTES);

  constructor(dataKey: Buffer, salt: Buffer, noncePrefix: Buffer) {
    if (dataKey.length !== SM4_KEY_BYTES)
      throw new CryptoError('unwrap_failed', `data key must be ${SM4_KEY_BYTES} bytes`);
    this.encKey = hkdfSm3(dataKey, salt, ENC_INFO, SM4_KEY_BYTES);
    this.macKey = hkdfSm3(dataKey, salt, MAC_INFO, 32);
    noncePrefix.copy(this.iv, 0);
    salt.copy(this.macPrefix, 0);
    noncePrefix.copy(this.macPrefix, SEALED_SALT_BYTES);
  }

  headerMac(headerBody: Buffer): Buffer {
    return createHmac('sm3', this.macKey).update(headerBody).digest().subarray(0, SEALED_TAG_BYTES);
  }

  /** Encrypts one segment; returns ciphertext and tag (separate, so streams push them without a concat). */
  seal(index: number, last: boolean, plaintext: Buffer): { ciphertext: Buffer; tag: Buffer } {
    this.position(index, last);
    const ciphertext = createCipheriv('sm4-ctr', this.encKey, this.iv).update(plaintext);
    return { ciphertext, tag: this.tag(ciphertext) };
  }

  /** Verifies the tag of `segment` (ciphertext ‖ tag) and only then decrypts. */
  open(index: number, last: boolean, segment: Buffer): Buffer {
    if (!this.verify(index, last, segment)) throw this.diagnose(index, last, segment);
    return createDecipheriv('sm4-ctr', this.encKey, this.iv).update(
      segment.subarray(0, segment.length - SEALED_TAG_BYTES),
    );
  }

  private verify(index: number, last: boolean, segment: Buffer): boolean {
    if (segment.length < SEALED_TAG_BYTES) return false;
    this.position(index, last);
    const split = segment.length - SEALED_TAG_BYTES;
    return tagsEqual(this.tag(segment.subarray(0, split)), segment.subarray(split));
  }

  /**
   * A segment that fails is re-checked with the opposite last flag, to tell a cut after a
   * non-final segment ('truncated') and data after the final one ('trailing_data') from tampering.
   */
  private diagnose(index: number, last: boolean, segment: Buffer): CryptoError {
    if (segment.length < SEALED_TAG_BYTES)
      return new CryptoError('truncated', `segment ${index} is shorter than its tag`);
    if (this.verify(index, !last, segment)) {
      return last
        ? new CryptoError('truncated', `object ends after segment ${index}, which is not the final segment`)
        : new CryptoError('trailing_data', `data follows the final segment ${index}`);
    }
    return new CryptoError('segment_tampered', `segment ${index} failed authentication`);
  }

  private position(index: number, last: boolean): void {
    if (!Number.isInteger(index) || index < 0 || index > MAX_SEGMENT_INDEX) {
      throw new CryptoError('invalid_argument', `segment index ${index} out of range`);
    }
    this.iv.writeUInt32BE(index, SEALED_NONCE_PREFIX_BYTES);
    this.iv[12] = last ? 1 : 0;
    this.macPrefix.writeUInt32BE(index, SEALED_SALT_BYTES + SEALED_NONCE_PREFIX_BYTES);
    this.macPrefix[SEGMENT_AD_BYTES - 1] = last ? 1 : 0;
  }

  private tag(ciphertext: Buffer): Buffer {
    return createHmac('sm3', this.macKey)
      .update(this.macPrefix)
      .update(ciphertext)
      .digest()
      .subarray(0, SEALED_TAG_BYTES);
  }
}

export interface NewSealedObject {
  header: Buffer;
  segments: SegmentCrypto;
  segmentSize: number;
}

/**
 * Fetches a fresh data key and builds the header of a new object. Data keys handed over by the
 * KeyProvider are never written to (a provider may cache them); only derived keys are kept.
 */
export async function beginSealedObject(
  keys: KeyProvider,
  dataClass: DataClass,
  options: SealOptions = {},
): Promise<NewSealedObject> {
  if (!isDataClass(dataClass))
    throw new CryptoError('invalid_argument', `unknown data class ${String(dataClass)}`);
  const segmentSize = checkSegmentSize(options.segmentSize ?? DEFAULT_SEGMENT_SIZE);
  const { plaintext: dataKey, wrapped } = await keys.newDataKey(dataClass);
  const salt = randomBytes(SEALED_SALT_BYTES);
  const noncePrefix = randomBytes(SEALED_NONCE_PREFIX_BYTES);
  const segments = new SegmentCrypto(dataKey, salt, noncePrefix);
  const body = encodeHeaderBody({
    dataClass,
    kekId: wrapped.kekId,
    kekVersion: wrapped.kekVersion,
    wrappedKey: wrapped.wrapped,
    salt,
    noncePrefix,
    segmentSize,
  });
  return { header: Buffer.concat([body, segments.headerMac(body)]), segments, segmentSize };
}

export interface OpenedSealedHeader {
  header: ParsedSealedHeader;
  segments: SegmentCrypto;
}

/**
 * Parses the header, unwraps the data key and verifies the header MAC. The result opens any
 * segment on its own (`openSegment`), e.g. for an HTTP Range read.
 */
export async function openSealedHeader(sealed: Buffer, keys: KeyProvider): Promise<OpenedSealedHeader> {
  const header = parseSealedHeader(sealed);
  return openParsedHeader(header, sealed.subarray(0, header.headerLength), keys);
}

export async function openParsedHeader(
  header: ParsedSealedHeader,
  headerBytes: Buffer,
  keys: KeyProvider,
): Promise<OpenedSealedHeader> {
  const dataKey = await keys.unwrapDataKey(wrappedKeyOf(header));
  const segments = new SegmentCrypto(dataKey, header.salt, header.noncePrefix);
  const body = headerBytes.subarray(0, header.headerLength - SEALED_TAG_BYTES);
  if (!tagsEqual(segments.headerMac(body), header.headerMac)) {
    throw new CryptoError('header_tampered', 'header MAC does not verify');
  }
  return { header, segments };
}

/**
 * Verifies and decrypts one segment (`ciphertext ‖ tag`, as located by `segmentSpan`). `last`
 * must say whether it is the object's final segment (from `sealedLayout`).
 */
export function openSegment(
  opened: OpenedSealedHeader,
  index: number,
  last: boolean,
  segment: Buffer,
): Buffer {
  return opened.segments.open(index, last, segment);
}

/**
 * Replaces the KEK fields of a sealed object's header after the key service re-wrapped its data
 * key (rotation). Both wraps must hold the same data key; the body stays byte-for-byte the same,
 * so the new object is `newHeader ‖ sealed.subarray(oldHeaderLength)`.
 */
export async function rewrapSealedHeader(
  sealed: Buffer,
  keys: KeyProvider,
  rewrapped: WrappedKey,
): Promise<{ header: Buffer; oldHeaderLength: number }> {
  const { header } = await openSealedHeader(sealed, keys);
  const oldKey = await keys.unwrapDataKey(wrappedKeyOf(header));
  const newKey = await keys.unwrapDataKey(rewrapped);
  if (!tagsEqual(oldKey, newKey))
    throw new CryptoError('unwrap_failed', 'the rewrapped key is not the data key of this object');
  const segments = new SegmentCrypto(newKey, header.salt, header.noncePrefix);
  const body = encodeHeaderBody({
    ...header,
    kekId: rewrapped.kekId,
    kekVersion: rewrapped.kekVersion,
    wrappedKey: rewrapped.wrapped,
  });
  return { header: Buffer.concat([body, segments.headerMac(body)]), oldHeaderLength: header.headerLength };
}

// ---------------------------------------------------------------------------------------------
// Sizes and layout (for storage sizing and Range reads)

function checkSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new CryptoError('invalid_argument', `${name} must be a non-negative integer`);
}

export function segmentCountFor(plaintextSize: number, segmentSize: number): number {
  checkSize('plaintext size', plaintextSize);
  return plaintextSize === 0 ? 1 : Math.ceil(plaintextSize / segmentSize);
}

export function sealedSize(plaintextSize: number, headerLength: number, segmentSize: number): number {
  return (
    headerLength +
    plaintextSize +
    segmentCountFor(plaintextSize, checkSegmentSize(segmentSize)) * SEALED_TAG_BYTES
  );
}

/** Inverse of `sealedSize`, e.g. from an object store's Content-Length; throws if no plaintext size fits. */
export function plaintextSizeOf(sealedTotal: number, headerLength: number, segmentSize: number): number {
  checkSize('sealed size', sealedTotal);
  checkSegmentSize(segmentSize);
  const body = sealedTotal - headerLength;
  const fullSegment = segmentSize + SEALED_TAG_BYTES;
  const count = Math.max(1, Math.ceil(body / fullSegment));
  const plaintext = body - count * SEALED_TAG_BYTES;
  if (body < SEALED_TAG_BYTES || plaintext < 0 || (count > 1 && plaintext <= (count - 1) * segmentSize)) {
    throw new CryptoError(
      'truncated',
      `${sealedTotal} bytes is not the size of a sealed object with this header`,
    );
  }
  return plaintext;
}

export interface SealedLayout {
  headerLength: number;
  segmentSize: number;
  plaintextSize: number;
  segmentCount: number;
  sealedSize: number;
}

export interface SegmentSpan {
  index: number;
  last: boolean;
  /** byte offsets in the sealed object, end exclusive: ciphertext ‖ tag */
  sealedStart: number;
  sealedEnd: number;
  plaintextStart: number;
  plaintextLength: number;
}

export interface SealedRange {
  firstSegment: number;
  lastSegment: number;
  /** the sealed bytes to fetch, end exclusive (whole segments) */
  sealedStart: number;
  sealedEnd: number;
  /** plaintext bytes to drop from the start of the first opened segment */
  skip: number;
  /** plaintext bytes to return after `skip` */
  length: number;
}

export function sealedLayout(
  header: { headerLength: number; segmentSize: number },
  plaintextSize: number,
): SealedLayout {
  const segmentSize = checkSegmentSize(header.segmentSize);
  const segmentCount = segmentCountFor(plaintextSize, segmentSize);
  return {
    headerLength: header.headerLength,
    segmentSize,
    plaintextSize,
    segmentCount,
    sealedSize: header.headerLength + plaintextSize + segmentCount * SEALED_TAG_BYTES,
  };
}

export function segmentSpan(layout: SealedLayout, index: number): SegmentSpan {
  if (!Number.isInteger(index) || index < 0 || index >= layout.segmentCount) {
    throw new CryptoError('invalid_argument', `segment ${index} out of 0..${layout.segmentCount - 1}`);
  }
  const plaintextStart = index * layout.segmentSize;
  const plaintextLength = Math.min(layout.segmentSize, layout.plaintextSize - plaintextStart);
  const sealedStart = layout.headerLength + index * (layout.segmentSize + SEALED_TAG_BYTES);
  return {
    index,
    last: index === layout.segmentCount - 1,
    sealedStart,
    sealedEnd: sealedStart + plaintextLength + SEALED_TAG_BYTES,
    plaintextStart,
    plaintextLength,
  };
}

/** Maps the plaintext range [start, end) (end exclusive; HTTP's `bytes=a-b` is [a, b+1)) to segments. */
export function sealedRangeFor(layout: SealedLayout, start: number, end: number): SealedRange {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start < 0 ||
    end <= start ||
    end > layout.plaintextSize
  ) {
    throw new CryptoError(
      'invalid_argument',
      `range [${start}, ${end}) is not inside 0..${layout.plaintextSize}`,
    );
  }
  const firstSegment = Math.floor(start / layout.segmentSize);
  const lastSegment = Math.floor((end - 1) / layout.segmentSize);
  return {
    firstSegment,
    lastSegment,
    sealedStart: segmentSpan(layout, firstSegment).sealedStart,
    sealedEnd: segmentSpan(layout, lastSegment).sealedEnd,
    skip: start - firstSegment * layout.segmentSize,
    length: end - start,
  };
}

/** Opens the sealed bytes [range.sealedStart, range.sealedEnd) fetched for `range` and returns exactly the requested plaintext. */
export function openSealedRange(
  opened: OpenedSealedHeader,
  layout: SealedLayout,
  range: SealedRange,
  sealedBytes: Buffer,
): Buffer {
  if (sealedBytes.length !== range.sealedEnd - range.sealedStart) {
    throw new CryptoError(
      'truncated',
      `expected ${range.sealedEnd - range.sealedStart} sealed bytes, got ${sealedBytes.length}`,
    );
  }
  const parts: Buffer[] = [];
  for (let index = range.firstSegment; index <= range.lastSegment; index++) {
    const span = segmentSpan(layout, index);
    const from = span.sealedStart - range.sealedStart;
    parts.push(
      opened.segments.open(
        index,
        span.last,
        sealedBytes.subarray(from, from + span.sealedEnd - span.sealedStart),
      ),
    );
  }
  return Buffer.concat(parts).subarray(range.skip, range.skip + range.length);
}

// ---------------------------------------------------------------------------------------------
// Whole-buffer API (chat messages, Kafka values, database columns)

export async function sealBuffer(
  plaintext: Buffer,
  keys: KeyProvider,
  dataClass: DataClass,
  opts: SealOptions = {},
): Promise<Buffer> {
  const { header, segments, segmentSize } = await beginSealedObject(keys, dataClass, opts);
  const out = Buffer.allocUnsafe(sealedSize(plaintext.length, header.length, segmentSize));
  let at = header.copy(out, 0);
  const count = segmentCountFor(plaintext.length, segmentSize);
  for (let index = 0; index < count; index++) {
    const chunk = plaintext.subarray(index * segmentSize, (index + 1) * segmentSize);
    const { ciphertext, tag } = segments.seal(index, index === count - 1, chunk);
    at += ciphertext.copy(out, at);
    at += tag.copy(out, at);
  }
  return out;
}

export async function openBuffer(sealed: Buffer, keys: KeyProvider): Promise<Buffer> {
  const opened = await openSealedHeader(sealed, keys);
  const { headerLength, segmentSize } = opened.header;
  const fullSegment = segmentSize + SEALED_TAG_BYTES;
  const body = sealed.subarray(headerLength);
  if (body.length === 0) throw new CryptoError('truncated', 'object has no segments');
  const count = Math.ceil(body.length / fullSegment);
  if (count - 1 > MAX_SEGMENT_INDEX)
    throw new CryptoError('trailing_data', 'more segments than the format allows');
  const parts: Buffer[] = [];
  for (let index = 0; index < count; index++) {
    parts.push(
      opened.segments.open(
        index,
        index === count - 1,
        body.subarray(index * fullSegment, (index + 1) * fullSegment),
      ),
    );
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
