import type { DataSource } from 'typeorm';
import { estimateSql, kindsOf, u64, type RangeSource, type TimeBounds } from './plan';
import type { EngineRequest } from './engine-request';

/*
 * Candidate planning: which index ranges drive the scan. Every keyword clause and every filter
 * that has an index of its own is a possible driver; each is estimated with a bounded count in
 * one round trip and the smallest wins.
 */

export interface DriverChoice {
  /** `keyword<i>`, `party<i>`, `conversation`, `business`, `alerts` or `time` */
  name: string;
  ranges: RangeSource[];
  estimate: number;
}

export interface DriverLimits {
  /** index entries an estimate reads at most */
  estimateCap: number;
  /** a party constraint with more members is only a filter, never a driver */
  maxDriverMembers: number;
}

export class DriverPlanner {
  constructor(
    private readonly db: DataSource,
    private readonly limits: DriverLimits,
    /** a query token's blind index, as an integer literal */
    private readonly tokenValue: (token: string) => string,
  ) {}

  /** `kinds`: the record kinds the row filter still allows */
  async choose(request: EngineRequest, kinds: number[]): Promise<DriverChoice> {
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
    const rows = await this.db.query<Record<string, number | string>[]>(
      `SELECT ${parts.map((p, i) => `${p.sql} AS e${i}`).join(', ')}`,
      parts.flatMap((p) => p.params),
    );
    return parts.map((_p, i) => Number(rows[0]![`e${i}`]));
  }
}
