/*
 * Search plans: which index drives the scan ("driver"), and the SQL that checks every other
 * condition on each driver row. Everything here builds SQL text; engine.ts and driver-choice.ts
 * run it.
 *
 * A record is identified by (time, id, kind) across messages (kind 1) and calls (kind 2), and
 * every scan walks an index whose order is (…, time, id), so results come out in time order and a
 * page boundary is a keyset position (time, id). A driver is a union of such index ranges; each
 * range is read with ORDER BY + LIMIT, so no statement ever reads more than `limit` entries of
 * one range, whatever the time range or query.
 */

export const KIND_MESSAGE = 1;
export const KIND_CALL = 2;

export type Direction = 'desc' | 'asc';

export interface Position {
  /** time in ms */
  t: number;
  /** archive id, 32 hex */
  id: string;
}

export type RangeSource =
  | { src: 'token'; token: string }
  | { src: 'sender'; value: string }
  | { src: 'recipient'; value: string }
  | { src: 'conversation'; value: string }
  | { src: 'messageTime' }
  | { src: 'agent'; value: string }
  | { src: 'callCustomer'; value: string }
  | { src: 'business'; value: string }
  | { src: 'callTime' }
  /** records with alerts attached (`alert_record`), at least this severity rank */
  | { src: 'alert'; minSeverity: number };

interface SourceTable {
  table: string;
  time: string;
  /** expression yielding the 32-hex id */
  idOut: string;
  /** column compared in keyset conditions, and how a hex id parameter is written against it */
  idCol: string;
  idParam: string;
  kindOut: string;
  eq: string | null;
}

const TABLES: Record<RangeSource['src'], SourceTable> = {
  token: {
    table: 'search_token',
    time: 'doc_time',
    idOut: 'LOWER(HEX(doc_id))',
    idCol: 'doc_id',
    idParam: 'UNHEX(?)',
    kindOut: 'doc_kind',
    eq: 'token',
  },
  sender: msg('message', 'id', 'sender'),
  recipient: msg('message_recipient', 'message_id', 'recipient'),
  conversation: msg('message', 'id', 'conversation_id'),
  messageTime: msg('message', 'id', null),
  agent: call('agent_id'),
  callCustomer: call('customer_index'),
  business: call('business_type'),
  callTime: call(null),
  alert: {
    table: 'alert_record',
    time: 'doc_time',
    idOut: 'LOWER(HEX(doc_id))',
    idCol: 'doc_id',
    idParam: 'UNHEX(?)',
    kindOut: 'doc_kind',
    eq: null,
  },
};

function msg(table: string, idCol: string, eq: string | null): SourceTable {
  return {
    table,
    time: 'msgtime',
    idOut: idCol,
    idCol,
    idParam: '?',
    kindOut: String(KIND_MESSAGE),
    eq,
  };
}

function call(eq: string | null): SourceTable {
  return {
    table: 'call_record',
    time: 'start_time',
    idOut: 'id',
    idCol: 'id',
    idParam: '?',
    kindOut: String(KIND_CALL),
    eq,
  };
}

export const kindsOf = (source: RangeSource): number[] =>
  source.src === 'token' || source.src === 'alert'
    ? [KIND_MESSAGE, KIND_CALL]
    : TABLES[source.src].table === 'call_record'
      ? [KIND_CALL]
      : [KIND_MESSAGE];

export interface TimeBounds {
  from?: Date;
  to?: Date;
}

export interface Sql {
  sql: string;
  params: unknown[];
}

/** A condition over the caller's columns: `false` nothing qualifies, `null` everything does. */
export type SqlCondition = Sql | false | null;

/** `?, ?, …`: one placeholder per value. */
export const sqlList = (values: readonly string[]) => values.map(() => '?').join(', ');

/** BIGINT UNSIGNED values are inlined as checked integer literals (never compared as strings/doubles). */
export function u64(value: string): string {
  if (!/^\d{1,20}$/.test(value) || BigInt(value) > 0xffffffffffffffffn) throw new Error('not a u64 decimal');
  return value;
}

