import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError, unauthorized, unavailable } from '@cz/common';

export interface KeysProxyOptions {
  /** the key service, e.g. http://127.0.0.1:8082; without it every proxied path is 503 */
  url?: string;
  /** requests per client address and window; key-service refusals (401/403) count double */
  rateLimit?: { max: number; windowMs: number };
  /** how to reach the key service (HTTPS verified against our CA: common's secureFetch); default fetch */
  fetch?: RelayFetch;
}

/** the part of `fetch` the relay uses; common's secureFetch has this shape */
export type RelayFetch = (
  url: URL,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
) => Promise<Response>;

// the key service never redirects: a redirect is an error, not a hop to somewhere else
const plainFetch: RelayFetch = (url, init) => fetch(url, { ...init, redirect: 'error' });

/** the console's prefix; `/v1/keyservice/keyrings` is the key service's `/v1/keyrings` */
export const KEYS_PROXY_PREFIX = '/v1/keyservice';

const RequestId = Type.String({ pattern: '^[0-9a-f]{32}$' });
const PrincipalName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_.-]*$' });
/** officers' credentials are short; anything longer is not one */
const BEARER = /^Bearer [A-Za-z0-9._~+/=-]{1,256}$/;
const BODY_LIMIT = 16 * 1024;
const UPSTREAM_TIMEOUT_MS = 15000;

interface Forwarded {
  method: 'GET' | 'POST';
  /** the key service's path with `:id` / `:name` parameters */
  path: string;
  /** query parameters passed on (GET lists) */
  query?: readonly string[];
}

/**
 * The officer endpoints of the key service the console may reach, and nothing else: never data
 * keys, index keys, caller introspection, init, enrolment, unseal (shares go to the key service
 * directly, never through a web server) or collecting an issued credential (CLI only).
 */
export const FORWARDED: readonly Forwarded[] = [
  { method: 'GET', path: '/v1/sys/status' },
  { method: 'GET', path: '/v1/keyrings' },
  { method: 'GET', path: '/v1/requests', query: ['status'] },
  { method: 'POST', path: '/v1/requests' },
  { method: 'GET', path: '/v1/requests/:id' },
  { method: 'POST', path: '/v1/requests/:id/approve' },
  { method: 'POST', path: '/v1/requests/:id/reject' },
  { method: 'GET', path: '/v1/rewrap', query: ['limit'] },
  { method: 'POST', path: '/v1/rewrap' },
  { method: 'GET', path: '/v1/rewrap/:id' },
  { method: 'GET', path: '/v1/audit/verify' },
  { method: 'GET', path: '/v1/audit/events', query: ['before', 'limit'] },
  { method: 'GET', path: '/v1/callers' },
  { method: 'POST', path: '/v1/callers' },
  { method: 'POST', path: '/v1/callers/:name/widen' },
  { method: 'POST', path: '/v1/callers/:name/reissue' },
  { method: 'POST', path: '/v1/callers/:name/revoke' },
  { method: 'GET', path: '/v1/officers' },
  { method: 'GET', path: '/v1/officers/me' },
  { method: 'POST', path: '/v1/officers/:name/revoke' },
];

/** A fixed window per client address, per replica: enough to stop hammering and guessing. */
class FixedWindowLimiter {
  private readonly hits = new Map<string, { windowStart: number; count: number }>();

  constructor(private readonly limit: { max: number; windowMs: number }) {}

  /** adds `weight` to the client's count; false once the window's budget is spent */
  take(client: string, weight = 1): boolean {
    const now = Date.now();
    if (this.hits.size > 10000) {
      for (const [key, entry] of this.hits) {
        if (now - entry.windowStart >= this.limit.windowMs) this.hits.delete(key);
      }
    }
    let entry = this.hits.get(client);
    if (!entry || now - entry.windowStart >= this.limit.windowMs) {
      entry = { windowStart: now, count: 0 };
      this.hits.set(client, entry);
    }
    entry.count += weight;
    return entry.count <= this.limit.max;
  }
}

/**
 * Security officers reach the key service from the console through this relay: the officer's own
 * bearer credential (not a portal session: officers are not portal users) is passed on, and
 * nothing else — no cookies, no portal session, no other header. Only the allow-listed officer
 * paths exist here, parameters are validated before a URL is built, bodies are capped, and the key
 * service's status and JSON come back as they are. The credential is never logged.
 */
const routes: FastifyPluginAsyncTypebox<KeysProxyOptions> = async (app, options) => {
  const limiter = new FixedWindowLimiter(options.rateLimit ?? { max: 120, windowMs: 60000 });
  const base = options.url?.replace(/\/+$/, '');
  const send = options.fetch ?? plainFetch;

  async function relay(request: FastifyRequest, reply: FastifyReply, target: Forwarded) {
    reply.header('cache-control', 'no-store');
    if (!limiter.take(request.ip)) {
      throw new AppError(
        429,
        'rate_limited',
        'too many key-service requests from this address; wait a minute',
      );
    }
    const authorization = request.headers.authorization ?? '';
    if (!BEARER.test(authorization)) {
      throw unauthorized('a security officer credential is required (Authorization: Bearer …)');
    }
    if (!base) throw unavailable('keyservice_not_configured', 'this portal has no key service configured');

    const params = (request.params ?? {}) as Record<string, string>;
    const path = target.path.replace(/:(id|name)/g, (_, key: string) =>
      encodeURIComponent(params[key] ?? ''),
    );
    const url = new URL(`${base}${path}`);
    const query = (request.query ?? {}) as Record<string, unknown>;
    for (const key of target.query ?? []) {
      const value = query[key];
      if (typeof value === 'string' || typeof value === 'number') url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    let body: string | undefined;
    if (target.method === 'POST' && request.body !== undefined && request.body !== null) {
      body = JSON.stringify(request.body);
      headers['content-type'] = 'application/json';
    }

    let upstream: Response;
    try {
      upstream = await send(url, {
        method: target.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
      });
    } catch (err) {
      request.log.warn({ err, path: target.path }, 'key service unreachable');
      throw unavailable('keyservice_unavailable', 'the key service is unreachable; retry later');
    }
    // refused credentials cost more: guessing through the relay runs out of budget fast
    if (upstream.status === 401 || upstream.status === 403) limiter.take(request.ip, 1);
    const payload: unknown = await upstream.json().catch(() => undefined);
    if (payload === undefined || payload === null || typeof payload !== 'object') {
      request.log.warn({ status: upstream.status, path: target.path }, 'key service answered without JSON');
      throw new AppError(
        502,
        'keyservice_bad_reply',
        `the key service answered ${upstream.status} without JSON`,
      );
    }
    return reply.code(upstream.status).send(payload);
  }

  for (const target of FORWARDED) {
    const params = target.path.includes(':id')
      ? Type.Object({ id: RequestId })
      : target.path.includes(':name')
        ? Type.Object({ name: PrincipalName })
        : undefined;
    app.route({
      method: target.method,
      url: `${KEYS_PROXY_PREFIX}${target.path.slice('/v1'.length)}`,
      bodyLimit: BODY_LIMIT,
      // the key service validates bodies and answers; the relay passes its reply on unchanged
      schema: params ? { params } : {},
      handler: (request, reply) => relay(request, reply, target),
    });
  }
};

export default routes;
