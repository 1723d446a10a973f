import { randomBytes } from 'node:crypto';
import { KEYSERVICE_KEK_PREFIX } from '@cz/common';
import {
  CryptoError,
  hkdfSm3,
  hmacSm3,
  isDataClass,
  keyUnwrap,
  keyWrap,
  sm3,
  SM4_KEY_BYTES,
  type DataClass,
} from '@cz/common/crypto';

/*
 * The key hierarchy of the key service.
 *
 *   root key (32 bytes, Shamir-split, memory only)
 *     └─ KEK wrapping key  = HKDF-SM3(root, "cunzheng/keyservice/v1", "kek-wrap/<class>#<version>", 16)
 *          └─ KEK (random 16 bytes per class and version), stored as SM4-KW(wrapping key, KEK)
 *               ├─ data key (random 16 bytes), handed out as SM4-KW(KEK, data key)
 *               └─ period KEK wrapping key = HKDF-SM3(KEK, "cunzheng/keyservice/v1", "period-kek/<class>/<YYYY-MM>", 16)
 *                    └─ period KEK (random 16 bytes per class and month), stored as SM4-KW(wrapping key, period KEK)
 *                         └─ daily data key, stored as SM4-KW(period KEK, data key)
 *
 * A wrapping key per (class, version) binds each stored KEK to its row: a KEK row copied to another
 * class or version fails the key-wrap integrity check instead of decrypting the wrong data. The
 * same holds for period KEKs and their (class, month). Destroying a month overwrites and deletes
 * its period KEK and its daily keys; the class KEK, which every other month needs, stays.
 * (Daily keys stored before period KEKs existed are wrapped directly under a class KEK version
 * until a rewrap job moves them under their month's KEK.)
 */

export const ROOT_KEY_BYTES = 32;
/** a Shamir share of the root key: 32 y-bytes and the x-coordinate (shamir-secret-sharing layout) */
export const SHARE_BYTES = ROOT_KEY_BYTES + 1;
const HIERARCHY_SALT = Buffer.from('cunzheng/keyservice/v1', 'utf8');
const KW = 'sm4-ecb';
/** SM4 key wrap of a 16-byte key */
export const WRAPPED_KEY_BYTES = SM4_KEY_BYTES + 8;

/** shared with the client, which refuses other KEK ids without asking */
export const KEK_ID_PREFIX = KEYSERVICE_KEK_PREFIX;

export function kekIdOf(dataClass: DataClass): string {
  return `${KEK_ID_PREFIX}${dataClass}`;
}

export function classOfKekId(kekId: string): DataClass | undefined {
  if (!kekId.startsWith(KEK_ID_PREFIX)) return undefined;
  const name = kekId.slice(KEK_ID_PREFIX.length);
  return isDataClass(name) ? name : undefined;
}

export function newRootKey(): Buffer {
  return randomBytes(ROOT_KEY_BYTES);
}

/** Stored at init; a combination of shares that does not reproduce it is refused. */
export function rootCheckValue(root: Buffer): string {
  const checkKey = hkdfSm3(root, HIERARCHY_SALT, 'root-check', 32);
  return hmacSm3(checkKey, 'cunzheng root key check v1').toString('hex');
}

/**
 * Stored per share at init, so a share that was never issued is refused when it is submitted
 * (before it can spoil a combination). A share is 33 uniformly random-looking bytes: its hash
 * reveals nothing usable.
 */
export function shareCheckValue(share: Buffer): string {
  return sm3(Buffer.concat([Buffer.from('cunzheng/keyservice/share-check/v1\0', 'utf8'), share])).toString(
    'hex',
  );
}

function kekWrappingKey(root: Buffer, dataClass: DataClass, version: number): Buffer {
  return hkdfSm3(root, HIERARCHY_SALT, `kek-wrap/${dataClass}#${version}`, SM4_KEY_BYTES);
}

export function wrapKek(root: Buffer, dataClass: DataClass, version: number, kek: Buffer): Buffer {
  const wrappingKey = kekWrappingKey(root, dataClass, version);
  try {
    return keyWrap(KW, wrappingKey, kek);
  } finally {
    wrappingKey.fill(0);
  }
}

