import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { AppError, unauthorized } from '@cz/common';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: the caller must present the service's bearer secret for reading or writing */
    requireServiceToken: (access: 'read' | 'write') => (request: FastifyRequest) => Promise<void>;
  }
}

const digest = (value: string) => createHash('sm3').update(value).digest();

/**
 * Service-to-service authentication, interim: one shared bearer secret per access (the portal holds
 * the read secret; uploads need the write secret when one is configured). The key-service issue
 * replaces these with per-service credentials.
 */
export default fp<{ readToken: string; writeToken?: string }>(
  async (app, { readToken, writeToken }) => {
    const expected = { read: digest(readToken), write: writeToken ? digest(writeToken) : undefined };
    app.decorate('requireServiceToken', (access: 'read' | 'write') => async (request: FastifyRequest) => {
      const want = expected[access];
      if (!want) return;
      const match = /^Bearer (\S{16,512})$/.exec(request.headers.authorization ?? '');
      if (!match?.[1]) throw unauthorized('this service needs its bearer secret');
      if (!timingSafeEqual(digest(match[1]), want))
        throw new AppError(401, 'unauthorized', 'wrong bearer secret');
    });
  },
  { name: 'cz-service-auth' },
);
