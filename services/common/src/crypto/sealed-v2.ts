import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  BINDING_KIND_CODES,
  bindingKindFromCode,
  bindingMismatch,
  checkBinding,
  describeBinding,
  readCompactString,
  readVarint,
  sameBinding,
  writeCompactString,
  writeVarint,
  type SealBinding,
} from './binding';
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
import { SEALED_DICTIONARY_1 } from './sealed-dictionary';

/*
 * Sealed-object format v2 (whole buffers: database columns, Kafka values). Compact and bound to
 * where it sits. Integers are unsigned LEB128 varints unless a size is given.
 *
 *   size  field
 *     2   magic "CZ" (a v1 object starts "CZS1": its third byte 'S' is never 2)
 *     1   format version (2)
 *     1   data class (1 chat, 2 recording, 3 pii, 4 index, 5 audit)
 *     1   flags: bit 0 = the plaintext was compressed (raw DEFLATE with preset dictionary 1,
 *         sealed-dictionary.ts) before sealing, only when that made it shorter; other bits 0
 *     1   binding kind (binding.ts: 1 msg, 2 call, 3 transcript, …)
 *     v   binding corp: varint (length·2 + hex) ‖ bytes   (lowercase even-length hex → its bytes)
 *     v   binding id: same encoding
 *     1   KEK form: 1 = "keyservice/<class>", 2 = "local/<class>", 0 = literal: u8 length ‖ UTF-8
 *     v   KEK version
 *     1   wrapped-key form: 1 = key-service handle "CZDK" 01 ‖ 16-byte id, only the id is stored;
 *         0 = literal: varint length ‖ bytes
 *    16   salt (random; the object's own keys derive from it)
 *     n   ciphertext = SM4-CTR(encKey, IV 0^16, plaintext or its compressed form)
 *    16   tag = HMAC-SM3(macKey, bytes from the magic to the end of the binding ‖ salt ‖ ciphertext)[0..16]
 *
 * Keys: encKey = HKDF-SM3(dataKey, salt, "cz-seal/2/enc", 16), macKey = HKDF-SM3(dataKey, salt,
 * "cz-seal/2/mac", 32). Every object has its own encKey (128-bit random salt), so a fixed IV is
 * safe. One tag covers the header and the body: v1's per-segment tags and header MAC (32 bytes for
 * a chat record) are for Range reads of recordings, which keep the v1 stream format.
 * The KEK section is not under the tag: it only selects the data key, and a changed KEK id,
 * version or wrap unwraps another key (or none) and fails the tag anyway. So rewrapping a data key
 * rewrites those fields without knowing the binding, like v1's header rewrite.
 * Sealing reveals the length; compression makes the length depend on the content too.
 */

export const SEALED_V2_MAGIC = Buffer.from('CZ', 'latin1');
export const SEALED_V2_VERSION = 2;
export const SEALED_V2_SALT_BYTES = 16;
export const SEALED_V2_TAG_BYTES = 16;
export const FLAG_DEFLATE_DICT1 = 0x01;
/** The largest plaintext a v2 object decompresses to (a mediumblob holds 16 MiB sealed). */
export const MAX_V2_PLAINTEXT_BYTES = 64 * 1024 * 1024;

const ENC_INFO = Buffer.from('cz-seal/2/enc', 'latin1');
const MAC_INFO = Buffer.from('cz-seal/2/mac', 'latin1');
const KEYSERVICE_HANDLE_PREFIX = Buffer.from('CZDK\x01', 'latin1');
const KEYSERVICE_HANDLE_BYTES = KEYSERVICE_HANDLE_PREFIX.length + 16;
const KEK_FORM_LITERAL = 0;
const KEK_FORMS: readonly { code: number; prefix: string }[] = [
  { code: 1, prefix: 'keyservice/' },
  { code: 2, prefix: 'local/' },
];
const WRAP_LITERAL = 0;
const WRAP_KEYSERVICE_HANDLE = 1;

/** Where randomness comes from; tests inject a fixed one for the golden vectors. */
export type RandomSource = (bytes: number) => Buffer;

