import { CryptoError } from './errors';

/*
 * Where a sealed value belongs. Sealed format v2 carries its binding inside the authenticated
 * header, so a value copied into another row (another corp, another record id, another kind of
 * record) is refused when opened with that row's binding ('binding_mismatch').
 */

/** Wire codes of the record kinds in a v2 header; never renumber, only append. */
export const BINDING_KIND_CODES = {
  /** a chat record (message.sealed_record, message_variant.sealed_record, cz.msg.v1 values); id = message.id */
  msg: 1,
  /** a CDR (call_record.sealed_record, cz.call.v1 values); id = call_record.id */
  call: 2,
  /** a call transcript's text (call_transcript.sealed_text); id = call_record.id + '/' + source */
  transcript: 3,
  /** a behaviour event (behaviour_event.sealed_record, cz.event.v1 values); id = behaviour_event.id */
  event: 4,
  /** an alert (alert.sealed_record, cz.alert.v1 values); id = alert.id */
  alert: 5,
  /** a person's profile (customer.sealed_profile: id = customer.id; employee.sealed_profile: id = 'employee:' + userid) */
  profile: 6,
  /** the sensitive detail of a portal audit event (audit_event.sealed_detail); id = 'audit' (corp '') */
  audit: 7,
  /** a puller secret (wecom_corp_source.sealed_secret: id = 'corp-secret'; wecom_corp_key: id = 'private-key/<ver>') */
  secret: 8,
  /** the sealed subject of a consent decision (consent_event.subject_sealed); id = msgid */
  consent: 9,
  /** an envelope the puller quarantined (wecom_pull_quarantine.sealed_envelope); id = 'seq/<seq>' */
  quarantine: 10,
  /** a recording or media object in the object store (bound streams); corp '', id = its object key */
  object: 11,
  /** a compliance alert's sealed detail (compliance_alert.sealed_detail: hits, explanation, reg); id = compliance_alert.id */
  compliance_alert: 12,
  /** a person's note on a compliance alert (compliance_alert_event.sealed_note); id = the alert's id */
  compliance_alert_event: 13,
  /** a notification channel's target (notification_channel.sealed_target); corp '*', id = the channel's id */
  notification_channel: 14,
  /** a reviewer's note (review_item.sealed_note); id = review_item.id */
  review_item: 15,
} as const;

export type BindingKind = keyof typeof BINDING_KIND_CODES;

export interface SealBinding {
  kind: BindingKind;
  /** the corp the record belongs to ('' for records of no corp) */
  corp: string;
  /** the record's id as its row stores it */
  id: string;
}

export function bindingKindFromCode(code: number): BindingKind | undefined {
  return (Object.keys(BINDING_KIND_CODES) as BindingKind[]).find((kind) => BINDING_KIND_CODES[kind] === code);
}

export function isBindingKind(value: string): value is BindingKind {
  return Object.hasOwn(BINDING_KIND_CODES, value);
}

export function sameBinding(a: SealBinding, b: SealBinding): boolean {
  return a.kind === b.kind && a.corp === b.corp && a.id === b.id;
}

export function describeBinding(binding: SealBinding): string {
  return `${binding.kind} ${JSON.stringify(binding.id)} of corp ${JSON.stringify(binding.corp)}`;
}

/** The error every reader raises when a value or its content does not belong to its row. */
export function bindingMismatch(expected: SealBinding, detail: string): CryptoError {
  return new CryptoError(
    'binding_mismatch',
    `sealed value does not belong to ${describeBinding(expected)}: ${detail}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Compact encoding: unsigned LEB128 varints; strings that are lowercase hex of even length (row
// ids, SM3 digests) are stored as their bytes, which halves them.

export const MAX_BINDING_STRING_BYTES = 1024;

export function writeVarint(value: number, out: number[]): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new CryptoError('invalid_argument', `varint ${value} out of range`);
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

/** Reads a varint at `at`; returns null when `buf` ends inside it. */
export function readVarint(buf: Buffer, at: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (at + i >= buf.length) return null;
    const byte = buf[at + i]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      if (i > 0 && byte === 0) throw new CryptoError('malformed_header', 'varint is not minimal');
      return { value, next: at + i + 1 };
    }
    scale *= 0x80;
  }
  throw new CryptoError('malformed_header', 'varint too long');
}

const HEX = /^(?:[0-9a-f]{2})+$/;

export function writeCompactString(value: string, out: number[]): void {
  const hex = HEX.test(value);
  const bytes = hex ? Buffer.from(value, 'hex') : Buffer.from(value, 'utf8');
  if (bytes.length > MAX_BINDING_STRING_BYTES)
    throw new CryptoError('invalid_argument', `binding field longer than ${MAX_BINDING_STRING_BYTES} bytes`);
  writeVarint(bytes.length * 2 + (hex ? 1 : 0), out);
  for (const byte of bytes) out.push(byte);
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function readCompactString(buf: Buffer, at: number): { value: string; next: number } | null {
  const head = readVarint(buf, at);
  if (!head) return null;
  const length = Math.floor(head.value / 2);
  if (length > MAX_BINDING_STRING_BYTES) throw new CryptoError('malformed_header', 'binding field too long');
  if (buf.length < head.next + length) return null;
  const bytes = buf.subarray(head.next, head.next + length);
  let value: string;
  if (head.value % 2 === 1) {
    if (length === 0) throw new CryptoError('malformed_header', 'empty hex binding field');
    value = bytes.toString('hex');
  } else {
    try {
      value = utf8Strict.decode(bytes);
    } catch {
      throw new CryptoError('malformed_header', 'binding field is not UTF-8');
    }
    // a hex-looking string is always stored as hex: one encoding per binding
    if (HEX.test(value)) throw new CryptoError('malformed_header', 'hex binding field stored as text');
  }
  return { value, next: head.next + length };
}

export function checkBinding(binding: SealBinding): SealBinding {
  if (
    typeof binding !== 'object' ||
    binding === null ||
    !isBindingKind(String(binding.kind)) ||
    typeof binding.corp !== 'string' ||
    typeof binding.id !== 'string' ||
    binding.id.length === 0
  ) {
    throw new CryptoError('invalid_argument', 'a binding needs a known kind, a corp and a non-empty id');
  }
  return binding;
}

/** kind code ‖ corp ‖ id, as in format v2's header (and the key derivation of bound streams) */
export function encodeBinding(binding: SealBinding): Buffer {
  const out: number[] = [BINDING_KIND_CODES[checkBinding(binding).kind]];
  writeCompactString(binding.corp, out);
  writeCompactString(binding.id, out);
  return Buffer.from(out);
}

/** The binding of a sealed stream stored in the object store: its object key (kind/corp/owner/id). */
export const objectBinding = (objectKey: string): SealBinding => ({
  kind: 'object',
  corp: '',
  id: objectKey,
});
