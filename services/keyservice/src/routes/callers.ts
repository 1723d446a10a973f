import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '@cz/common';
import { CallerGrants, ErrorReply, IntrospectReply, IntrospectRequest } from '@cz/contracts';

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply };
const NameParams = Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9_.-]{0,63}$' }) });

/**
 * Services that authenticate their own callers (ingest, archiver, recordings) ask here who holds a
 * bearer credential, or what a caller named by its client certificate's CN may do. Both need the
 * asking service's own credential with `callers.introspect`; the answers are cached ≤ 30 s there.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/callers/introspect',
    {
      preHandler: app.requireOperation('callers.introspect'),
      schema: { body: IntrospectRequest, response: { 200: IntrospectReply, ...errors } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return app.keyStore.credentials.introspect(request.body.token);
    },
  );

  app.get(
    '/v1/callers/:name/grants',
    {
      preHandler: app.requireOperation('callers.introspect'),
      schema: { params: NameParams, response: { 200: CallerGrants, ...errors } },
    },
    async (request) => {
      const grants = await app.keyStore.credentials.grantsByName(request.params.name);
      if (!grants) throw new AppError(404, 'caller_not_found', `no active caller ${request.params.name}`);
      return grants;
    },
  );
};

export default routes;