/** One index range, ordered, after `position` (exclusive), at most `limit` rows. */
export function rangeSql(
  source: RangeSource,
  bounds: TimeBounds,
  direction: Direction,
  position: Position | undefined,
  limit: number,
  kinds: readonly number[],
): Sql {
  const t = TABLES[source.src];
  const where: string[] = [];
  const params: unknown[] = [];
  if (source.src === 'token' || source.src === 'callCustomer') {
    // BIGINT UNSIGNED: an integer literal, so no engine ever compares it as a string or a double
    const value = source.src === 'token' ? source.token : source.value;
    if (!/^\d{1,20}$/.test(value)) throw new Error('blind index must be a u64 decimal');
    where.push(`${t.eq} = ${value}`);
  } else if (t.eq && 'value' in source) {
    where.push(`${t.eq} = ?`);
    params.push(source.value);
  }
  if (bounds.from) {
    where.push(`${t.time} >= ?`);
    params.push(bounds.from);
  }
  if (bounds.to) {
    where.push(`${t.time} < ?`);
    params.push(bounds.to);
  }
  if (position) {
    const op = direction === 'desc' ? '<' : '>';
    where.push(`(${t.time} ${op} ? OR (${t.time} = ? AND ${t.idCol} ${op} ${t.idParam}))`);
    const at = new Date(position.t);
    params.push(at, at, position.id);
  }
  if (source.src === 'alert' && source.minSeverity > 1)
    where.push(`max_severity >= ${Math.floor(source.minSeverity)}`);
  if ((source.src === 'token' || source.src === 'alert') && kinds.length === 1)
    where.push(`doc_kind = ${kinds[0]}`);
  const dir = direction === 'desc' ? 'DESC' : 'ASC';
  return {
    sql:
      `SELECT ${t.time} AS t, ${t.idOut} AS id, ${t.kindOut} AS kind FROM ${t.table}` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY ${t.time} ${dir}, ${t.idCol} ${dir} LIMIT ${Math.floor(limit)}`,
    params,
  };
}

/** The driver's rows: the union of its ranges, in order, at most `limit`. */
export function driverSql(
  ranges: readonly RangeSource[],
  bounds: TimeBounds,
  direction: Direction,
  position: Position | undefined,
  limit: number,
  kinds: readonly number[],
): Sql {
  const parts = ranges.map((r) => rangeSql(r, bounds, direction, position, limit, kinds));
  if (parts.length === 1) return parts[0]!;
  const dir = direction === 'desc' ? 'DESC' : 'ASC';
  return {
    sql: `${parts.map((p) => `(${p.sql})`).join(' UNION ')} ORDER BY t ${dir}, id ${dir} LIMIT ${Math.floor(limit)}`,
    params: parts.flatMap((p) => p.params),
  };
}

/** A bounded count of one range: reads at most `cap` index entries. */
export function estimateSql(
  source: RangeSource,
  bounds: TimeBounds,
  cap: number,
  kinds: readonly number[],
): Sql {
  const range = rangeSql(source, bounds, 'desc', undefined, cap, kinds);
  return { sql: `(SELECT COUNT(*) FROM (${range.sql}) x)`, params: range.params };
}

/** Conditions checked on each driver row `d` (with `m` = message, `c` = call_record joined). */
export interface RowFilter {
  kinds: number[];
  /** SQL over d/m/c, true when the row qualifies */
  sql: string;
  params: unknown[];
  joinMessage: boolean;
  joinCall: boolean;
}

export function chunkSql(driver: Sql, filter: RowFilter, direction: Direction): Sql {
  const dir = direction === 'desc' ? 'DESC' : 'ASC';
  const joins =
    (filter.joinMessage
      ? ` LEFT JOIN message m ON d.kind = ${KIND_MESSAGE} AND m.msgtime = d.t AND m.id = d.id`
      : '') + (filter.joinCall ? ` LEFT JOIN call_record c ON d.kind = ${KIND_CALL} AND c.id = d.id` : '');
  return {
    sql: `SELECT d.t, d.id, d.kind, (${filter.sql}) AS ok FROM (${driver.sql}) d${joins} ORDER BY d.t ${dir}, d.id ${dir}`,
    // placeholders in text order: the filter (select list) comes before the driver (FROM)
    params: [...filter.params, ...driver.params],
  };
}
