import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from '@sinclair/typebox';
import {
  ErrorReply,
  LexiconDiffQuery,
  LexiconDiffReply,
  LexiconEntry,
  LexiconEntryListReply,
  LexiconEntryParams,
  LexiconEntryQuery,
  LexiconImportRefusal,
  LexiconImportReply,
  LexiconImportRequest,
  LexiconPublishReply,
  LexiconPublishRequest,
  LexiconTestReply,
  LexiconTestRequest,
  LexiconVersionListReply,
  LexiconVersionParams,
  RescanJobListReply,
  RescanJobParams,
  RescanJobView,
  RescanRequest,
  type Role,
} from '@cz/contracts';
import { AppError, unauthorized, unavailable } from '@cz/common';
import { appendAudit } from '../audit';
import type { RelayFetch } from './keys-proxy';

export interface ComplianceRelayOptions {
  /** the compliance service, e.g. https://127.0.0.1:8085; without it every lexicon path is 503 */
  url?: string;
  /** the portal's caller credential (granted compliance.lexicon) */
  token?: string;
  fetch?: RelayFetch;
}

/** who may do what in 词库管理 (publish is an admin action until maker-checker approvals exist) */
const LEXICON_ROLES = {
  read: ['auditor', 'risk_officer', 'admin'],
  edit: ['risk_officer', 'admin'],
  publish: ['admin'],
} as const satisfies Record<string, readonly Role[]>;

const UPSTREAM_TIMEOUT_MS = 30000;
/** 1 MiB of tester text is up to 3 MiB of UTF-8 */
const TEST_BODY_LIMIT = 4 * 1024 * 1024;
const IMPORT_BODY_LIMIT = 4 * 1024 * 1024;
const SMALL_BODY_LIMIT = 64 * 1024;

const errors = {
  400: ErrorReply,
  401: ErrorReply,
  403: ErrorReply,
  404: ErrorReply,
  409: ErrorReply,
  413: ErrorReply,
  502: ErrorReply,
  503: ErrorReply,
};

interface Upstream {
  status: number;
  /** parsed JSON, or the bytes of a CSV export */
  body: unknown;
  contentType: string;
  disposition: string | null;
}

interface AuditOf {
  action: string;
  target: (request: FastifyRequest, upstream: Upstream) => string;
  /** what changed, without the tester's text or anything a person typed beyond the lexicon's own words */
  detail: (request: FastifyRequest, upstream: Upstream) => Record<string, unknown>;
}

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  roles: readonly Role[];
  schema: { params?: TSchema; querystring?: TSchema; body?: TSchema; response: Record<number, TSchema> };
  bodyLimit?: number;
  /** recorded in the audit trail after the compliance service applied the change */
  audit?: AuditOf;
}

const paramsOf = (request: FastifyRequest) => (request.params ?? {}) as Record<string, string | number>;
const bodyOf = <T>(request: FastifyRequest) => request.body as T;
const entrySummary = (entry: LexiconEntry) => ({
  id: entry.id,
  kind: entry.kind,
  pattern: entry.pattern,
  ...(entry.near === undefined ? {} : { near: entry.near, within: entry.within }),
  category: entry.category,
  severity: entry.severity,
  enabled: entry.enabled,
});
const rescanSummary = (job: RescanJobView) => ({
  id: job.id,
  version: job.version,
  corpId: job.corpId,
  orgUnitId: job.orgUnitId,
  from: job.from,
  to: job.to,
  ratePerSecond: job.ratePerSecond,
});

/**
 * The lexicon routes of the console (词库管理), relayed to the compliance service: the same paths,
 * the person's session and role checked here, the portal's own caller credential and the
 * person's username (x-cz-actor) sent on, nothing else of the request (no cookies, no session).
 * Every change is written to the audit trail once the compliance service has applied it; the
 * tester's text is never recorded or logged.
 */