/** Throws CryptoError('unwrap_failed') if the stored KEK was altered or belongs elsewhere. */
export function unwrapKek(root: Buffer, dataClass: DataClass, version: number, wrapped: Buffer): Buffer {
  const wrappingKey = kekWrappingKey(root, dataClass, version);
  try {
    return keyUnwrap(KW, wrappingKey, wrapped);
  } finally {
    wrappingKey.fill(0);
  }
}

export function newSm4Key(): Buffer {
  return randomBytes(SM4_KEY_BYTES);
}

export function wrapDataKey(kek: Buffer, dataKey: Buffer): Buffer {
  return keyWrap(KW, kek, dataKey);
}

export function unwrapDataKey(kek: Buffer, wrapped: Buffer): Buffer {
  if (wrapped.length !== WRAPPED_KEY_BYTES) {
    throw new CryptoError('unwrap_failed', `a wrapped data key is ${WRAPPED_KEY_BYTES} bytes`);
  }
  return keyUnwrap(KW, kek, wrapped);
}

function periodKekWrappingKey(kek: Buffer, dataClass: DataClass, period: string): Buffer {
  return hkdfSm3(kek, HIERARCHY_SALT, `period-kek/${dataClass}/${period}`, SM4_KEY_BYTES);
}

export function wrapPeriodKek(kek: Buffer, dataClass: DataClass, period: string, periodKek: Buffer): Buffer {
  const wrappingKey = periodKekWrappingKey(kek, dataClass, period);
  try {
    return keyWrap(KW, wrappingKey, periodKek);
  } finally {
    wrappingKey.fill(0);
  }
}

/** Throws CryptoError('unwrap_failed') if the stored period KEK was altered or belongs to another month. */
export function unwrapPeriodKek(kek: Buffer, dataClass: DataClass, period: string, wrapped: Buffer): Buffer {
  if (wrapped.length !== WRAPPED_KEY_BYTES) {
    throw new CryptoError('unwrap_failed', `a wrapped period KEK is ${WRAPPED_KEY_BYTES} bytes`);
  }
  const wrappingKey = periodKekWrappingKey(kek, dataClass, period);
  try {
    return keyUnwrap(KW, wrappingKey, wrapped);
  } finally {
    wrappingKey.fill(0);
  }
}

export const INDEX_KEY_BYTES = 32;

export function wrapIndexKey(kek: Buffer, indexKey: Buffer): Buffer {
  return keyWrap(KW, kek, indexKey);
}

export function unwrapIndexKey(kek: Buffer, wrapped: Buffer): Buffer {
  if (wrapped.length !== INDEX_KEY_BYTES + 8) {
    throw new CryptoError('unwrap_failed', `a wrapped index key is ${INDEX_KEY_BYTES + 8} bytes`);
  }
  return keyUnwrap(KW, kek, wrapped);
}

/*
 * Daily data keys are stored here and referenced from sealed objects by a handle in the header's
 * "wrapped data key" field: "CZDK" ‖ 0x01 ‖ 16-byte key id. Rewrap then changes one row of
 * ks_data_key and no object, which is what lets locked (WORM) objects survive key rotation.
 */
const HANDLE_MAGIC = Buffer.from('CZDK', 'latin1');
const HANDLE_VERSION = 1;
export const DATA_KEY_ID_BYTES = 16;
export const HANDLE_BYTES = HANDLE_MAGIC.length + 1 + DATA_KEY_ID_BYTES;

export function encodeHandle(id: Buffer): Buffer {
  return Buffer.concat([HANDLE_MAGIC, Buffer.from([HANDLE_VERSION]), id]);
}

/** The data-key id of a handle, or undefined when `wrapped` is not a handle (a wrapped blob). */
export function decodeHandle(wrapped: Buffer): Buffer | undefined {
  if (wrapped.length !== HANDLE_BYTES || !wrapped.subarray(0, 4).equals(HANDLE_MAGIC)) return undefined;
  if (wrapped[4] !== HANDLE_VERSION) return undefined;
  return Buffer.from(wrapped.subarray(5));
}

export function newDataKeyId(): Buffer {
  return randomBytes(DATA_KEY_ID_BYTES);
}
