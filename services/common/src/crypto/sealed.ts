import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { CryptoError } from './errors';
import { isDataClass, type DataClass, type KeyProvider, type WrappedKey } from './keys';
import { bindingMismatch, checkBinding, encodeBinding, type SealBinding } from './binding';
import { hkdfSm3, SM4_KEY_BYTES, tagsEqual } from './primitives';
import {
  checkSegmentSize,
  DEFAULT_SEGMENT_SIZE,
  encodeHeaderBody,
  MAX_SEGMENT_INDEX,
  parseSealedHeader,
  SEALED_NONCE_PREFIX_BYTES,
  SEALED_SALT_BYTES,
  SEALED_TAG_BYTES,
  SUITE_SM4CTR_HMACSM3,
  SUITE_SM4CTR_HMACSM3_BOUND,
  wrappedKeyOf,
  type ParsedSealedHeader,
} from './sealed-header';
import {
  sealedSize,
  segmentCountFor,
  segmentSpan,
  type SealedLayout,
  type SealedRange,
} from './sealed-layout';
import {
  isSealedV2,
  openBufferV2,
  parseSealedV2Header,
  sealBufferV2,
  type RandomSource,
  type SealV2Options,
} from './sealed-v2';

/* The sealed-object format is described in sealed-header.ts. */

export interface SealOptions {
  /** plaintext bytes per segment; default 64 KiB */
  segmentSize?: number;
  /** default crypto.randomBytes; only tests pass anything else (golden vectors) */
  random?: RandomSource;
  /** bind the object to where it sits (suite 2: the binding goes into the key derivation) */
  binding?: SealBinding;
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

