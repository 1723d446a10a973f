import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { AppError } from '@cz/common';
import type { Principal } from '../../core/principal';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: a security officer's credential */
    requireOfficer: (request: FastifyRequest) => Promise<void>;
    /** preHandler: a service's (caller's) credential */
    requireService: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const BEARER = /^Bearer (ck[os]_[A-Za-z0-9_-]{43})$/;
const AUDIT_EVERY_MS = 60000;

/**
 * Bearer credentials issued at init (officers `cko_…`, services `cks_…`); only their SM3 hashes
 * are stored. mTLS between services comes with the Helm chart. Failed attempts are audited, at
 * most once a minute per source address so a misconfigured caller cannot flood the trail.
 */
export default fp(
  async (app) => {
    app.decorateRequest('principal', null);
    const lastAudit = new Map<string, number>();

    const auditFailure = async (request: FastifyRequest, code: string) => {
      const key = `${request.ip}|${code}`;
      if (Date.now() - (lastAudit.get(key) ?? 0) < AUDIT_EVERY_MS) return;
      if (lastAudit.size > 1000) lastAudit.clear();
      lastAudit.set(key, Date.now());
      await app.keyStore.audit.authFailure('authenticate', code, {
        ip: request.ip,
        route: request.routeOptions.url ?? request.url,
      });
    };

    const require = (kind: Principal['kind']) => async (request: FastifyRequest) => {
      const match = BEARER.exec(request.headers.authorization ?? '');
      if (!match?.[1]) {
        await auditFailure(request, 'unauthorized');
        throw new AppError(
          401,
          'unauthorized',
          'a key-service credential is required (Authorization: Bearer …)',
        );
      }
      const principal = await app.keyStore.credentials.authenticate(match[1]);
      if (!principal) {
        await auditFailure(request, 'unauthorized');
        throw new AppError(401, 'unauthorized', 'unknown or revoked key-service credential');
      }
      if (principal.kind !== kind) {
        await auditFailure(request, 'forbidden');
        throw new AppError(
          403,
          'forbidden',
          kind === 'officer' ? 'this needs a security officer credential' : 'this needs a service credential',
        );
      }
      request.principal = principal;
    };

    app.decorate('requireOfficer', require('officer'));
    app.decorate('requireService', require('service'));
  },
  { name: 'cz-keys-auth', dependencies: ['cz-keystore'] },
);
