/**
 * Every failure of the crypto layer is a CryptoError with a stable machine-readable `code`, so
 * callers (dead-letter queues, audit log, HTTP errors) can react without parsing messages.
 */
export type CryptoErrorCode =
  /** the object does not start with the sealed-object magic */
  | 'bad_magic'
  | 'unsupported_version'
  | 'unsupported_suite'
  /** structurally invalid header (lengths, unknown data class, segment size out of range) */
  | 'malformed_header'
  /** the header MAC does not verify: a header field was changed, or the wrong data key */
  | 'header_tampered'
  /** a segment's tag does not verify: modified, reordered, spliced, or cut short inside it */
  | 'segment_tampered'
  /** the object ends early: inside the header, or after a non-final segment */
  | 'truncated'
  /** bytes follow the final segment */
  | 'trailing_data'
  /** the value is intact but belongs to another row (v2 header binding, or a v1 record's content) */
  | 'binding_mismatch'
  | 'unknown_key_version'
  | 'key_version_retired'
  | 'unwrap_failed'
  | 'invalid_argument'
  | 'national_crypto_unavailable';

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message?: string) {
    super(message ? `${code}: ${message}` : code);
    this.name = 'CryptoError';
    this.code = code;
  }
}
