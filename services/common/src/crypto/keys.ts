import { randomBytes } from 'node:crypto';
import { CryptoError } from './errors';
import { keyUnwrap, keyWrap } from './keywrap';
import { hkdfSm3, SM4_KEY_BYTES } from './primitives';

export type DataClass = 'chat' | 'recording' | 'pii' | 'index' | 'audit';

/** Wire codes of the data classes in the sealed-object header; never renumber. */
export const DATA_CLASS_CODES: Readonly<Record<DataClass, number>> = {
  chat: 1,
  recording: 2,
  pii: 3,
  index: 4,
  audit: 5,
};

export function isDataClass(value: string): value is DataClass {
  return Object.hasOwn(DATA_CLASS_CODES, value);
}

export function dataClassFromCode(code: number): DataClass | undefined {
  return (Object.keys(DATA_CLASS_CODES) as DataClass[]).find((name) => DATA_CLASS_CODES[name] === code);
}

export interface WrappedKey {
  kekId: string;
  kekVersion: number;
  wrapped: Buffer;
}

export interface KeyProvider {
  /** a fresh 16-byte data key for `dataClass`, plaintext + wrapped under the newest KEK version */
  newDataKey(dataClass: DataClass): Promise<{ plaintext: Buffer; wrapped: WrappedKey }>;
  /** unwrap; throws CryptoError('unknown_key_version' | 'key_version_retired' | 'unwrap_failed') */
  unwrapDataKey(wrapped: WrappedKey): Promise<Buffer>;
}

export interface LocalKeyProviderOptions {
  /** 32 bytes; the KEKs are derived from it, so whoever holds it can read everything */
  masterKey: Buffer;
  /** keyring name; the KEK id of a class is `<kekId>/<class>` (default `local`) */
  kekId?: string;
  /** KEK versions 1..versions exist; new data keys use the newest (default 1) */
  versions?: number;
  /** versions that may no longer unwrap (after rewrap they are destroyed) */
  retiredVersions?: readonly number[];
}

/** Bound into every KEK derivation so these KEKs can never collide with another use of the master key. */
const KEK_DERIVATION_SALT = Buffer.from('cunzheng/kek/v1', 'utf8');
/** The KEK id lands in a VARCHAR(64) column (kek_id) and a u8-length header field. */
export const MAX_KEK_ID_BYTES = 64;
/** SM4 key wrap of a 16-byte key: 8-byte integrity block + 16 bytes. */
const WRAPPED_KEY_BYTES = SM4_KEY_BYTES + 8;

/**
 * The placeholder key source until the key service exists: one KEK per (data class, version),
 * derived as HKDF-SM3(masterKey, salt "cunzheng/kek/v1", info "<kekId>/<class>#<version>", 16).
 * Data keys are wrapped with SM4 key wrap (RFC 3394 construction, 24 bytes, 64-bit integrity
 * check). The KEK id and version are not MACed separately: they select the KEK, so any change to
 * them unwraps under a different KEK and fails the integrity check.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly kekId: string;
  readonly newestVersion: number;
  private readonly masterKey: Buffer;
  private readonly retired: ReadonlySet<number>;
  private readonly keks = new Map<string, Buffer>();

  constructor(options: LocalKeyProviderOptions) {
    if (options.masterKey.length !== 32)
      throw new CryptoError('invalid_argument', 'masterKey must be 32 bytes');
    const kekId = options.kekId ?? 'local';
    const longestId = `${kekId}/recording`;
    if (kekId.length === 0 || kekId.includes('/') || Buffer.byteLength(longestId) > MAX_KEK_ID_BYTES) {
      throw new CryptoError(
        'invalid_argument',
        `kekId must be non-empty, without '/', and short enough for ${MAX_KEK_ID_BYTES} bytes`,
      );
    }
    const versions = options.versions ?? 1;
    if (!Number.isInteger(versions) || versions < 1 || versions > 0xffffffff) {
      throw new CryptoError('invalid_argument', 'versions must be an integer ≥ 1');
    }
    const retired = new Set(options.retiredVersions ?? []);
    if (retired.has(versions))
      throw new CryptoError('invalid_argument', 'the newest KEK version cannot be retired');
    this.masterKey = Buffer.from(options.masterKey);
    this.kekId = kekId;
    this.newestVersion = versions;
    this.retired = retired;
  }

  kekIdFor(dataClass: DataClass): string {
    return `${this.kekId}/${dataClass}`;
  }

  async newDataKey(dataClass: DataClass): Promise<{ plaintext: Buffer; wrapped: WrappedKey }> {
    if (!isDataClass(dataClass))
      throw new CryptoError('invalid_argument', `unknown data class ${String(dataClass)}`);
    const plaintext = randomBytes(SM4_KEY_BYTES);
    return { plaintext, wrapped: this.wrap(dataClass, this.newestVersion, plaintext) };
  }

  async unwrapDataKey(wrapped: WrappedKey): Promise<Buffer> {
    const dataClass = this.classOf(wrapped);
    if (wrapped.wrapped.length !== WRAPPED_KEY_BYTES) {
      throw new CryptoError('unwrap_failed', `wrapped data key must be ${WRAPPED_KEY_BYTES} bytes`);
    }
    return keyUnwrap('sm4-ecb', this.kek(dataClass, wrapped.kekVersion), wrapped.wrapped);
  }

  /** Re-wraps a data key under the newest KEK version of its class (rotation without touching data). */
  async rewrapDataKey(wrapped: WrappedKey): Promise<WrappedKey> {
    const dataClass = this.classOf(wrapped);
    const plaintext = await this.unwrapDataKey(wrapped);
    try {
      return this.wrap(dataClass, this.newestVersion, plaintext);
    } finally {
      plaintext.fill(0);
    }
  }

  private wrap(dataClass: DataClass, version: number, plaintext: Buffer): WrappedKey {
    return {
      kekId: this.kekIdFor(dataClass),
      kekVersion: version,
      wrapped: keyWrap('sm4-ecb', this.kek(dataClass, version), plaintext),
    };
  }

  private classOf(wrapped: WrappedKey): DataClass {
    const slash = wrapped.kekId.lastIndexOf('/');
    const dataClass = wrapped.kekId.slice(slash + 1);
    if (slash < 0 || wrapped.kekId.slice(0, slash) !== this.kekId || !isDataClass(dataClass)) {
      throw new CryptoError('unknown_key_version', `KEK ${wrapped.kekId} is not held by this key provider`);
    }
    const version = wrapped.kekVersion;
    if (!Number.isInteger(version) || version < 1 || version > this.newestVersion) {
      throw new CryptoError('unknown_key_version', `KEK ${wrapped.kekId} has no version ${version}`);
    }
    if (this.retired.has(version)) {
      throw new CryptoError('key_version_retired', `KEK ${wrapped.kekId} version ${version} is retired`);
    }
    return dataClass;
  }

  private kek(dataClass: DataClass, version: number): Buffer {
    const label = `${this.kekIdFor(dataClass)}#${version}`;
    let kek = this.keks.get(label);
    if (!kek) {
      kek = hkdfSm3(this.masterKey, KEK_DERIVATION_SALT, label, SM4_KEY_BYTES);
      this.keks.set(label, kek);
    }
    return kek;
  }
}
