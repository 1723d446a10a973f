import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  DataScopeInput,
  DataScopeView,
  ErrorReply,
  ProtectedEmployeeListReply,
  ProtectedEmployeeParams,
  ProtectedEmployeeQuery,
  ProtectedEmployeeView,
  UserScopeListReply,
  UserScopeParams,
  UserScopeView,
} from '@cz/contracts';
import { AppError, unauthorized } from '@cz/common';
import { appendAudit } from '../audit';
import {
  addProtected,
  dataScopeOf,
  listProtected,
  listUserScopes,
  removeProtected,
  setUserScope,
} from '../scope';

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply };

/**
 * Data scopes (REG-05): `GET /v1/auth/scope` is the caller's own scope (the console shows it);
 * the admin routes set users' scopes and keep the protected-employee list. Every change is
 * written into the audit trail with what it was before.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const actorOf = (user: { username: string } | null) => {
    if (!user) throw unauthorized();
    return user.username;
  };

  app.get(
    '/v1/auth/scope',
    { preHandler: app.requireUser(), schema: { response: { 200: DataScopeView, 401: ErrorReply } } },
    async (request) => {
      if (!request.user) throw unauthorized();
      return dataScopeOf(app.db, request.user);
    },
  );

  app.get(
    '/v1/admin/users',
    { preHandler: app.requireUser('admin'), schema: { response: { 200: UserScopeListReply, ...errors } } },
    async () => ({ items: await listUserScopes(app.db) }),
  );

  app.put(
    '/v1/admin/users/:username/scope',
    {
      preHandler: app.requireUser('admin'),
      schema: { params: UserScopeParams, body: DataScopeInput, response: { 200: UserScopeView, ...errors } },
    },
    async (request) => {
      const actor = actorOf(request.user);
      const { username } = request.params;
      const { before, after } = await setUserScope(app.db, username, request.body, actor);
      const summary = (view: UserScopeView) => ({
        mode: view.scope.mode,
        units: view.scope.units.map((u) => `${u.corpId}/${u.orgUnitId}`),
      });
      await appendAudit(app.db, {
        actor,
        action: 'scope.set',
        target: `user:${username}`,
        detail: { before: summary(before), after: summary(after) },
      });
      return after;
    },
  );

  app.get(
    '/v1/admin/protected-employees',
    {
      preHandler: app.requireUser('admin'),
      schema: {
        querystring: ProtectedEmployeeQuery,
        response: { 200: ProtectedEmployeeListReply, ...errors },
      },
    },
    async (request) => ({ items: await listProtected(app.db, request.query.corpId) }),
  );

  app.put(
    '/v1/admin/protected-employees/:corpId/:userid',
    {
      preHandler: app.requireUser('admin'),
      schema: {
        params: ProtectedEmployeeParams,
        response: { 200: ProtectedEmployeeView, 201: ProtectedEmployeeView, ...errors },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request.user);
      const { corpId, userid } = request.params;
      const { view, created } = await addProtected(app.db, corpId, userid, actor);
      if (created)
        await appendAudit(app.db, {
          actor,
          action: 'protected.add',
          target: `employee:${corpId}:${userid}`,
          detail: { corpId, userid },
        });
      return reply.code(created ? 201 : 200).send(view);
    },
  );

  app.delete(
    '/v1/admin/protected-employees/:corpId/:userid',
    {
      preHandler: app.requireUser('admin'),
      schema: { params: ProtectedEmployeeParams, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      const actor = actorOf(request.user);
      const { corpId, userid } = request.params;
      if (!(await removeProtected(app.db, corpId, userid)))
        throw new AppError(404, 'not_protected', `${userid} of ${corpId} is not on the protected list`);
      await appendAudit(app.db, {
        actor,
        action: 'protected.remove',
        target: `employee:${corpId}:${userid}`,
        detail: { corpId, userid },
      });
      return reply.code(204).send(null);
    },
  );
};

export default routes;
