import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorReply, SearchQuery, SearchReply } from '@cz/contracts';
import { IndexPurposes, badRequest, indexKeyFor } from '@cz/common';
import { QueryError, TokenHasher, parseQuery, type ParsedQuery } from '@cz/common/search';
import { appendAudit } from '../audit';
import { orgSubtreeUserIds, resolveCustomer } from '../directory';
import { callCondition, conversationCondition, loadAccess } from '../scope';
import { DEFAULT_LIMITS, SearchEngine, type PartyConstraint, type SearchLimits } from '../search/engine';
import { KIND_CALL, KIND_MESSAGE } from '../search/plan';
import { hitView } from '../search/views';
import { SEVERITY_RANK, alertSummaries } from '../search/alerts';

export interface SearchRouteOptions {
  /** bounds of one request's work (tests use small ones) */
  limits?: Partial<SearchLimits>;
}

/**
 * `GET /v1/search`: keyword search over sealed messages and calls with metadata filters, sorted by
 * time, keyset-paginated with signed cursors. Every search is recorded in the audit trail with
 * the ids it showed (the query with personal numbers masked).
 */
const routes: FastifyPluginAsyncTypebox<SearchRouteOptions> = async (app, options) => {
  const hasher = new TokenHasher(await indexKeyFor(app.keys, IndexPurposes.searchToken));
  const engine = new SearchEngine(app.db, app.keys, hasher, { ...DEFAULT_LIMITS, ...options.limits });

  app.get(
    '/v1/search',
    {
      preHandler: app.requireUser('auditor', 'risk_officer', 'admin'),
      schema: {
        querystring: SearchQuery,
        response: { 200: SearchReply, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply },
      },
    },
    async (request) => {
      const q = request.query;
      let query: ParsedQuery | undefined;
      if (q.q !== undefined) {
        try {
          query = parseQuery(q.q);
        } catch (err) {
          if (err instanceof QueryError) throw badRequest(err.code, err.message);
          throw err;
        }
      }
      const from = q.from ? new Date(q.from) : undefined;
      const to = q.to ? new Date(q.to) : undefined;
      if (from && to && from >= to) throw badRequest('bad_range', '`from` must be earlier than `to`');

      const parties: PartyConstraint[] = [];
      if (q.employee)
        parties.push({
          messageParticipants: [q.employee],
          callAgents: [q.employee],
          callCustomerIndexes: [],
        });
      let customerAudit: Record<string, unknown> | null = null;
      if (q.customer) {
        const customer = await resolveCustomer(app.db, app.keys, q.customer);
        customerAudit = { lookup: customer.lookup, refs: customer.refs };
        parties.push({
          messageParticipants: customer.externalIds,
          callAgents: [],
          callCustomerIndexes: customer.phoneIndexes,
        });
      }
      if (q.orgUnit) {
        const members = await orgSubtreeUserIds(app.db, q.orgUnit);
        if (!members) throw badRequest('unknown_org_unit', `no org unit ${q.orgUnit}`);
        parties.push({ messageParticipants: members, callAgents: members, callCustomerIndexes: [] });
      }
      const kinds = (q.kind ?? ['message', 'call']).map((k) => (k === 'message' ? KIND_MESSAGE : KIND_CALL));
      const direction = q.sort ?? 'desc';
      const limit = q.limit ?? 20;
      const alerts =
        q.hasAlert === true || q.alertSeverity !== undefined || q.alertKind !== undefined
          ? {
              minSeverity: SEVERITY_RANK[q.alertSeverity ?? 'info'],
              ...(q.alertKind === undefined ? {} : { kind: q.alertKind }),
            }
          : undefined;

      // the cursor is bound to everything that shapes the result, so it cannot jump between queries
      const fingerprint = createHash('sm3')
        .update(
          JSON.stringify([
            q.q ?? null,
            q.employee ?? null,
            q.customer ?? null,
            q.orgUnit ?? null,
            q.conversationId ?? null,
            q.msgtype ?? null,
            q.businessType ?? null,
            kinds,
            q.from ?? null,
            q.to ?? null,
            direction,
            ...(alerts ? [alerts] : []),
          ]),
        )
        .digest('hex')
        .slice(0, 24);
      const after = q.cursor ? app.cursors.decode(q.cursor, fingerprint) : undefined;

      // REG-05: results and counts hold only what the user's data scope allows
      const access = await loadAccess(app.db, request.user!);
      const scope = {
        message: conversationCondition(access, 'm.corp_id', 'm.conversation_id'),
        call: callCondition(access, 'c.corp_id', 'c.agent_id'),
      };
      const result = await engine.search({
        query,
        filters: {
          bounds: { ...(from ? { from } : {}), ...(to ? { to } : {}) },
          kinds: [...new Set(kinds)],
          ...(q.msgtype?.length ? { msgtypes: q.msgtype } : {}),
          ...(q.conversationId ? { conversation: q.conversationId } : {}),
          ...(q.businessType ? { businessType: q.businessType } : {}),
          ...(alerts ? { alerts } : {}),
          parties,
          scope,
        },
        direction,
        limit,
        after,
        count: q.count ?? true,
      });
      const summaries = await alertSummaries(
        app.db,
        result.items.map((i) => i.id),
      );
      const items = result.items.map((found) => hitView(found, summaries.get(found.id) ?? null));

      await appendAudit(
        app.db,
        {
          actor: request.user?.username ?? 'unknown',
          action: 'search',
          target: 'archive',
          detail: {
            hasQuery: q.q !== undefined,
            filters: {
              employee: q.employee ?? null,
              customer: customerAudit,
              orgUnit: q.orgUnit ?? null,
              conversationId: q.conversationId ?? null,
              msgtype: q.msgtype ?? null,
              businessType: q.businessType ?? null,
              kind: q.kind ?? null,
              from: q.from ?? null,
              to: q.to ?? null,
              alerts: alerts
                ? { hasAlert: true, severity: q.alertSeverity ?? null, kind: q.alertKind ?? null }
                : null,
            },
            page: Boolean(after),
            count: items.length,
            ids: result.items.map((i) => i.id),
            partial: result.partial,
          },
          // the phrase itself may name a customer: kept, but only sealed
          ...(q.q === undefined ? {} : { sensitive: { q: q.q } }),
        },
        { keys: app.keys },
      );
      return {
        items,
        nextCursor: result.next ? app.cursors.encode(result.next, fingerprint) : null,
        partial: result.partial,
        total: result.total,
        ignoredTerms: query?.ignored ?? [],
        examined: { scanned: result.scanned, verified: result.verified },
      };
    },
  );
};

export default routes;
