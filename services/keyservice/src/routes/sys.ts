import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  EnrolOfficerRequest,
  ErrorReply,
  KeyInitReply,
  KeyInitRequest,
  KeyServiceStatus,
  OfficerView,
  UnsealRequest,
} from '@cz/contracts';

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 409: ErrorReply };

/**
 * The ceremony: officers enrol their SM2 keys (before init, with the one-time bootstrap secret),
 * init once (same secret), then officers unseal with their own shares and credentials. Status is
 * public; unseal, its reset and seal need an officer.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/sys/status', { schema: { response: { 200: KeyServiceStatus } } }, async () =>
    app.keyStore.sealing.status(),
  );

  app.post(
    '/v1/sys/enrol',
    { schema: { body: EnrolOfficerRequest, response: { 201: OfficerView, ...errors } } },
    async (request, reply) => reply.code(201).send(await app.keyStore.sealing.enrol(request.body)),
  );

  app.post(
    '/v1/sys/init',
    { schema: { body: KeyInitRequest, response: { 200: KeyInitReply, ...errors } } },
    async (request, reply) => {
      // ciphertexts only, but no proxy or browser needs to keep a copy
      reply.header('cache-control', 'no-store');
      return app.keyStore.sealing.init(request.body);
    },
  );

  app.post(
    '/v1/sys/unseal',
    {
      preHandler: app.requireOfficer,
      schema: { body: UnsealRequest, response: { 200: KeyServiceStatus, ...errors } },
    },
    async (request) => app.keyStore.sealing.unseal(request.principal!, request.body),
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