const LEXICON_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    url: '/v1/lexicon/versions',
    roles: LEXICON_ROLES.read,
    schema: { response: { 200: LexiconVersionListReply, ...errors } },
  },
  {
    method: 'GET',
    url: '/v1/lexicon/versions/:version/entries',
    roles: LEXICON_ROLES.read,
    schema: {
      params: LexiconVersionParams,
      querystring: LexiconEntryQuery,
      response: { 200: LexiconEntryListReply, ...errors },
    },
  },
  {
    method: 'GET',
    url: '/v1/lexicon/versions/:version/export',
    roles: LEXICON_ROLES.read,
    schema: { params: LexiconVersionParams, response: { 200: Type.String(), ...errors } },
  },
  {
    method: 'GET',
    url: '/v1/lexicon/draft/entries',
    roles: LEXICON_ROLES.read,
    schema: { querystring: LexiconEntryQuery, response: { 200: LexiconEntryListReply, ...errors } },
  },
  {
    method: 'PUT',
    url: '/v1/lexicon/draft/entries/:id',
    roles: LEXICON_ROLES.edit,
    bodyLimit: SMALL_BODY_LIMIT,
    schema: {
      params: LexiconEntryParams,
      body: LexiconEntry,
      response: { 200: LexiconEntry, 201: LexiconEntry, ...errors },
    },
    audit: {
      action: 'lexicon.entry.save',
      target: (request) => `lexicon-entry:${paramsOf(request).id}`,
      detail: (request, upstream) => ({
        created: upstream.status === 201,
        entry: entrySummary(bodyOf<LexiconEntry>(request)),
      }),
    },
  },
  {
    method: 'DELETE',
    url: '/v1/lexicon/draft/entries/:id',
    roles: LEXICON_ROLES.edit,
    schema: { params: LexiconEntryParams, response: { 204: Type.Null(), ...errors } },
    audit: {
      action: 'lexicon.entry.delete',
      target: (request) => `lexicon-entry:${paramsOf(request).id}`,
      detail: (request) => ({ id: paramsOf(request).id }),
    },
  },
  {
    method: 'POST',
    url: '/v1/lexicon/draft/import',
    roles: LEXICON_ROLES.edit,
    bodyLimit: IMPORT_BODY_LIMIT,
    schema: {
      body: LexiconImportRequest,
      response: {
        200: LexiconImportReply,
        ...errors,
        400: LexiconImportRefusal,
      },
    },
    audit: {
      action: 'lexicon.import',
      target: (_request, upstream) => `lexicon-draft:${(upstream.body as { draft?: number }).draft ?? ''}`,
      detail: (request, upstream) => {
        const reply = upstream.body as LexiconImportReply;
        const { csv, mode } = bodyOf<LexiconImportRequest>(request);
        return {
          mode,
          bytes: Buffer.byteLength(csv, 'utf8'),
          applied: reply.applied,
          added: reply.added,
          changed: reply.changed,
          removed: reply.removed,
        };
      },
    },
  },
  {
    method: 'DELETE',
    url: '/v1/lexicon/draft',
    roles: LEXICON_ROLES.edit,
    schema: { response: { 204: Type.Null(), ...errors } },
    audit: { action: 'lexicon.draft.discard', target: () => 'lexicon-draft', detail: () => ({}) },
  },
  {
    method: 'GET',
    url: '/v1/lexicon/diff',
    roles: LEXICON_ROLES.read,
    schema: { querystring: LexiconDiffQuery, response: { 200: LexiconDiffReply, ...errors } },
  },
  {
    method: 'POST',
    url: '/v1/lexicon/draft/publish',
    roles: LEXICON_ROLES.publish,
    bodyLimit: SMALL_BODY_LIMIT,
    schema: { body: LexiconPublishRequest, response: { 200: LexiconPublishReply, ...errors } },
    audit: {
      action: 'lexicon.publish',
      target: (_request, upstream) => `lexicon-version:${(upstream.body as LexiconPublishReply).version}`,
      detail: (request, upstream) => {
        const view = upstream.body as LexiconPublishReply;
        return {
          version: view.version,
          previous: view.previous,
          entryCount: view.entryCount,
          digest: view.digest,
          note: bodyOf<LexiconPublishRequest>(request).note,
          rescan: view.rescan ? rescanSummary(view.rescan) : null,
        };
      },
    },
  },
  {
    method: 'POST',
    url: '/v1/lexicon/test',
    roles: LEXICON_ROLES.read,
    bodyLimit: TEST_BODY_LIMIT,
    schema: { body: LexiconTestRequest, response: { 200: LexiconTestReply, ...errors } },
  },
  {
    method: 'POST',
    url: '/v1/lexicon/rescans',
    roles: LEXICON_ROLES.edit,
    bodyLimit: SMALL_BODY_LIMIT,
    schema: { body: RescanRequest, response: { 202: RescanJobView, ...errors } },
    audit: {
      action: 'lexicon.rescan.start',
      target: (_request, upstream) => `lexicon-rescan:${(upstream.body as RescanJobView).id}`,
      detail: (_request, upstream) => rescanSummary(upstream.body as RescanJobView),
    },
  },
  {
    method: 'GET',
    url: '/v1/lexicon/rescans',
    roles: LEXICON_ROLES.read,
    schema: { response: { 200: RescanJobListReply, ...errors } },
  },
  {
    method: 'GET',
    url: '/v1/lexicon/rescans/:id',
    roles: LEXICON_ROLES.read,
    schema: { params: RescanJobParams, response: { 200: RescanJobView, ...errors } },
  },
  {
    method: 'POST',
    url: '/v1/lexicon/rescans/:id/cancel',
    roles: LEXICON_ROLES.edit,
    schema: { params: RescanJobParams, response: { 200: RescanJobView, ...errors } },
    audit: {
      action: 'lexicon.rescan.cancel',
      target: (request) => `lexicon-rescan:${paramsOf(request).id}`,
      detail: (_request, upstream) => {
        const job = upstream.body as RescanJobView;
        return { id: job.id, status: job.status, scanned: job.scanned, alerts: job.alerts };
      },
    },
  },
];

