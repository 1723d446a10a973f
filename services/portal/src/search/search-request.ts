import { createHash } from 'node:crypto';
import type { SearchQuery } from '@cz/contracts';
import { badRequest } from '@cz/common';
import { QueryError, parseQuery, type ParsedQuery } from '@cz/common/search';
import { SEVERITY_RANK } from './alerts';
import type { AlertFilter, EngineRequest, PartyConstraint, SearchFilters } from './engine-request';
import { KIND_CALL, KIND_MESSAGE, type Direction, type Position } from './plan';

/*
 * One search as the API received it, parsed and resolved once: the engine's filters, the cursor
 * fingerprint and the audit entry are all read from this object, so a filter is added in one
 * place. The user's data scope and the page position are per call, not part of the search.
 */

/** The party filters resolved against the directory (the portal's, so it is passed in). */
export interface PartyDirectory {
  /** the search API's `customer` value, resolved exactly through blind indexes */
  customer(value: string): Promise<{
    lookup: string;
    refs: string[];
    externalIds: string[];
    phoneIndexes: string[];
  }>;
  /** every employee of an org unit and the units below it; undefined for an unknown unit */
  orgUnitMembers(orgUnitId: string): Promise<string[] | undefined>;
}

/** What one page showed, for the audit entry. */
export interface ShownPage {
  ids: string[];
  partial: boolean;
}

export class SearchRequest {
  private constructor(
    /** the request's query string, as validated by the schema */
    private readonly params: SearchQuery,
    readonly query: ParsedQuery | undefined,
    /** every condition but the user's data scope */
    readonly filters: Omit<SearchFilters, 'scope'>,
    /** how the customer filter was resolved (the audit keeps this, not the value typed) */
    private readonly customer: { lookup: string; refs: string[] } | null,
    /** the requested kinds as numbers, in the order and with the repeats given (fingerprinted so) */
    private readonly requestedKinds: number[],
  ) {}

  /** Parses and checks the query string and resolves its parties; 400 on bad input. */
  static async from(params: SearchQuery, directory: PartyDirectory): Promise<SearchRequest> {
    let query: ParsedQuery | undefined;
    if (params.q !== undefined) {
      try {
        query = parseQuery(params.q);
      } catch (err) {
        if (err instanceof QueryError) throw badRequest(err.code, err.message);
        throw err;
      }
    }
    const from = params.from ? new Date(params.from) : undefined;
    const to = params.to ? new Date(params.to) : undefined;
    if (from && to && from >= to) throw badRequest('bad_range', '`from` must be earlier than `to`');

    const parties: PartyConstraint[] = [];
    if (params.employee)
      parties.push({
        messageParticipants: [params.employee],
        callAgents: [params.employee],
        callCustomerIndexes: [],
      });
    let customer: { lookup: string; refs: string[] } | null = null;
    if (params.customer) {
      const resolved = await directory.customer(params.customer);
      customer = { lookup: resolved.lookup, refs: resolved.refs };
      parties.push({
        messageParticipants: resolved.externalIds,
        callAgents: [],
        callCustomerIndexes: resolved.phoneIndexes,
      });
    }
    if (params.orgUnit) {
      const members = await directory.orgUnitMembers(params.orgUnit);
      if (!members) throw badRequest('unknown_org_unit', `no org unit ${params.orgUnit}`);
      parties.push({ messageParticipants: members, callAgents: members, callCustomerIndexes: [] });
    }
    const kinds = (params.kind ?? ['message', 'call']).map((k) =>
      k === 'message' ? KIND_MESSAGE : KIND_CALL,
    );
    const alerts: AlertFilter | undefined =
      params.hasAlert === true || params.alertSeverity !== undefined || params.alertKind !== undefined
        ? {
            minSeverity: SEVERITY_RANK[params.alertSeverity ?? 'info'],
            ...(params.alertKind === undefined ? {} : { kind: params.alertKind }),
          }
        : undefined;
    const filters: Omit<SearchFilters, 'scope'> = {
      bounds: { ...(from ? { from } : {}), ...(to ? { to } : {}) },
      kinds: [...new Set(kinds)],
      ...(params.msgtype?.length ? { msgtypes: params.msgtype } : {}),
      ...(params.conversationId ? { conversation: params.conversationId } : {}),
      ...(params.businessType ? { businessType: params.businessType } : {}),
      ...(alerts ? { alerts } : {}),
      parties,
    };
    return new SearchRequest(params, query, filters, customer, kinds);
  }

  get direction(): Direction {
    return this.params.sort ?? 'desc';
  }

  get limit(): number {
    return this.params.limit ?? 20;
  }

  /** the first page counts the matches unless the caller opted out */
  get count(): boolean {
    return this.params.count ?? true;
  }

  /** the page cursor given, if any (opaque here; the route's codec checks it against the fingerprint) */
  get cursor(): string | undefined {
    return this.params.cursor;
  }

  /**
   * Binds a page cursor to everything that shapes the result, so a cursor cannot jump between
   * queries. The values are the query string's, as typed (not resolved), in a fixed order.
   */
  get fingerprint(): string {
    const p = this.params;
    const alerts = this.filters.alerts;
    return createHash('sm3')
      .update(
        JSON.stringify([
          p.q ?? null,
          p.employee ?? null,
          p.customer ?? null,
          p.orgUnit ?? null,
          p.conversationId ?? null,
          p.msgtype ?? null,
          p.businessType ?? null,
          this.requestedKinds,
          p.from ?? null,
          p.to ?? null,
          this.direction,
          ...(alerts ? [alerts] : []),
        ]),
      )
      .digest('hex')
      .slice(0, 24);
  }

  /** The engine's request for one page of this search within the user's data scope. */
  forEngine(scope: SearchFilters['scope'], after: Position | undefined): EngineRequest {
    return {
      query: this.query,
      filters: { ...this.filters, scope },
      direction: this.direction,
      limit: this.limit,
      after,
      count: this.count,
    };
  }

  /**
   * REG-04: the audit entry of one page: the filters and what it showed, without personal data;
   * the phrase typed may name a customer, so it is kept, but only sealed.
   */
  auditEntry(actor: string, page: { after: Position | undefined; shown: ShownPage }) {
    const p = this.params;
    return {
      actor,
      action: 'search',
      target: 'archive',
      detail: {
        hasQuery: p.q !== undefined,
        filters: {
          employee: p.employee ?? null,
          customer: this.customer,
          orgUnit: p.orgUnit ?? null,
          conversationId: p.conversationId ?? null,
          msgtype: p.msgtype ?? null,
          businessType: p.businessType ?? null,
          kind: p.kind ?? null,
          from: p.from ?? null,
          to: p.to ?? null,
          alerts: this.filters.alerts
            ? { hasAlert: true, severity: p.alertSeverity ?? null, kind: p.alertKind ?? null }
            : null,
        },
        page: Boolean(page.after),
        count: page.shown.ids.length,
        ids: page.shown.ids,
        partial: page.shown.partial,
      },
      ...(p.q === undefined ? {} : { sensitive: { q: p.q } }),
    };
  }
}
