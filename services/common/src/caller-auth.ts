import { createHash } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { CallerGrants, CallerOperation, IntrospectReply } from '@cz/contracts';
import { envInt } from './config';
import { AppError } from './errors';
import { TtlCache } from './keyclient';

/*
 * Who is calling a service's writes and internal reads, and what may it do. Two kinds of
 * credential, both answered by the key service (the only place grants live):
 *
 * - `Authorization: Bearer cks_…`: a per-caller credential issued under dual control; this service
 *   asks the key service who holds it (POST /v1/callers/introspect, with its own credential).
 * - a TLS client certificate from the institution's CA, verified by the TLS layer
 *   (`socket.authorized`): its subject CN is the caller's name (GET /v1/callers/:name/grants).
 *
 * A bearer header wins when both are present. Answers are cached per SM3 of the credential (never
 * the credential itself) for at most 30 s, unknown/revoked ones briefly too, so a revocation takes
 * effect here within the cache window. When the key service cannot answer, the request is refused
 * with 503: never fail open.
 */

/** The key service's caller lookups (RemoteKeyProvider implements them). */
export interface CallerDirectory {
  introspectCaller(token: string): Promise<IntrospectReply>;
  callerGrants(name: string): Promise<CallerGrants | undefined>;
}

export interface CallerAuthOptions {
  directory: CallerDirectory;
  /** how long a known caller's grants are trusted without asking again (default and maximum 30 s) */
  cacheTtlMs?: number;
  /** how long an unknown or revoked credential is refused without asking again (default 5 s) */
  negativeCacheTtlMs?: number;
  /** credentials remembered at most (least recently used dropped first; default 10,000) */
  cacheMaxEntries?: number;
}

/** Revocation must reach every service within the key service's window (≤ 60 s end to end). */
export const MAX_CALLER_CACHE_MS = 30000;

/** Shape of a service credential; anything else is refused without a round trip. */
const SERVICE_TOKEN = /^cks_[A-Za-z0-9_-]{16,196}$/;
/** Shape of a caller name (contracts' PrincipalName) in a certificate's CN. */
const CALLER_NAME = /^[a-z][a-z0-9_.-]{0,63}$/;

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * A hook that authenticates the caller and checks it holds `operation`; use it as the route's
     * `onRequest` so that an unauthenticated body is never read.
     */
    requireCaller(
      operation: CallerOperation,
    ): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
  interface FastifyRequest {
    /** the authenticated caller (set by `requireCaller`), null on routes without it */
    caller: CallerGrants | null;
  }
}

const unauthenticated = (message: string) => new AppError(401, 'unauthorized', message);
const keyServiceUnavailable = () =>
  new AppError(
    503,
    'keyservice_unavailable',
    'the key service could not confirm who is calling; nothing was accepted, retry later',
  );

/** The authenticated caller of `request`; 401 if the route did not authenticate one. */
export function callerOf(request: FastifyRequest): CallerGrants {
  if (!request.caller) throw unauthenticated('a caller credential is required');
  return request.caller;
}

/** Whether `caller` may act for `corp` (its corps list it, or `*`). */
export const callerMayActFor = (caller: CallerGrants, corp: string): boolean =>
  caller.corps.includes('*') || caller.corps.includes(corp);

/** 403 `corp_not_allowed` unless the request's caller may act for `corp`; `what` adds to the reason. */
export function assertCorp(request: FastifyRequest, corp: string, what?: string): void {
  const caller = callerOf(request);
  if (callerMayActFor(caller, corp)) return;
  request.log.warn(
    { caller: caller.name, corpId: corp, route: request.routeOptions.url },
    'caller refused: corp not granted',
  );
  throw corpNotAllowed(caller.name, corp, what);
}

/** The 403 of a caller acting for a corp it was not granted; `what` adds to the reason. */
export const corpNotAllowed = (caller: string, corp: string, what?: string) =>
  new AppError(
    403,
    'corp_not_allowed',
    `caller ${caller} may not act for corp ${corp}${what ? ` (${what})` : ''}`,
  );

/** A short, non-reversible tag of a credential for logs and cache keys. */
const fingerprintOf = (token: string) => createHash('sm3').update(token, 'utf8').digest('hex');

type Credential = { kind: 'token'; token: string } | { kind: 'certificate'; name: string };

/** The credential a request presents, or a reason why it presents none usable. */
function credentialOf(request: FastifyRequest): Credential | { refused: string } {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return { refused: 'malformed_authorization' };
    const token = match[1]!;
    if (!SERVICE_TOKEN.test(token)) return { refused: 'not_a_service_credential' };
    return { kind: 'token', token };
  }
  const socket = request.raw.socket;
  if (socket instanceof TLSSocket && socket.authorized) {
    // typed as a string, but a subject with two CNs gives an array: that names no one caller
    const name: unknown = socket.getPeerCertificate().subject.CN;
    if (typeof name !== 'string' || !CALLER_NAME.test(name))
      return { refused: 'certificate_without_caller_name' };
    return { kind: 'certificate', name };
  }
  return { refused: 'no_credential' };
}

