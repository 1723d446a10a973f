import type { DataSource } from 'typeorm';
import type { ArchivedCallV1, ArchivedMessageV1 } from '@cz/contracts';
import { openBuffer, type KeyProvider } from '@cz/common/crypto';
import { canonicalText, textMatches, type ParsedQuery, type TokenHasher } from '@cz/common/search';
import {
  KIND_CALL,
  KIND_MESSAGE,
  chunkSql,
  driverSql,
  estimateSql,
  kindsOf,
  type Direction,
  type Position,
  type RangeSource,
  type RowFilter,
  type TimeBounds,
} from './plan';
import type { ScopeCondition } from '../scope';

/*
 * The search executor: choose the smallest driver, scan it in growing chunks, check the other
 * conditions in SQL, open each remaining candidate and check the query exactly, stop at a full
 * page or at the scan budget. No false negatives (every index/metadata condition is necessary for
 * a match, and the scan resumes exactly where it stopped), no false positives (every hit passed
 * `textMatches` on its own unsealed text).
 */

/** Someone a record must involve: a person (employee, org unit) or a customer. Each one must hold. */
export interface PartyConstraint {
  /** message: one of these is the sender or a recipient */
  messageParticipants: string[];
  /** call: the agent is one of these */
  callAgents: string[];
  /** call: the customer number's blind index is one of these (BIGINT UNSIGNED, decimal) */
  callCustomerIndexes: string[];
}

export interface SearchFilters {
  bounds: TimeBounds;
  /** record kinds that may match (KIND_MESSAGE, KIND_CALL) */
  kinds: number[];
  msgtypes?: string[];
  conversation?: string;
  businessType?: string;
  parties: PartyConstraint[];
  /** only records with an alert attached: of at least this severity rank (1 info … 3 critical), of this kind */
  alerts?: { minSeverity: number; kind?: string };
  /** REG-05: the user's data scope over `m` and `c`; left out (or null) for users who see everything */
  scope?: { message: ScopeCondition; call: ScopeCondition };
}

export interface SearchLimits {
  /** driver rows read per request before returning a partial page */
  scanBudget: number;
  /** records opened per request for the exact check */
  verifyBudget: number;
  /** index entries an estimate reads at most */
  estimateCap: number;
  /** driver rows the first-page count reads at most */
  countCap: number;
  /** a party constraint with more members is only a filter, never a driver */
  maxDriverMembers: number;
}

export const DEFAULT_LIMITS: SearchLimits = {
  scanBudget: 200_000,
  verifyBudget: 3_000,
  estimateCap: 5_000,
  countCap: 10_000,
  maxDriverMembers: 50,
};

export interface SearchRequest {
  query: ParsedQuery | undefined;
  filters: SearchFilters;
  direction: Direction;
  limit: number;
  after: Position | undefined;
  count: boolean;
}

export interface FoundMessage {
  kind: typeof KIND_MESSAGE;
  t: number;
  id: string;
  row: MessageDbRow;
  record: ArchivedMessageV1;
}

export interface FoundCall {
  kind: typeof KIND_CALL;
  t: number;
  id: string;
  row: CallDbRow;
  record: ArchivedCallV1;
  transcript: string;
}

export type Found = FoundMessage | FoundCall;

export interface SearchResult {
  items: Found[];
  /** where the next page starts; undefined when the scan reached the end */
  next: Position | undefined;
  partial: boolean;
  total: { value: number; relation: 'eq' | 'lte' | 'gte' } | null;
  scanned: number;
  verified: number;
  driver: string;
}

export interface MessageDbRow {
  id: string;
  corp_id: string;
  msgid: string;
  action: string;
  msgtype: string | null;
  sender: string;
  room_id: string | null;
  conversation_id: string;
  msgtime: Date;
  sealed_record: Buffer;
  recalled: number | string;
}

/**
 * The columns of a {@link MessageDbRow} from `message m`; `recalled`: a recall record points at its
 * original by archive id, whichever arrived first.
 */