  constructor(dataKey: Buffer, salt: Buffer, noncePrefix: Buffer, binding?: SealBinding) {
    if (dataKey.length !== SM4_KEY_BYTES)
      throw new CryptoError('unwrap_failed', `data key must be ${SM4_KEY_BYTES} bytes`);
    const bound = (info: Buffer) =>
      binding ? Buffer.concat([info, Buffer.from([0]), encodeBinding(binding)]) : info;
    this.encKey = hkdfSm3(dataKey, salt, bound(ENC_INFO), SM4_KEY_BYTES);
    this.macKey = hkdfSm3(dataKey, salt, bound(MAC_INFO), 32);
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
  const random = options.random ?? randomBytes;
  const salt = random(SEALED_SALT_BYTES);
  const noncePrefix = random(SEALED_NONCE_PREFIX_BYTES);
  if (salt.length !== SEALED_SALT_BYTES || noncePrefix.length !== SEALED_NONCE_PREFIX_BYTES)
    throw new CryptoError('invalid_argument', 'random source gave too few bytes');
  const binding = options.binding ? checkBinding(options.binding) : undefined;
  const segments = new SegmentCrypto(dataKey, salt, noncePrefix, binding);
  const body = encodeHeaderBody({
    suite: binding ? SUITE_SM4CTR_HMACSM3_BOUND : SUITE_SM4CTR_HMACSM3,
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
export async function openSealedHeader(
  sealed: Buffer,
  keys: KeyProvider,
  expected?: SealBinding,
): Promise<OpenedSealedHeader> {
  const header = parseSealedHeader(sealed);
  return openParsedHeader(header, sealed.subarray(0, header.headerLength), keys, expected);
}

/**
 * `expected`: where the object is read from. A bound object (suite 2) opens only with its own
 * binding ('binding_mismatch' otherwise, also when none is given); an unbound one ignores it.
 */
export async function openParsedHeader(
  header: ParsedSealedHeader,
  headerBytes: Buffer,
  keys: KeyProvider,
  expected?: SealBinding,
): Promise<OpenedSealedHeader> {
  const bound = header.suite === SUITE_SM4CTR_HMACSM3_BOUND;
  if (bound && !expected)
    throw new CryptoError('binding_mismatch', 'a bound object opens only with the binding it is read for');
  const dataKey = await keys.unwrapDataKey(wrappedKeyOf(header));
  const segments = new SegmentCrypto(dataKey, header.salt, header.noncePrefix, bound ? expected : undefined);
  const body = headerBytes.subarray(0, header.headerLength - SEALED_TAG_BYTES);
  if (!tagsEqual(segments.headerMac(body), header.headerMac)) {
    if (bound && expected)
      throw bindingMismatch(
        expected,
        'its header MAC does not verify under this binding (moved, or header altered)',
      );
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
  binding?: SealBinding,
): Promise<{ header: Buffer; oldHeaderLength: number }> {
  const { header } = await openSealedHeader(sealed, keys, binding);
  const oldKey = await keys.unwrapDataKey(wrappedKeyOf(header));
  const newKey = await keys.unwrapDataKey(rewrapped);
  if (!tagsEqual(oldKey, newKey))
    throw new CryptoError('unwrap_failed', 'the rewrapped key is not the data key of this object');
  const bound = header.suite === SUITE_SM4CTR_HMACSM3_BOUND ? binding : undefined;
  const segments = new SegmentCrypto(newKey, header.salt, header.noncePrefix, bound);
  const body = encodeHeaderBody({
    ...header,
    kekId: rewrapped.kekId,
    kekVersion: rewrapped.kekVersion,
    wrappedKey: rewrapped.wrapped,
  });
  return { header: Buffer.concat([body, segments.headerMac(body)]), oldHeaderLength: header.headerLength };
}

// ---------------------------------------------------------------------------------------------
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

/**
 * Seals a whole buffer. With a binding: format v2 (sealed-v2.ts), compact and bound to its row;
 * every record the product stores is sealed this way. Without one: format v1, kept for the
 * segmented layout's tests and for objects that have no row (v1 cannot be bound).
 */
export async function sealBuffer(
  plaintext: Buffer,
  keys: KeyProvider,
  dataClass: DataClass,
  binding: SealBinding,
  options?: SealV2Options,
): Promise<Buffer>;
/** @deprecated format v1 carries no binding: pass one (format v2) for anything stored in a row */
export async function sealBuffer(
  plaintext: Buffer,
  keys: KeyProvider,
  dataClass: DataClass,
  options?: SealOptions,
): Promise<Buffer>;
export async function sealBuffer(
  plaintext: Buffer,
  keys: KeyProvider,
  dataClass: DataClass,
  bindingOrOptions?: SealBinding | SealOptions,
  v2Options?: SealV2Options,
): Promise<Buffer> {
  if (bindingOrOptions && 'kind' in bindingOrOptions)
    return sealBufferV2(plaintext, keys, dataClass, checkBinding(bindingOrOptions), v2Options);
  return sealBufferV1(plaintext, keys, dataClass, bindingOrOptions);
}

/** Format v1 (segmented, unbound): still written by the recordings stream and the golden vectors. */
export async function sealBufferV1(
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

export interface OpenedSealed {
  plaintext: Buffer;
  version: number;
  /** v2: the verified binding from the header; v1 objects have none (check their content) */
  binding?: SealBinding;
}

/**
 * Opens v1 and v2 objects. `expected`: the binding of the row the value was read from; a v2 object
 * bound elsewhere fails with 'binding_mismatch'. A v1 object has no binding: the caller must
 * check the opened content against its row (ids, corp, conversation).
 */
export async function openSealed(
  sealed: Buffer,
  keys: KeyProvider,
  expected?: SealBinding,
): Promise<OpenedSealed> {
  if (isSealedV2(sealed)) {
    const { plaintext, header } = await openBufferV2(sealed, keys, expected);
    return { plaintext, version: 2, binding: header.binding };
  }
  // a v1 object has no binding, unless it is a bound stream object (suite 2): checked when opened
  return { plaintext: await openBufferV1(sealed, keys, expected), version: 1 };
}

/** The plaintext of a v1 or v2 object; see openSealed for `expected`. */
export async function openBuffer(sealed: Buffer, keys: KeyProvider, expected?: SealBinding): Promise<Buffer> {
  return (await openSealed(sealed, keys, expected)).plaintext;
}

/** What a row stores next to a sealed value (kek_id, kek_version), for v1 and v2, without any key. */
export interface SealedKeyInfo {
  version: number;
  dataClass: DataClass;
  kekId: string;
  kekVersion: number;
  wrappedKey: Buffer;
  binding?: SealBinding;
}

export function sealedKeyInfo(sealed: Buffer): SealedKeyInfo {
  if (isSealedV2(sealed)) {
    const h = parseSealedV2Header(sealed);
    return {
      version: 2,
      dataClass: h.dataClass,
      kekId: h.kekId,
      kekVersion: h.kekVersion,
      wrappedKey: h.wrappedKey,
      binding: h.binding,
    };
  }
  const h = parseSealedHeader(sealed);
  return {
    version: 1,
    dataClass: h.dataClass,
    kekId: h.kekId,
    kekVersion: h.kekVersion,
    wrappedKey: h.wrappedKey,
  };
}

export async function openBufferV1(
  sealed: Buffer,
  keys: KeyProvider,
  expected?: SealBinding,
): Promise<Buffer> {
  const opened = await openSealedHeader(sealed, keys, expected);
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
