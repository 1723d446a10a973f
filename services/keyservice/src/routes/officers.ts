import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AuditVerifyReply,
  CallerListReply,
  CollectedCredential,
  CreateCallerRequest,
  CreateKeyRequest,
  CustodyReasonRequest,
  ErrorReply,
  KeyRequestListQuery,
  KeyRequestListReply,
  KeyRequestView,
  KeyringListReply,
  RewrapJobRequest,
  RewrapJobView,
  OfficerListReply,
  RegisterOfficerKeyRequest,
  RejectKeyRequest,
  WidenCallerRequest,
} from '@cz/contracts';
import { AppError } from '@cz/common';
import { publicKeyFingerprint } from '../core/credentials';
import { isSm2PublicKey } from '../core/officer-envelope';

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
const NameParams = Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9_.-]{0,63}$' }) });

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
    { schema: { params: IdParams, body: RejectKeyRequest, response: { 200: KeyRequestView, ...errors } } },
    async (request) =>
      app.keyStore.approvals.reject(request.principal!, request.params.id, request.body.reason),
  );

  app.get(
    '/v1/requests/:id/credential',
    { schema: { params: IdParams, response: { 200: CollectedCredential, ...errors } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return app.keyStore.custody.collect(request.principal!, request.params.id);
    },
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

  // callers and officers: every change is a request that a second officer approves
  const filed = async (id: Promise<string>) => app.keyStore.approvals.getRequest(await id);

  app.get('/v1/callers', { schema: { response: { 200: CallerListReply, ...errors } } }, async () => ({
    callers: await app.keyStore.credentials.listCallers(),
  }));

  app.post(
    '/v1/callers',
    { schema: { body: CreateCallerRequest, response: { 202: KeyRequestView, ...errors } } },
    async (request, reply) => {
      const { name, classes, operations, corps, reason } = request.body;
      return reply
        .code(202)
        .send(
          await filed(
            app.keyStore.custody.request(
              request.principal!,
              'caller.issue',
              { name, classes: classes ?? [], operations: operations ?? [], corps: corps ?? [] },
              reason ?? `issue caller ${name}`,
            ),
          ),
        );
    },
  );

  app.post(
    '/v1/callers/:name/reissue',
    {
      schema: {
        params: NameParams,
        body: CustodyReasonRequest,
        response: { 202: KeyRequestView, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(
          await filed(
            app.keyStore.custody.request(
              request.principal!,
              'caller.reissue',
              { name: request.params.name },
              request.body.reason,
            ),
          ),
        ),
  );

  app.post(
    '/v1/callers/:name/widen',
    {
      schema: { params: NameParams, body: WidenCallerRequest, response: { 202: KeyRequestView, ...errors } },
    },
    async (request, reply) => {
      const { classes, operations, corps, reason } = request.body;
      return reply.code(202).send(
        await filed(
          app.keyStore.custody.request(
            request.principal!,
            'caller.widen',
            {
              name: request.params.name,
              classes: classes ?? [],
              operations: operations ?? [],
              corps: corps ?? [],
            },
            reason,
          ),
        ),
      );
    },
  );

  app.post(
    '/v1/callers/:name/revoke',
    {
      schema: {
        params: NameParams,
        body: CustodyReasonRequest,
        response: { 202: KeyRequestView, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(
          await filed(
            app.keyStore.custody.request(
              request.principal!,
              'caller.revoke',
              { name: request.params.name },
              request.body.reason,
            ),
          ),
        ),
  );

  app.get('/v1/officers', { schema: { response: { 200: OfficerListReply, ...errors } } }, async () => ({
    officers: await app.keyStore.credentials.listOfficers(),
  }));

  app.post(
    '/v1/officers/:name/revoke',
    {
      schema: {
        params: NameParams,
        body: CustodyReasonRequest,
        response: { 202: KeyRequestView, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(
          await filed(
            app.keyStore.custody.request(
              request.principal!,
              'officer.revoke',
              { name: request.params.name },
              request.body.reason,
            ),
          ),
        ),
  );

  app.post(
    '/v1/officers/me/public-key',
    { schema: { body: RegisterOfficerKeyRequest, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      const officer = request.principal!;
      await app.keyStore.audit.audited(
        officer,
        'officer.register_key',
        `officer:${officer.name}`,
        async () => {
          if (!isSm2PublicKey(request.body.publicKey)) {
            throw new AppError(400, 'invalid_public_key', 'not an SM2 public key (04 ‖ X ‖ Y on the curve)');
          }
          await app.keyStore.credentials.registerOfficerKey(officer, request.body.publicKey);
          await app.keyStore.audit.record({
            actor: `officer:${officer.name}`,
            action: 'officer.register_key',
            outcome: 'ok',
            target: `officer:${officer.name}`,
            detail: { fingerprint: publicKeyFingerprint(request.body.publicKey) },
          });
        },
      );
      return reply.code(204).send(null);
    },
  );
};

export default routes;