export const MESSAGE_COLUMNS =
  'm.id, m.corp_id, m.msgid, m.action, m.msgtype, m.sender, m.room_id, m.conversation_id, m.msgtime, ' +
  'm.sealed_record, EXISTS (SELECT 1 FROM message_recall rc WHERE rc.message_id = m.id) AS recalled';

export interface CallDbRow {
  id: string;
  corp_id: string;
  call_id: string;
  agent_id: string;
  direction: string;
  business_type: string;
  start_time: Date;
  end_time: Date;
  recording_id: string | null;
  sealed_record: Buffer;
}

/** BIGINT UNSIGNED values are inlined as checked integer literals (never compared as strings/doubles). */
export function u64(value: string): string {
  if (!/^\d{1,20}$/.test(value) || BigInt(value) > 0xffffffffffffffffn) throw new Error('not a u64 decimal');
  return value;
}

const sqlList = (values: readonly string[]) => values.map(() => '?').join(', ');

interface DriverChoice {
  name: string;
  ranges: RangeSource[];
  estimate: number;
}

export class SearchEngine {
  constructor(
    private readonly db: DataSource,
    private readonly keys: KeyProvider,
    private readonly hasher: TokenHasher,
    private readonly limits: SearchLimits = DEFAULT_LIMITS,
  ) {}

  async search(request: SearchRequest): Promise<SearchResult> {
    const { filters } = request;
    const empty: SearchResult = {
      items: [],
      next: undefined,
      partial: false,
      total: request.count && !request.after ? { value: 0, relation: 'eq' } : null,
      scanned: 0,
      verified: 0,
      driver: 'none',
    };
    if (filters.kinds.length === 0) return empty;
    const fullFilter = this.rowFilter(request);
    if (!fullFilter) return empty;
    const driver = await this.chooseDriver(request, fullFilter.kinds);
    if (driver.ranges.length === 0) return empty;
    // Every row of a party's own index ranges is that party's: checking the party again would
    // read each candidate's message row (random reads in the largest table) for nothing.
    const drivenByParty = /^party(\d+)$/.exec(driver.name);
    const rowFilter = drivenByParty ? this.rowFilter(request, Number(drivenByParty[1]))! : fullFilter;

    const needsCheck = request.query !== undefined;
    const found: Found[] = [];
    let position = request.after;
    let scanned = 0;
    let verified = 0;
    let exhausted = false;
    // the driver was read to its end and every candidate opened: the matches found are all there are
    let drained = false;
    let chunk = Math.min(Math.max(request.limit * 4, 100), 5000);
    const want = request.limit + 1;
    scan: while (found.length < want) {
      if (scanned >= this.limits.scanBudget) break;
      const size = Math.min(chunk, this.limits.scanBudget - scanned);
      const rows = await this.chunk(driver.ranges, rowFilter, request, position, size);
      if (rows.length === 0) {
        exhausted = true;
        break;
      }
      scanned += rows.length;
      const candidates = rows.filter((r) => Number(r.ok) === 1);
      let lastChecked = rows[rows.length - 1]!;
      let start = 0;
      if (candidates.length > 0) {
        const need = want - found.length;
        // open in slices so a chunk full of candidates does not open far more than a page needs
        while (start < candidates.length) {
          const room = this.limits.verifyBudget - verified;
          if (needsCheck && room <= 0) {
            // resume right after the last candidate we opened
            position = lastOpened(candidates, start) ?? position;
            break scan;
          }
          const take = needsCheck ? Math.min(room, Math.max(need * 2, 50)) : need;
          const slice = candidates.slice(start, start + take);
          const opened = await this.open(slice, request.query);
          verified += needsCheck ? slice.length : 0;
          found.push(...opened);
          start += slice.length;
          if (found.length >= want) {
            lastChecked = slice[slice.length - 1]!;
            break;
          }
        }
      }
      position = { t: new Date(lastChecked.t).getTime(), id: lastChecked.id };
      drained = rows.length < size && start >= candidates.length;
      if (found.length >= want) break;
      if (rows.length < size) {
        exhausted = true;
        break;
      }
      chunk = Math.min(chunk * 4, 5000);
    }

    const items = found.slice(0, request.limit);
    const more = found.length > request.limit;
    const lastItem = items[items.length - 1];
    const next = more && lastItem ? { t: lastItem.t, id: lastItem.id } : exhausted ? undefined : position;
    const partial = !more && !exhausted;
    let total: SearchResult['total'] = null;
    if (request.count && !request.after) {
      total =
        (exhausted && !more) || drained
          ? { value: found.length, relation: 'eq' }
          : await this.count(driver, rowFilter, request, found.length);
    }
    return { items, next, partial, total, scanned, verified, driver: driver.name };
  }

