import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CurrentUser, ErrorReply, LoginReply, LoginRequest } from '@cz/contracts';
import { unauthorized } from '@cz/common';
import { appendAudit } from '../audit';
import { DUMMY_PASSWORD_HASH, findActiveUser, verifyPassword } from '../users';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/auth/login',
    {
      schema: { body: LoginRequest, response: { 200: LoginReply, 401: ErrorReply } },
    },
    async (request) => {
      const { username, password } = request.body;
      const user = await findActiveUser(app.db, username);
      const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (!user || !valid) {
        await appendAudit(app.db, {
          actor: username,
          action: 'auth.login_failed',
          target: 'portal',
          detail: { ip: request.ip },
        });
        throw unauthorized('wrong username or password');
      }
      const session = await app.sessions.create(user.username);
      await appendAudit(app.db, {
        actor: user.username,
        action: 'auth.login',
        target: 'portal',
        detail: { ip: request.ip },
      });
      return {
        token: session.token,
        expiresAt: session.expiresAt.toISOString(),
        user: { username: user.username, displayName: user.displayName, roles: user.roles },
      };
    },
  );

  app.get(
    '/v1/auth/me',
    { preHandler: app.requireUser(), schema: { response: { 200: CurrentUser, 401: ErrorReply } } },
    async (request) => {
      if (!request.user) throw unauthorized();
      return request.user;
    },
  );

  app.post('/v1/auth/logout', { preHandler: app.requireUser() }, async (request, reply) => {
    if (request.sessionToken) await app.sessions.revoke(request.sessionToken);
    return reply.code(204).send();
  });
};

export default routes;
