import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorReply, SearchQuery, SearchReply } from '@cz/contracts';
import { IndexPurposes, indexKeyFor } from '@cz/common';
import { TokenHasher } from '@cz/common/search';
import { appendAudit } from '../audit';
import { orgSubtreeUserIds, resolveCustomer } from '../directory';
import { callCondition, conversationCondition, loadAccess } from '../scope';
import { DEFAULT_LIMITS, SearchEngine, type SearchLimits } from '../search/engine';
import { SearchRequest, type PartyDirectory } from '../search/search-request';
import { hitView } from '../search/views';
import { alertSummaries } from '../search/alerts';

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
  const directory: PartyDirectory = {
    customer: (value) => resolveCustomer(app.db, app.keys, value),
    orgUnitMembers: (orgUnitId) => orgSubtreeUserIds(app.db, orgUnitId),
  };

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
      const search = await SearchRequest.from(request.query, directory);
      const after = search.cursor ? app.cursors.decode(search.cursor, search.fingerprint) : undefined;
      // REG-05: results and counts hold only what the user's data scope allows
      const access = await loadAccess(app.db, request.user!);
      const scope = {
        message: conversationCondition(access, 'm.corp_id', 'm.conversation_id'),
        call: callCondition(access, 'c.corp_id', 'c.agent_id'),
      };
      const result = await engine.search(search.forEngine(scope, after));
      const summaries = await alertSummaries(
        app.db,
        result.items.map((i) => i.id),
      );
      const items = result.items.map((found) => hitView(found, summaries.get(found.id) ?? null));
      const shown = { ids: result.items.map((i) => i.id), partial: result.partial };
      await appendAudit(app.db, search.auditEntry(request.user?.username ?? 'unknown', { after, shown }), {
        keys: app.keys,
      });
      return {
        items,
        nextCursor: result.next ? app.cursors.encode(result.next, search.fingerprint) : null,
        partial: result.partial,
        total: result.total,
        ignoredTerms: search.query?.ignored ?? [],
        examined: { scanned: result.scanned, verified: result.verified },
      };
    },
  );
};

export default routes;