  // ---------------------------------------------------------------------------------------------
  // conditions

  private tokenValue(token: string): string {
    return u64(this.hasher.hash(token));
  }

  /** `drivenBy`: index of the party whose own ranges drive the scan (its condition holds already) */
  private rowFilter(request: SearchRequest, drivenBy?: number): RowFilter | undefined {
    const { filters, query } = request;
    const params: unknown[] = [];
    let kinds = [...filters.kinds];
    if (filters.msgtypes?.length || filters.conversation) kinds = kinds.filter((k) => k === KIND_MESSAGE);
    if (filters.businessType) kinds = kinds.filter((k) => k === KIND_CALL);
    if (filters.scope?.message === false) kinds = kinds.filter((k) => k !== KIND_MESSAGE);
    if (filters.scope?.call === false) kinds = kinds.filter((k) => k !== KIND_CALL);
    for (const party of filters.parties) {
      if (party.messageParticipants.length === 0) kinds = kinds.filter((k) => k !== KIND_MESSAGE);
      if (party.callAgents.length === 0 && party.callCustomerIndexes.length === 0)
        kinds = kinds.filter((k) => k !== KIND_CALL);
    }
    if (kinds.length === 0) return undefined;

    const perKind: string[] = [];
    let joinMessage = false;
    let joinCall = false;
    if (kinds.includes(KIND_MESSAGE)) {
      const conds = [`d.kind = ${KIND_MESSAGE}`];
      if (filters.msgtypes?.length) {
        conds.push(`m.msgtype IN (${sqlList(filters.msgtypes)})`);
        params.push(...filters.msgtypes);
      }
      if (filters.conversation) {
        conds.push('m.conversation_id = ?');
        params.push(filters.conversation);
      }
      for (const [i, party] of filters.parties.entries()) {
        if (i === drivenBy) continue;
        const list = sqlList(party.messageParticipants);
        conds.push(
          `(m.sender IN (${list}) OR EXISTS (SELECT 1 FROM message_recipient r WHERE r.msgtime = d.t AND r.message_id = d.id AND r.recipient IN (${list})))`,
        );
        params.push(...party.messageParticipants, ...party.messageParticipants);
      }
      if (filters.scope?.message) {
        conds.push(filters.scope.message.sql);
        params.push(...filters.scope.message.params);
      }
      if (conds.length > 1) {
        joinMessage = true;
        conds.splice(1, 0, 'm.id IS NOT NULL');
      }
      perKind.push(`(${conds.join(' AND ')})`);
    }
    if (kinds.includes(KIND_CALL)) {
      const conds = [`d.kind = ${KIND_CALL}`];
      if (filters.businessType) {
        conds.push('c.business_type = ?');
        params.push(filters.businessType);
      }
      for (const [i, party] of filters.parties.entries()) {
        if (i === drivenBy) continue;
        const alternatives: string[] = [];
        if (party.callAgents.length) {
          alternatives.push(`c.agent_id IN (${sqlList(party.callAgents)})`);
          params.push(...party.callAgents);
        }
        if (party.callCustomerIndexes.length) {
          alternatives.push(`c.customer_index IN (${party.callCustomerIndexes.map(u64).join(', ')})`);
        }
        conds.push(`(${alternatives.join(' OR ')})`);
      }
      if (filters.scope?.call) {
        conds.push(filters.scope.call.sql);
        params.push(...filters.scope.call.params);
      }
      if (conds.length > 1) {
        joinCall = true;
        conds.splice(1, 0, 'c.id IS NOT NULL');
      }
      perKind.push(`(${conds.join(' AND ')})`);
    }
    const all = [`(${perKind.join(' OR ')})`];
    for (const clause of query?.clauses ?? []) {
      const alternatives = clause.map(
        (phrase) =>
          `(${phrase.tokens
            .map(
              (token) =>
                `EXISTS (SELECT 1 FROM search_token s WHERE s.token = ${this.tokenValue(token)} AND s.doc_time = d.t AND s.doc_id = UNHEX(d.id))`,
            )
            .join(' AND ')})`,
      );
      all.push(`(${alternatives.join(' OR ')})`);
    }
    if (filters.alerts) {
      // primary-key look-ups keyed like the driver row: (time, id)
      const rank = Math.floor(filters.alerts.minSeverity);
      if (filters.alerts.kind === undefined)
        all.push(
          `EXISTS (SELECT 1 FROM alert_record ar WHERE ar.doc_time = d.t AND ar.doc_id = UNHEX(d.id) AND ar.max_severity >= ${rank})`,
        );
      else {
        all.push(
          `EXISTS (SELECT 1 FROM alert_target al WHERE al.doc_id = UNHEX(d.id) AND al.doc_time = d.t AND al.kind = ? AND al.severity_rank >= ${rank})`,
        );
        params.push(filters.alerts.kind);
      }
    }
    return { kinds, sql: all.join(' AND '), params, joinMessage, joinCall };
  }

