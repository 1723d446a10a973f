import { hmacSm3 } from '@cz/common/crypto';

/**
 * JSON with object keys sorted at every level, so that the same record serialised by different
 * clients (key order differs between the SDK, relays and JSON libraries) has one byte form.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Keyed fingerprint of what WeCom said in a record: HMAC-SM3 over its canonical JSON without `seq`
 * (the puller's position, not content). Equal for a redelivery, different for another record that
 * reuses the msgid; keyed, so it cannot be used to confirm a guessed message text.
 */
export function contentMacOf(key: Buffer, raw: Record<string, unknown>): string {
  const { seq: _seq, ...content } = raw;
  return hmacSm3(key, canonicalJson(content)).toString('hex');
}
