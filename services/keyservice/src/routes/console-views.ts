import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorReply,
  KeyAuditEventListQuery,
  KeyAuditEventListReply,
  OfficerSelfReply,
  RewrapJobListQuery,
  RewrapJobListReply,
  type KeyAuditEventView,
} from '@cz/contracts';
import { keyAuditHash } from '../core/audit';

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 503: ErrorReply };

/** the chain's first event links to this (as in core/audit.ts) */
const GENESIS = '0'.repeat(64);

interface AuditEventRow {
  seq: string | number;
  at: Date;
  actor: string;
  action: string;
  outcome: KeyAuditEventView['outcome'];
  code: string;
  target: string;
  detail: string | Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
}

const detailJsonOf = (detail: AuditEventRow['detail']): string =>
  typeof detail === 'string' ? detail : JSON.stringify(detail ?? {});

const parseDetail = (json: string): Record<string, unknown> => {
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
};

/**
 * Read-only listings for the security officers' console page: who signed in, recent rewrap jobs
 * and recent audit events, each with its own link checked. Officers only; nothing here changes state, and
 * nothing here is key material (the audit trail never holds any).
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('preHandler', app.requireOfficer);

  app.get(
    '/v1/officers/me',
    { schema: { response: { 200: OfficerSelfReply, ...errors } } },
    async (request) => ({
      name: request.principal!.name,
      kind: 'officer' as const,
    }),
  );

  app.get(
    '/v1/rewrap',
    { schema: { querystring: RewrapJobListQuery, response: { 200: RewrapJobListReply, ...errors } } },
    async (request) => {
      const rows = await app.db.query<{ id: string }[]>(
        'SELECT id FROM ks_rewrap_job ORDER BY started_at DESC, id LIMIT ?',
        [request.query.limit ?? 20],
      );
      // each through the rewrap part, which knows when a running job went stale
      const jobs = await Promise.all(rows.map((row) => app.keyStore.rewrapJobs.get(row.id)));
      return { jobs };
    },
  );

  app.get(
    '/v1/audit/events',
    {
      schema: { querystring: KeyAuditEventListQuery, response: { 200: KeyAuditEventListReply, ...errors } },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const before = request.query.before;
      // one row more than shown: the oldest shown event's predecessor, to check its link
      const rows = await app.db.query<AuditEventRow[]>(
        `SELECT seq, at, actor, action, outcome, code, target, detail, prev_hash, hash FROM ks_audit_event
         ${before ? 'WHERE seq < ?' : ''} ORDER BY seq DESC LIMIT ?`,
        before ? [before, limit + 1] : [limit + 1],
      );
      const shown = rows.slice(0, limit);
      const events = shown.map((row, index): KeyAuditEventView => {
        const seq = BigInt(row.seq);
        const predecessor = rows[index + 1];
        const expectedPrev =
          seq === 1n
            ? GENESIS
            : predecessor && BigInt(predecessor.seq) === seq - 1n
              ? predecessor.hash
              : null;
        const detailJson = detailJsonOf(row.detail);
        const recomputed = keyAuditHash(row.prev_hash, seq.toString(), new Date(row.at), row, detailJson);
        return {
          seq: seq.toString(),
          at: new Date(row.at).toISOString(),
          actor: row.actor,
          action: row.action,
          outcome: row.outcome,
          code: row.code,
          target: row.target,
          detail: parseDetail(detailJson),
          hash: row.hash,
          linkIntact: recomputed === row.hash && expectedPrev === row.prev_hash,
        };
      });
      const oldest = events[events.length - 1];
      return {
        events,
        nextBefore: oldest && rows.length > limit ? oldest.seq : null,
      };
    },
  );
};

export default routes;