  // ---------------------------------------------------------------------------------------------
  // driver choice

  private async chooseDriver(request: SearchRequest, kinds: number[]): Promise<DriverChoice> {
    const { filters, query } = request;
    const allow = (source: RangeSource) => kindsOf(source).some((k) => kinds.includes(k));
    const choices: DriverChoice[] = [];

    // keyword clauses: each alternative contributes its rarest token
    const tokenEstimates = new Map<string, number>();
    const allTokens = [...new Set((query?.clauses ?? []).flatMap((c) => c.flatMap((p) => p.tokens)))];
    const candidates: { name: string; ranges: RangeSource[] }[] = [];
    for (const [i, party] of filters.parties.entries()) {
      const ranges: RangeSource[] = [];
      const members = new Set([
        ...party.messageParticipants,
        ...party.callAgents,
        ...party.callCustomerIndexes,
      ]);
      if (members.size > this.limits.maxDriverMembers) continue;
      for (const p of party.messageParticipants)
        ranges.push({ src: 'sender', value: p }, { src: 'recipient', value: p });
      for (const a of party.callAgents) ranges.push({ src: 'agent', value: a });
      for (const x of party.callCustomerIndexes) ranges.push({ src: 'callCustomer', value: u64(x) });
      candidates.push({ name: `party${i}`, ranges: ranges.filter(allow) });
    }
    if (filters.conversation)
      candidates.push({
        name: 'conversation',
        ranges: [{ src: 'conversation', value: filters.conversation }],
      });
    if (filters.businessType)
      candidates.push({ name: 'business', ranges: [{ src: 'business', value: filters.businessType }] });
    if (filters.alerts)
      candidates.push({
        name: 'alerts',
        ranges: [{ src: 'alert', minSeverity: filters.alerts.minSeverity } as RangeSource].filter(allow),
      });
    // the time index only drives when nothing else can: every other driver is already bounded by
    // the same time range, so it is never larger (and counting a time range reads whole rows)
    const onlyTime = candidates.length === 0 && (query?.clauses.length ?? 0) === 0;
    if (onlyTime)
      return {
        name: 'time',
        ranges: [{ src: 'messageTime' } as RangeSource, { src: 'callTime' } as RangeSource].filter(allow),
        estimate: Number.POSITIVE_INFINITY,
      };

    // one round trip: every token and every candidate range, each a bounded count
    const estimates: { key: string; source: RangeSource }[] = [];
    for (const token of allTokens)
      estimates.push({ key: `t:${token}`, source: { src: 'token', token: this.tokenValue(token) } });
    for (const c of candidates)
      for (const [j, r] of c.ranges.entries()) estimates.push({ key: `${c.name}:${j}`, source: r });
    const counts = await this.estimate(
      estimates.map((e) => e.source),
      filters.bounds,
      kinds,
    );
    const countOf = new Map(estimates.map((e, i) => [e.key, counts[i]!]));
    for (const token of allTokens) tokenEstimates.set(token, countOf.get(`t:${token}`)!);

    for (const [i, clause] of (query?.clauses ?? []).entries()) {
      const ranges: RangeSource[] = [];
      let estimate = 0;
      for (const phrase of clause) {
        let best = phrase.tokens[0]!;
        for (const token of phrase.tokens)
          if (tokenEstimates.get(token)! < tokenEstimates.get(best)!) best = token;
        ranges.push({ src: 'token', token: this.tokenValue(best) });
        estimate += tokenEstimates.get(best)!;
      }
      choices.push({ name: `keyword${i}`, ranges, estimate });
    }
    for (const c of candidates) {
      const estimate = c.ranges.reduce((sum, _r, j) => sum + countOf.get(`${c.name}:${j}`)!, 0);
      choices.push({ ...c, estimate });
    }
    choices.sort((a, b) => a.estimate - b.estimate);
    return choices[0]!;
  }

