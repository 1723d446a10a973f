/** Small helpers for the SQL the archiver writes by hand. */

/** An instant as a DATETIME(3) literal in UTC ('YYYY-MM-DD hh:mm:ss.mmm'). */
export const toSqlTime = (ms: number) => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');

/** An archive id (32 hex digits) as checked SQL hex; anything else is a programming error. */
export function hex32(id: string): string {
  if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`archive id must be 32 lower-case hex digits, got ${id}`);
  return id;
}

/** `items` in slices of at most `size`, for IN lists and multi-row inserts. */
export function inChunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/** Archive ids as a list of checked SQL hex literals, for an IN (…). */
export const hexIds = (ids: readonly string[]) => ids.map((id) => `X'${hex32(id)}'`).join(', ');
