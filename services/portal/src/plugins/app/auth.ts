import { createHash, randomBytes } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { CurrentUser, Role } from '@cz/contracts';
import { forbidden, unauthorized } from '@cz/common';
import { findActiveUser } from '../../users';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: requires a valid session and, if given, one of the roles */
    requireUser: (...roles: Role[]) => (request: FastifyRequest) => Promise<void>;
    sessions: {
      create: (username: string) => Promise<{ token: string; expiresAt: Date }>;
      revoke: (token: string) => Promise<void>;
    };
  }
  interface FastifyRequest {
    user: CurrentUser | null;
    sessionToken: string | null;
  }
}

const tokenHash = (token: string) => createHash('sm3').update(token).digest('hex');

/**
 * Opaque bearer sessions: the token is random, only its SM3 hash is stored, so a database dump
 * does not yield usable sessions. Sessions live in the database so every replica accepts them.
 */
export default fp<{ sessionTtlMinutes: number }>(
  async (app, options) => {
    app.decorateRequest('user', null);
    app.decorateRequest('sessionToken', null);

    app.decorate('sessions', {
      create: async (username: string) => {
        const token = randomBytes(32).toString('base64url');
        const now = new Date();
        const expiresAt = new Date(now.getTime() + options.sessionTtlMinutes * 60000);
        await app.db.query(
          'INSERT INTO portal_session (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)',
          [tokenHash(token), username, now, expiresAt],
        );
        return { token, expiresAt };
      },
      revoke: async (token: string) => {
        await app.db.query('DELETE FROM portal_session WHERE token_hash = ?', [tokenHash(token)]);
      },
    });

    app.decorate('requireUser', (...roles: Role[]) => async (request: FastifyRequest) => {
      const header = request.headers.authorization ?? '';
      const match = /^Bearer ([A-Za-z0-9_-]{20,100})$/.exec(header);
      if (!match?.[1]) throw unauthorized();
      const rows: { username: string }[] = await app.db.query(
        'SELECT username FROM portal_session WHERE token_hash = ? AND expires_at > ?',
        [tokenHash(match[1]), new Date()],
      );
      const username = rows[0]?.username;
      const user = username ? await findActiveUser(app.db, username) : undefined;
      if (!user) throw unauthorized('session expired or invalid; please log in again');
      if (roles.length > 0 && !roles.some((role) => user.roles.includes(role))) {
        throw forbidden(`this needs one of the roles: ${roles.join(', ')}`);
      }
      request.user = { username: user.username, displayName: user.displayName, roles: user.roles };
      request.sessionToken = match[1];
    });
  },
  { name: 'cz-auth', dependencies: ['cz-database'] },
);