  private async estimate(sources: RangeSource[], bounds: TimeBounds, kinds: number[]): Promise<number[]> {
    if (sources.length === 0) return [];
    const parts = sources.map((s) => estimateSql(s, bounds, this.limits.estimateCap, kinds));
    const rows = (await this.db.query(
      `SELECT ${parts.map((p, i) => `${p.sql} AS e${i}`).join(', ')}`,
      parts.flatMap((p) => p.params),
    )) as Record<string, number | string>[];
    return parts.map((_p, i) => Number(rows[0]![`e${i}`]));
  }

  // ---------------------------------------------------------------------------------------------
  // scanning, counting, opening

  private async chunk(
    ranges: RangeSource[],
    filter: RowFilter,
    request: SearchRequest,
    position: Position | undefined,
    size: number,
  ): Promise<{ t: Date; id: string; kind: number; ok: number | string }[]> {
    const driver = driverSql(ranges, request.filters.bounds, request.direction, position, size, filter.kinds);
    const { sql, params } = chunkSql(driver, filter, request.direction);
    return (await this.db.query(sql, params)) as { t: Date; id: string; kind: number; ok: number | string }[];
  }

  /**
   * The first page's total, bounded: metadata-only queries count up to `countCap` driver rows
   * (exact below it). Keyword queries count index candidates only when the driver is known to be
   * small (its estimate stayed under `estimateCap`): every candidate costs index probes, and the
   * count is an upper bound anyway; otherwise they report what the page already verified as a
   * lower bound.
   */
  private async count(
    driver: DriverChoice,
    filter: RowFilter,
    request: SearchRequest,
    verifiedSoFar: number,
  ): Promise<NonNullable<SearchResult['total']>> {
    const keywords = request.query !== undefined;
    if (keywords && !(driver.estimate < this.limits.estimateCap))
      return { value: verifiedSoFar, relation: 'gte' };
    const cap = keywords ? this.limits.estimateCap : this.limits.countCap;
    const rows = driverSql(
      driver.ranges,
      request.filters.bounds,
      request.direction,
      undefined,
      cap,
      filter.kinds,
    );
    const { sql, params } = chunkSql(rows, filter, request.direction);
    const [counted] = (await this.db.query(
      `SELECT COUNT(*) AS scanned, COALESCE(SUM(ok), 0) AS matched FROM (${sql}) x`,
      params,
    )) as { scanned: number | string; matched: number | string }[];
    const scanned = Number(counted!.scanned);
    const matched = Number(counted!.matched);
    if (scanned < cap) return { value: matched, relation: keywords ? 'lte' : 'eq' };
    return keywords ? { value: verifiedSoFar, relation: 'gte' } : { value: matched, relation: 'gte' };
  }