export interface SealV2Options {
  /** compress before sealing when it shrinks the plaintext (default true) */
  compress?: boolean;
  /** default crypto.randomBytes; only tests pass anything else */
  random?: RandomSource;
}

export interface SealedV2Header {
  version: 2;
  dataClass: DataClass;
  flags: number;
  binding: SealBinding;
  kekId: string;
  kekVersion: number;
  wrappedKey: Buffer;
  salt: Buffer;
  /** bytes from the magic to the end of the binding (under the tag) */
  boundLength: number;
  /** where the KEK section starts and the salt ends: the ciphertext follows */
  kekStart: number;
  headerLength: number;
}

export function isSealedV2(sealed: Buffer): boolean {
  return sealed.length >= 3 && sealed[0] === 0x43 && sealed[1] === 0x5a && sealed[2] === SEALED_V2_VERSION;
}

function encodeKek(dataClass: DataClass, wrapped: WrappedKey, out: number[]): void {
  const form = KEK_FORMS.find((f) => wrapped.kekId === `${f.prefix}${dataClass}`);
  if (form) out.push(form.code);
  else {
    const id = Buffer.from(wrapped.kekId, 'utf8');
    if (id.length < 1 || id.length > MAX_KEK_ID_BYTES)
      throw new CryptoError('invalid_argument', `KEK id must be 1..${MAX_KEK_ID_BYTES} UTF-8 bytes`);
    out.push(KEK_FORM_LITERAL, id.length, ...id);
  }
  if (!Number.isInteger(wrapped.kekVersion) || wrapped.kekVersion < 0 || wrapped.kekVersion > 0xffffffff)
    throw new CryptoError('invalid_argument', 'KEK version must be a u32');
  writeVarint(wrapped.kekVersion, out);
  const w = wrapped.wrapped;
  if (
    w.length === KEYSERVICE_HANDLE_BYTES &&
    w.subarray(0, KEYSERVICE_HANDLE_PREFIX.length).equals(KEYSERVICE_HANDLE_PREFIX)
  ) {
    out.push(WRAP_KEYSERVICE_HANDLE, ...w.subarray(KEYSERVICE_HANDLE_PREFIX.length));
  } else {
    if (w.length < 1 || w.length > 1024)
      throw new CryptoError('invalid_argument', 'wrapped data key must be 1..1024 bytes');
    out.push(WRAP_LITERAL);
    writeVarint(w.length, out);
    out.push(...w);
  }
}

function encodeBound(dataClass: DataClass, flags: number, binding: SealBinding): number[] {
  const out: number[] = [...SEALED_V2_MAGIC, SEALED_V2_VERSION, DATA_CLASS_CODES[dataClass], flags];
  out.push(BINDING_KIND_CODES[binding.kind]);
  writeCompactString(binding.corp, out);
  writeCompactString(binding.id, out);
  return out;
}

function need<T>(value: T | null): T {
  if (value === null) throw new CryptoError('truncated', 'object ends inside the header');
  return value;
}

