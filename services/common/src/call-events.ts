import { createHash } from 'node:crypto';
import { blindIndex, hmacSm3, type KeyProvider } from './crypto';
import { IndexPurposes, indexKeyFor } from './index-keys';

/*
 * Identity and look-up keys shared by ingest, archiver, recordings and portal for call-centre
 * records and behaviour events.
 */

const archiveId = (kind: string, corpId: string, id: string) =>
  createHash('sm3').update(`${kind}\u0000${corpId}\u0000${id}`).digest('hex').slice(0, 32);

/** Archive id of a CDR: derived from (corp, callId), so a re-posted CDR maps to the same id everywhere. */
export const callArchiveId = (corpId: string, callId: string) => archiveId('call', corpId, callId);

/** Archive id of a behaviour event: derived from (corp, eventId). */
export const eventArchiveId = (corpId: string, eventId: string) => archiveId('event', corpId, eventId);

/**
 * The token a phone number is blind-indexed under: digits only, without the mainland country code
 * (+86, 0086, 86 before an 11-digit mobile), so "+86 138-1234-5678" and "13812345678" match.
 */
export function phoneIndexToken(raw: string): string {
  let digits = raw.replace(/[^0-9+]/g, '');
  if (digits.startsWith('+86')) digits = digits.slice(3);
  else if (digits.startsWith('0086')) digits = digits.slice(4);
  else if (/^861[3-9]\d{9}$/.test(digits)) digits = digits.slice(2);
  return digits.replace(/\D/g, '');
}

export async function phoneIndex(keys: KeyProvider, phone: string): Promise<string> {
  return blindIndex(await indexKeyFor(keys, IndexPurposes.phone), phoneIndexToken(phone));
}

export async function externalUserIndex(keys: KeyProvider, externalUserId: string): Promise<string> {
  return blindIndex(await indexKeyFor(keys, IndexPurposes.externalUserId), externalUserId);
}

/** JSON with object keys sorted at every level: one byte string per value, for fingerprints. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => stableJson(v ?? null)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * Keyed fingerprint (HMAC-SM3, hex) of a record as the client sent it: equal for a re-post of the
 * same record, different for another record reusing its id; reveals nothing without the key.
 */
export async function contentMacOf(
  keys: KeyProvider,
  purpose: typeof IndexPurposes.callContent | typeof IndexPurposes.eventContent,
  record: unknown,
): Promise<string> {
  return hmacSm3(await indexKeyFor(keys, purpose), stableJson(record)).toString('hex');
}