  /** Opens candidates (in order) and keeps those matching the query exactly. */
  private async open(
    candidates: { t: Date; id: string; kind: number }[],
    query: ParsedQuery | undefined,
  ): Promise<Found[]> {
    const messages = candidates.filter((c) => Number(c.kind) === KIND_MESSAGE);
    const calls = candidates.filter((c) => Number(c.kind) === KIND_CALL);
    const byKey = new Map<string, Found>();
    if (messages.length > 0) {
      const rows = (await this.db.query(
        `SELECT ${MESSAGE_COLUMNS}
         FROM message m WHERE ${messages.map(() => '(m.msgtime = ? AND m.id = ?)').join(' OR ')}`,
        messages.flatMap((c) => [c.t, c.id]),
      )) as MessageDbRow[];
      for (const row of rows) {
        const record = JSON.parse(
          (await openBuffer(row.sealed_record, this.keys)).toString('utf8'),
        ) as ArchivedMessageV1;
        if (query && !textMatches(query, canonicalText(record.text))) continue;
        const t = new Date(row.msgtime).getTime();
        byKey.set(`${KIND_MESSAGE}:${row.id}`, { kind: KIND_MESSAGE, t, id: row.id, row, record });
      }
    }
    if (calls.length > 0) {
      const ids = calls.map((c) => c.id);
      const rows = (await this.db.query(
        `SELECT id, corp_id, call_id, agent_id, direction, business_type, start_time, end_time, recording_id, sealed_record
         FROM call_record WHERE id IN (${sqlList(ids)})`,
        ids,
      )) as CallDbRow[];
      const transcripts = (await this.db.query(
        `SELECT call_pk, sealed_text FROM call_transcript WHERE call_pk IN (${sqlList(ids)}) ORDER BY call_pk, source`,
        ids,
      )) as { call_pk: string; sealed_text: Buffer }[];
      const texts = new Map<string, string[]>();
      for (const t of transcripts) {
        const text = (await openBuffer(t.sealed_text, this.keys)).toString('utf8');
        texts.set(t.call_pk, [...(texts.get(t.call_pk) ?? []), text]);
      }
      for (const row of rows) {
        const record = JSON.parse(
          (await openBuffer(row.sealed_record, this.keys)).toString('utf8'),
        ) as ArchivedCallV1;
        const transcript = callSearchText(record, texts.get(row.id) ?? []);
        if (query && !textMatches(query, canonicalText(transcript))) continue;
        const t = new Date(row.start_time).getTime();
        byKey.set(`${KIND_CALL}:${row.id}`, { kind: KIND_CALL, t, id: row.id, row, record, transcript });
      }
    }
    return candidates.flatMap((c) => {
      const hit = byKey.get(`${Number(c.kind)}:${c.id}`);
      return hit ? [hit] : [];
    });
  }
}

/** What of a call is searchable: the call centre's transcript and every stored transcript. */
export function callSearchText(record: ArchivedCallV1, stored: readonly string[]): string {
  const parts = [record.transcript?.text ?? '', ...stored].filter((t) => t.length > 0);
  return [...new Set(parts)].join('\n');
}

function lastOpened(candidates: { t: Date; id: string }[], openedUpTo: number): Position | undefined {
  const last = candidates[openedUpTo - 1];
  return last ? { t: new Date(last.t).getTime(), id: last.id } : undefined;
}