// the compliance service never redirects: a redirect is an error, not a hop to somewhere else
const plainFetch: RelayFetch = (url, init) => fetch(url, { ...init, redirect: 'error' });

const routes: FastifyPluginAsyncTypebox<ComplianceRelayOptions> = async (app, options) => {
  const base = options.url?.replace(/\/+$/, '');
  const send = options.fetch ?? plainFetch;

  async function callCompliance(request: FastifyRequest, route: Route): Promise<Upstream> {
    if (!base || !options.token)
      throw unavailable('compliance_not_configured', 'this portal has no compliance service configured');
    const user = request.user;
    if (!user) throw unauthorized();
    const params = paramsOf(request);
    const path = route.url.replace(/:(version|id)/g, (_, key: string) =>
      encodeURIComponent(String(params[key] ?? '')),
    );
    const url = new URL(`${base}${path}`);
    // only the validated query goes on (the schema refuses anything else)
    for (const [key, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
        url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.token}`,
      // percent-encoded: a header carries Latin-1 only, a username may be Chinese
      'x-cz-actor': encodeURIComponent(user.username),
      accept: route.url.endsWith('/export') ? 'text/csv' : 'application/json',
    };
    let body: string | undefined;
    if (route.schema.body && request.body !== undefined && request.body !== null) {
      body = JSON.stringify(request.body);
      headers['content-type'] = 'application/json';
    }
    let upstream: Response;
    try {
      upstream = await send(url, {
        method: route.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
      });
    } catch (err) {
      request.log.warn({ err, route: route.url }, 'compliance service unreachable');
      throw unavailable('compliance_unavailable', 'the compliance service is unreachable; retry later');
    }
    const contentType = upstream.headers.get('content-type') ?? '';
    // bytes, not text(): a text decoder drops the export's BOM, which Excel needs
    const bytes = Buffer.from(await upstream.arrayBuffer().catch(() => new ArrayBuffer(0)));
    const text = bytes.toString('utf8');
    if (upstream.status === 401 || upstream.status === 403) {
      // the person was allowed here; the portal's own credential was refused: a deployment fault
      request.log.error(
        { status: upstream.status, route: route.url },
        'compliance service refused the portal',
      );
      throw unavailable(
        'compliance_refused',
        'the compliance service refused the portal; tell the administrator',
      );
    }
    if (upstream.status >= 500) {
      request.log.warn({ status: upstream.status, route: route.url }, 'compliance service failed');
      if (upstream.status === 503) {
        throw unavailable('compliance_unavailable', 'the compliance service is not ready; retry later');
      }
      throw new AppError(502, 'compliance_error', `the compliance service answered ${upstream.status}`);
    }
    let parsed: unknown = bytes;
    if (contentType.includes('json')) {
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        throw new AppError(502, 'compliance_bad_reply', 'the compliance service answered malformed JSON');
      }
    } else if (upstream.status !== 204 && !contentType.startsWith('text/csv')) {
      throw new AppError(
        502,
        'compliance_bad_reply',
        `the compliance service answered ${upstream.status} without JSON`,
      );
    }
    return {
      status: upstream.status,
      body: parsed,
      contentType,
      disposition: upstream.headers.get('content-disposition'),
    };
  }

  async function relay(request: FastifyRequest, reply: FastifyReply, route: Route) {
    reply.header('cache-control', 'no-store');
    const upstream = await callCompliance(request, route);
    if (upstream.status >= 400) {
      // the compliance service's refusal (bad entry, import errors, no draft…) reaches the console as it is
      const refusal =
        upstream.body !== null && typeof upstream.body === 'object'
          ? upstream.body
          : {
              code: 'compliance_refused_request',
              message: `the compliance service answered ${upstream.status}`,
            };
      return reply.code(upstream.status).send(refusal);
    }
    if (route.audit) {
      await appendAudit(app.db, {
        actor: request.user?.username ?? 'unknown',
        action: route.audit.action,
        target: route.audit.target(request, upstream),
        detail: route.audit.detail(request, upstream),
      });
    }
    if (upstream.status === 204) return reply.code(204).send(null);
    if (upstream.contentType.startsWith('text/csv')) {
      reply.type('text/csv; charset=utf-8');
      if (upstream.disposition) reply.header('content-disposition', upstream.disposition);
    }
    return reply.code(upstream.status).send(upstream.body);
  }

  for (const route of LEXICON_ROUTES) {
    app.route({
      method: route.method,
      url: route.url,
      // onRequest: a body (up to 4 MiB) is read only for a person allowed to send it
      onRequest: app.requireUser(...route.roles),
      bodyLimit: route.bodyLimit ?? SMALL_BODY_LIMIT,
      schema: route.schema,
      handler: (request, reply) => relay(request, reply, route),
    });
  }
};

export default fp(routes, { name: 'portal-lexicon-relay', dependencies: ['cz-auth'] });
