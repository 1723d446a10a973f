import type { DataSource } from 'typeorm';
import type { KeyProvider } from '@cz/common/crypto';
import type { TokenHasher } from '@cz/common/search';
import { chunkSql, driverSql, u64, type Position, type RangeSource, type RowFilter } from './plan';
import type { EngineRequest } from './engine-request';
import { DriverPlanner, type DriverChoice } from './driver-choice';
import { rowFilterFor } from './row-filter';
import { openCandidates, type Found } from './records';

/*
 * The search executor: choose the smallest driver (driver-choice.ts), scan it in growing chunks,
 * check the other conditions in SQL (row-filter.ts), open each remaining candidate and check the
 * query exactly (records.ts), stop at a full page or at the scan budget. No false negatives
 * (every index/metadata condition is necessary for a match, and the scan resumes exactly where it
 * stopped), no false positives (every hit passed `textMatches` on its own unsealed text).
 */

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

export class SearchEngine {
  private readonly planner: DriverPlanner;
  /** a query token's blind index, as an integer literal */
  private readonly tokenValue = (token: string): string => u64(this.hasher.hash(token));

  constructor(
    private readonly db: DataSource,
    private readonly keys: KeyProvider,
    private readonly hasher: TokenHasher,
    private readonly limits: SearchLimits = DEFAULT_LIMITS,
  ) {
    this.planner = new DriverPlanner(db, limits, this.tokenValue);
  }

  async search(request: EngineRequest): Promise<SearchResult> {
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
    const fullFilter = rowFilterFor(request, this.tokenValue);
    if (!fullFilter) return empty;
    const driver = await this.planner.choose(request, fullFilter.kinds);
    if (driver.ranges.length === 0) return empty;
    // Every row of a party's own index ranges is that party's: checking the party again would
    // read each candidate's message row (random reads in the largest table) for nothing.
    const drivenByParty = /^party(\d+)$/.exec(driver.name);
    const rowFilter = drivenByParty
      ? rowFilterFor(request, this.tokenValue, Number(drivenByParty[1]))!
      : fullFilter;

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
          const opened = await openCandidates(this.db, this.keys, slice, request.query);
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
  // scanning and counting

  private async chunk(
    ranges: RangeSource[],
    filter: RowFilter,
    request: EngineRequest,
    position: Position | undefined,
    size: number,
  ): Promise<{ t: Date; id: string; kind: number; ok: number | string }[]> {
    const driver = driverSql(ranges, request.filters.bounds, request.direction, position, size, filter.kinds);
    const { sql, params } = chunkSql(driver, filter, request.direction);
    return await this.db.query<{ t: Date; id: string; kind: number; ok: number | string }[]>(sql, params);
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
    request: EngineRequest,
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
    const [counted] = await this.db.query<{ scanned: number | string; matched: number | string }[]>(
      `SELECT COUNT(*) AS scanned, COALESCE(SUM(ok), 0) AS matched FROM (${sql}) x`,
      params,
    );
    const scanned = Number(counted!.scanned);
    const matched = Number(counted!.matched);
    if (scanned < cap) return { value: matched, relation: keywords ? 'lte' : 'eq' };
    return keywords ? { value: verifiedSoFar, relation: 'gte' } : { value: matched, relation: 'gte' };
  }
}

function lastOpened(candidates: { t: Date; id: string }[], openedUpTo: number): Position | undefined {
  const last = candidates[openedUpTo - 1];
  return last ? { t: new Date(last.t).getTime(), id: last.id } : undefined;
}
