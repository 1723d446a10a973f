import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AuditVerifyReply,
  CreateCallerRequest,
  CreateKeyRequest,
  ErrorReply,
  IssuedCredential,
  KeyRequestListQuery,
  KeyRequestListReply,
  KeyRequestView,
  KeyringListReply,
  RewrapJobRequest,
  RewrapJobView,
} from '@cz/contracts';

const errors = {
  400: ErrorReply,
  401: ErrorReply,
  403: ErrorReply,
  404: ErrorReply,
  409: ErrorReply,
  410: ErrorReply,
  503: ErrorReply,
};
const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{32}$' }) });

/** Security officers: keyrings, dual-control requests, rewrap jobs, the audit chain, service credentials. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('preHandler', app.requireOfficer);

  app.get('/v1/keyrings', { schema: { response: { 200: KeyringListReply, ...errors } } }, async () => ({
    keyrings: await app.keyStore.keyrings.list(),
  }));

  app.post(
    '/v1/requests',
    { schema: { body: CreateKeyRequest, response: { 201: KeyRequestView, ...errors } } },
    async (request, reply) =>
      reply.code(201).send(await app.keyStore.approvals.createRequest(request.principal!, request.body)),
  );

  app.get(
    '/v1/requests',
    { schema: { querystring: KeyRequestListQuery, response: { 200: KeyRequestListReply, ...errors } } },
    async (request) => ({ requests: await app.keyStore.approvals.listRequests(request.query.status) }),
  );

  app.get(
    '/v1/requests/:id',
    { schema: { params: IdParams, response: { 200: KeyRequestView, ...errors } } },
    async (request) => app.keyStore.approvals.getRequest(request.params.id),
  );

  app.post(
    '/v1/requests/:id/approve',
    { schema: { params: IdParams, response: { 200: KeyRequestView, ...errors } } },
    async (request) => app.keyStore.approvals.approve(request.principal!, request.params.id),
  );

  app.post(
    '/v1/requests/:id/reject',
    { schema: { params: IdParams, response: { 200: KeyRequestView, ...errors } } },
    async (request) => app.keyStore.approvals.reject(request.principal!, request.params.id),
  );

  app.post(
    '/v1/rewrap',
    { schema: { body: RewrapJobRequest, response: { 202: RewrapJobView, ...errors } } },
    async (request, reply) =>
      reply.code(202).send(await app.keyStore.rewrapJobs.start(request.principal!, request.body.dataClass)),
  );

  app.get(
    '/v1/rewrap/:id',
    { schema: { params: IdParams, response: { 200: RewrapJobView, ...errors } } },
    async (request) => app.keyStore.rewrapJobs.get(request.params.id),
  );

  app.get(
    '/v1/audit/verify',
    { schema: { response: { 200: AuditVerifyReply, ...errors } } },
    async (request) => app.keyStore.audit.verify(request.principal!),
  );

  app.post(
    '/v1/callers',
    { schema: { body: CreateCallerRequest, response: { 200: IssuedCredential, ...errors } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return app.keyStore.credentials.issueCaller(
        request.principal!,
        request.body.name,
        request.body.classes ?? [],
      );
    },
  );
};

export default routes;