/**
 * Decorates `app.requireCaller(operation)` and `request.caller`. 401 for a missing, malformed,
 * unknown or revoked credential, 403 `operation_not_allowed` for a caller without `operation`,
 * 503 `keyservice_unavailable` when the key service cannot answer. Failed attempts are logged with
 * the reason and a fingerprint of the credential, never the credential.
 */
export const callerAuthPlugin = fp<CallerAuthOptions>(
  async (app: FastifyInstance, options) => {
    const ttlMs = Math.min(options.cacheTtlMs ?? MAX_CALLER_CACHE_MS, MAX_CALLER_CACHE_MS);
    const negativeTtlMs = Math.min(options.negativeCacheTtlMs ?? 5000, ttlMs);
    // null = known to be unknown or revoked
    const answers = new TtlCache<CallerGrants | null>(ttlMs, options.cacheMaxEntries ?? 10000);
    const inflight = new Map<string, Promise<CallerGrants | null>>();

    const lookUp = async (credential: Credential): Promise<CallerGrants | null> => {
      const cacheKey =
        credential.kind === 'token' ? `t:${fingerprintOf(credential.token)}` : `c:${credential.name}`;
      const cached = answers.get(cacheKey);
      if (cached !== undefined) return cached;
      let pending = inflight.get(cacheKey);
      if (!pending) {
        pending = (async () => {
          let grants: CallerGrants | null;
          if (credential.kind === 'token') {
            const reply = await options.directory.introspectCaller(credential.token);
            grants = reply.active ? reply.caller : null;
          } else {
            grants = (await options.directory.callerGrants(credential.name)) ?? null;
          }
          answers.set(cacheKey, grants, grants ? ttlMs : negativeTtlMs);
          return grants;
        })().finally(() => inflight.delete(cacheKey));
        inflight.set(cacheKey, pending);
      }
      return pending;
    };

    const refuse = (request: FastifyRequest, reason: string, credential?: Credential) => {
      request.log.warn(
        {
          reason,
          route: request.routeOptions.url,
          ...(credential?.kind === 'token'
            ? { credential: fingerprintOf(credential.token).slice(0, 12) }
            : {}),
          ...(credential?.kind === 'certificate' ? { certificateName: credential.name } : {}),
        },
        'caller authentication failed',
      );
    };

    app.decorateRequest('caller', null);
    app.decorate('requireCaller', (operation: CallerOperation) => {
      return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
        const credential = credentialOf(request);
        if ('refused' in credential) {
          refuse(request, credential.refused);
          void reply.header('www-authenticate', 'Bearer realm="cunzheng"');
          throw unauthenticated(
            credential.refused === 'no_credential'
              ? 'a caller credential is required (Authorization: Bearer, or a client certificate)'
              : 'the caller credential is not usable here',
          );
        }
        let grants: CallerGrants | null;
        try {
          grants = await lookUp(credential);
        } catch (err) {
          request.log.error(
            { err, route: request.routeOptions.url },
            'caller authentication: the key service did not answer',
          );
          throw keyServiceUnavailable();
        }
        if (!grants) {
          refuse(request, 'unknown_or_revoked', credential);
          void reply.header('www-authenticate', 'Bearer realm="cunzheng", error="invalid_token"');
          throw unauthenticated('the caller credential is unknown or revoked');
        }
        if (!grants.operations.includes(operation)) {
          request.log.warn(
            {
              reason: 'operation_not_granted',
              caller: grants.name,
              operation,
              route: request.routeOptions.url,
            },
            'caller refused',
          );
          throw new AppError(403, 'operation_not_allowed', `caller ${grants.name} may not ${operation}`);
        }
        request.caller = grants;
      };
    });
  },
  { name: 'caller-auth' },
);

/**
 * A service's caller-auth settings: `directory` is its key client (CZ_KEYSERVICE_URL, its own
 * CZ_KEYSERVICE_TOKEN with `callers.introspect`); CZ_CALLER_CACHE_TTL_MS (≤ 30 s, default 30 s) and
 * CZ_CALLER_NEGATIVE_CACHE_TTL_MS (default 5 s) bound how long answers are trusted.
 */
export function callerAuthFromEnv(directory: CallerDirectory): CallerAuthOptions {
  return {
    directory,
    cacheTtlMs: envInt('CZ_CALLER_CACHE_TTL_MS', MAX_CALLER_CACHE_MS),
    negativeCacheTtlMs: envInt('CZ_CALLER_NEGATIVE_CACHE_TTL_MS', 5000),
  };
}