/** Reads a v2 header without any key. Nothing in it is authenticated until the object is opened. */
export function parseSealedV2Header(buf: Buffer): SealedV2Header {
  if (!isSealedV2(buf)) throw new CryptoError('bad_magic', 'not a v2 sealed object');
  if (buf.length < 6) throw new CryptoError('truncated', 'object ends inside the header');
  const dataClass = dataClassFromCode(buf[3]!);
  if (!dataClass) throw new CryptoError('malformed_header', `unknown data class code ${buf[3]}`);
  const flags = buf[4]!;
  if ((flags & ~FLAG_DEFLATE_DICT1) !== 0)
    throw new CryptoError('malformed_header', `unknown flags ${flags}`);
  const kind = bindingKindFromCode(buf[5]!);
  if (!kind) throw new CryptoError('malformed_header', `unknown binding kind code ${buf[5]}`);
  const corp = need(readCompactString(buf, 6));
  const id = need(readCompactString(buf, corp.next));
  const boundLength = id.next;
  let at = boundLength;
  if (buf.length < at + 1) throw new CryptoError('truncated', 'object ends inside the header');
  const kekForm = buf[at++]!;
  let kekId: string;
  if (kekForm === KEK_FORM_LITERAL) {
    const length = buf[at++];
    if (length === undefined || length < 1 || length > MAX_KEK_ID_BYTES)
      throw new CryptoError('malformed_header', 'KEK id length out of range');
    if (buf.length < at + length) throw new CryptoError('truncated', 'object ends inside the header');
    kekId = buf.subarray(at, at + length).toString('utf8');
    at += length;
  } else {
    const form = KEK_FORMS.find((f) => f.code === kekForm);
    if (!form) throw new CryptoError('malformed_header', `unknown KEK form ${kekForm}`);
    kekId = `${form.prefix}${dataClass}`;
  }
  const version = need(readVarint(buf, at));
  if (version.value > 0xffffffff) throw new CryptoError('malformed_header', 'KEK version out of range');
  at = version.next;
  const wrapForm = buf[at++];
  let wrappedKey: Buffer;
  if (wrapForm === WRAP_KEYSERVICE_HANDLE) {
    if (buf.length < at + 16) throw new CryptoError('truncated', 'object ends inside the header');
    wrappedKey = Buffer.concat([KEYSERVICE_HANDLE_PREFIX, buf.subarray(at, at + 16)]);
    at += 16;
  } else if (wrapForm === WRAP_LITERAL) {
    const length = need(readVarint(buf, at));
    if (length.value < 1 || length.value > 1024)
      throw new CryptoError('malformed_header', 'wrapped key length out of range');
    at = length.next;
    if (buf.length < at + length.value) throw new CryptoError('truncated', 'object ends inside the header');
    wrappedKey = Buffer.from(buf.subarray(at, at + length.value));
    at += length.value;
  } else {
    throw new CryptoError('malformed_header', `unknown wrapped-key form ${String(wrapForm)}`);
  }
  if (buf.length < at + SEALED_V2_SALT_BYTES)
    throw new CryptoError('truncated', 'object ends inside the header');
  const salt = Buffer.from(buf.subarray(at, at + SEALED_V2_SALT_BYTES));
  at += SEALED_V2_SALT_BYTES;
  return {
    version: 2,
    dataClass,
    flags,
    binding: { kind, corp: corp.value, id: id.value },
    kekId,
    kekVersion: version.value,
    wrappedKey,
    salt,
    boundLength,
    kekStart: boundLength,
    headerLength: at,
  };
}

function objectKeys(dataKey: Buffer, salt: Buffer): { encKey: Buffer; macKey: Buffer } {
  if (dataKey.length !== SM4_KEY_BYTES)
    throw new CryptoError('unwrap_failed', `data key must be ${SM4_KEY_BYTES} bytes`);
  return {
    encKey: hkdfSm3(dataKey, salt, ENC_INFO, SM4_KEY_BYTES),
    macKey: hkdfSm3(dataKey, salt, MAC_INFO, 32),
  };
}

function tagOf(macKey: Buffer, bound: Buffer, salt: Buffer, ciphertext: Buffer): Buffer {
  return createHmac('sm3', macKey)
    .update(bound)
    .update(salt)
    .update(ciphertext)
    .digest()
    .subarray(0, SEALED_V2_TAG_BYTES);
}

const IV = Buffer.alloc(16);

