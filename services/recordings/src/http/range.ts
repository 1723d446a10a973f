/*
 * HTTP Range (RFC 9110 §14) for one byte range, which is what media players send. Multiple
 * ranges, other units and syntax errors are refused with a reason instead of being ignored, so a
 * caller never receives a whole 2 GB recording it did not ask for.
 */

export type RangeRequest =
  | { kind: 'none' }
  /** [start, end): end exclusive */
  | { kind: 'range'; start: number; end: number }
  | { kind: 'unsatisfiable' }
  | { kind: 'malformed'; reason: string };

const MAX_HEADER = 200;
const DIGITS = /^\d+$/;

/** Parses a decimal; values beyond 2^53 become Infinity (they are past any object's end anyway). */
const toNumber = (digits: string): number => (digits.length > 15 ? Number.POSITIVE_INFINITY : Number(digits));

export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined || header === '') return { kind: 'none' };
  if (header.length > MAX_HEADER) return { kind: 'malformed', reason: 'Range header is too long' };
  const eq = header.indexOf('=');
  if (eq < 0) return { kind: 'malformed', reason: 'Range must look like bytes=start-end' };
  const unit = header.slice(0, eq).trim().toLowerCase();
  if (unit !== 'bytes') return { kind: 'malformed', reason: `unsupported range unit "${unit}"; use bytes` };
  const specs = header.slice(eq + 1).split(',');
  if (specs.length > 1) return { kind: 'malformed', reason: 'only one byte range per request is supported' };
  const spec = specs[0]!.trim();
  const dash = spec.indexOf('-');
  if (dash < 0) return { kind: 'malformed', reason: 'Range must look like bytes=start-end' };
  const first = spec.slice(0, dash).trim();
  const last = spec.slice(dash + 1).trim();

  if (first === '') {
    // suffix range: the last N bytes
    if (!DIGITS.test(last))
      return { kind: 'malformed', reason: 'suffix length must be a non-negative integer' };
    const length = toNumber(last);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - length), end: size };
  }
  if (!DIGITS.test(first) || (last !== '' && !DIGITS.test(last))) {
    return { kind: 'malformed', reason: 'range positions must be non-negative integers' };
  }
  const start = toNumber(first);
  if (last !== '' && toNumber(last) < start) {
    return { kind: 'malformed', reason: 'range end is before its start' };
  }
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size : Math.min(toNumber(last) + 1, size);
  return { kind: 'range', start, end };
}
