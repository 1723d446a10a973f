import { createHash } from 'node:crypto';
import type { LexiconEntry } from '@cz/contracts';

/** JSON with object keys sorted at every level and no whitespace: the same entries, the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** SM3 (hex) of a version's entries sorted by id, as one canonical JSON array. */
export function lexiconDigest(entries: readonly LexiconEntry[]): string {
  const sorted = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return createHash('sm3').update(canonicalJson(sorted), 'utf8').digest('hex');
}

/** Whether two entries say the same thing (key order and absent-vs-undefined do not count). */
export const sameEntry = (a: LexiconEntry, b: LexiconEntry) => canonicalJson(a) === canonicalJson(b);
