import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { AppError } from '@cz/common';
import type { CallerOperation } from '@cz/contracts';
import type { Principal } from '../../core/principal';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: a security officer's credential */
    requireOfficer: (request: FastifyRequest) => Promise<void>;
    /** preHandler: a service's (caller's) credential */
    requireService: (request: FastifyRequest) => Promise<void>;
    /** preHandler: a service's credential granted `operation` (deny by default) */
    requireOperation: (operation: CallerOperation) => (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const BEARER = /^Bearer (ck[os]_[A-Za-z0-9_-]{43})$/;
const AUDIT_EVERY_MS = 60000;

/**
 * Bearer credentials (officers `cko_…`, services `cks_…`); only their SM3 hashes are stored.
 * Failed attempts are audited, at most once a minute per source address and code so a
 * misconfigured caller cannot flood the trail; a refused operation is audited the same way.
 */
export default fp(
  async (app) => {
    app.decorateRequest('principal', null);
    const lastAudit = new Map<string, number>();

    const auditFailure = async (
      request: FastifyRequest,
      code: string,
      detail: Record<string, unknown> = {},
    ) => {
      const key = `${request.ip}|${code}|${JSON.stringify(detail)}`;
      if (Date.now() - (lastAudit.get(key) ?? 0) < AUDIT_EVERY_MS) return;
      if (lastAudit.size > 1000) lastAudit.clear();
      lastAudit.set(key, Date.now());
      await app.keyStore.audit.authFailure('authenticate', code, {
        ...detail,
        ip: request.ip,
        route: request.routeOptions.url ?? request.url.split('?')[0],
      });
    };

    const authenticate = async (request: FastifyRequest): Promise<Principal> => {
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
      return principal;
    };

    const require = (kind: Principal['kind']) => async (request: FastifyRequest) => {
      const principal = await authenticate(request);
      if (principal.kind !== kind) {
        await auditFailure(request, 'forbidden', { actor: `${principal.kind}:${principal.name}` });
        throw new AppError(
          403,
          'forbidden',
          kind === 'officer' ? 'this needs a security officer credential' : 'this needs a service credential',
        );
      }
      request.principal = principal;
    };

    const requireService = require('service');
    app.decorate('requireOfficer', require('officer'));
    app.decorate('requireService', requireService);
    app.decorate('requireOperation', (operation: CallerOperation) => async (request: FastifyRequest) => {
      await requireService(request);
      const principal = request.principal!;
      if (!principal.operations.includes(operation)) {
        await auditFailure(request, 'operation_not_allowed', {
          actor: `service:${principal.name}`,
          operation,
        });
        throw new AppError(
          403,
          'operation_not_allowed',
          `caller ${principal.name} is not granted ${operation}`,
        );
      }
    });
  },
  { name: 'cz-keys-auth', dependencies: ['cz-keystore'] },
);