/** Seals `plaintext` as a v2 object bound to `binding`, under a data key of `dataClass`. */
export async function sealBufferV2(
  plaintext: Buffer,
  keys: KeyProvider,
  dataClass: DataClass,
  binding: SealBinding,
  options: SealV2Options = {},
): Promise<Buffer> {
  if (!isDataClass(dataClass))
    throw new CryptoError('invalid_argument', `unknown data class ${String(dataClass)}`);
  checkBinding(binding);
  if (plaintext.length > MAX_V2_PLAINTEXT_BYTES)
    throw new CryptoError('invalid_argument', `plaintext larger than ${MAX_V2_PLAINTEXT_BYTES} bytes`);
  let body = plaintext;
  let flags = 0;
  if (options.compress !== false && plaintext.length > 0) {
    const deflated = deflateRawSync(plaintext, { level: 9, dictionary: SEALED_DICTIONARY_1 });
    if (deflated.length < plaintext.length) {
      body = deflated;
      flags |= FLAG_DEFLATE_DICT1;
    }
  }
  const { plaintext: dataKey, wrapped } = await keys.newDataKey(dataClass);
  const salt = (options.random ?? randomBytes)(SEALED_V2_SALT_BYTES);
  if (salt.length !== SEALED_V2_SALT_BYTES)
    throw new CryptoError('invalid_argument', 'random source gave a short salt');
  const bound = Buffer.from(encodeBound(dataClass, flags, binding));
  const kek: number[] = [];
  encodeKek(dataClass, wrapped, kek);
  const { encKey, macKey } = objectKeys(dataKey, salt);
  const ciphertext = createCipheriv('sm4-ctr', encKey, IV).update(body);
  return Buffer.concat([bound, Buffer.from(kek), salt, ciphertext, tagOf(macKey, bound, salt, ciphertext)]);
}

export interface OpenedV2 {
  plaintext: Buffer;
  header: SealedV2Header;
}

/**
 * Opens a v2 object. With `expected`, a different binding in the header is 'binding_mismatch'
 * before any key is asked for; without it, the binding is verified (it is under the tag) and
 * returned for the caller to check.
 */
export async function openBufferV2(
  sealed: Buffer,
  keys: KeyProvider,
  expected?: SealBinding,
): Promise<OpenedV2> {
  const header = parseSealedV2Header(sealed);
  if (expected && !sameBinding(header.binding, checkBinding(expected))) {
    throw bindingMismatch(expected, `it is bound to ${describeBinding(header.binding)}`);
  }
  if (sealed.length < header.headerLength + SEALED_V2_TAG_BYTES)
    throw new CryptoError('truncated', 'object ends before its tag');
  const dataKey = await keys.unwrapDataKey({
    kekId: header.kekId,
    kekVersion: header.kekVersion,
    wrapped: header.wrappedKey,
  });
  const { encKey, macKey } = objectKeys(dataKey, header.salt);
  const ciphertext = sealed.subarray(header.headerLength, sealed.length - SEALED_V2_TAG_BYTES);
  const tag = sealed.subarray(sealed.length - SEALED_V2_TAG_BYTES);
  if (!tagsEqual(tagOf(macKey, sealed.subarray(0, header.boundLength), header.salt, ciphertext), tag)) {
    throw new CryptoError(
      'segment_tampered',
      'v2 object failed authentication (header, binding or body changed)',
    );
  }
  const body = createDecipheriv('sm4-ctr', encKey, IV).update(ciphertext);
  if ((header.flags & FLAG_DEFLATE_DICT1) === 0) return { plaintext: body, header };
  try {
    return {
      plaintext: inflateRawSync(body, {
        dictionary: SEALED_DICTIONARY_1,
        maxOutputLength: MAX_V2_PLAINTEXT_BYTES,
      }),
      header,
    };
  } catch {
    throw new CryptoError('malformed_header', 'compressed body does not inflate');
  }
}

/** Rewrites the KEK section of a v2 object after its data key was re-wrapped; the rest stays byte for byte. */
export async function rewrapSealedV2(
  sealed: Buffer,
  keys: KeyProvider,
  rewrapped: WrappedKey,
): Promise<Buffer> {
  const { header } = await openBufferV2(sealed, keys);
  const oldKey = await keys.unwrapDataKey({
    kekId: header.kekId,
    kekVersion: header.kekVersion,
    wrapped: header.wrappedKey,
  });
  const newKey = await keys.unwrapDataKey(rewrapped);
  if (!tagsEqual(oldKey, newKey))
    throw new CryptoError('unwrap_failed', 'the rewrapped key is not the data key of this object');
  const kek: number[] = [];
  encodeKek(header.dataClass, rewrapped, kek);
  return Buffer.concat([
    sealed.subarray(0, header.kekStart),
    Buffer.from(kek),
    sealed.subarray(header.headerLength - SEALED_V2_SALT_BYTES),
  ]);
}
