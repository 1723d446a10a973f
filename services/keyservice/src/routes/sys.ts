import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorReply, KeyInitReply, KeyInitRequest, KeyServiceStatus, UnsealRequest } from '@cz/contracts';

/** Initialisation (once), status and the Shamir unseal; seal needs an officer. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/sys/status', { schema: { response: { 200: KeyServiceStatus } } }, async () =>
    app.keyStore.sealing.status(),
  );

  app.post(
    '/v1/sys/init',
    {
      schema: {
        body: KeyInitRequest,
        response: { 200: KeyInitReply, 400: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) => {
      // the reply holds the shares and credentials: no proxy or browser may keep a copy
      reply.header('cache-control', 'no-store');
      return app.keyStore.sealing.init(request.body);
    },
  );

  app.post(
    '/v1/sys/unseal',
    {
      schema: {
        body: UnsealRequest,
        response: { 200: KeyServiceStatus, 400: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => app.keyStore.sealing.unseal(request.body),
  );

  app.post(
    '/v1/sys/seal',
    {
      preHandler: app.requireOfficer,
      schema: { response: { 200: KeyServiceStatus, 401: ErrorReply, 403: ErrorReply } },
    },
    async (request) => app.keyStore.sealing.sealNow(request.principal!),
  );
};

export default routes;
