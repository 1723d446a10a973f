import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  DataKeyReply,
  DataKeyRequest,
  ErrorReply,
  IndexKeyReply,
  IndexKeyRequest,
  RewrapBlobsReply,
  RewrapBlobsRequest,
  UnwrapReply,
  WrappedKeyJson,
} from '@cz/contracts';
import type { IssuedDataKey, WrappedInput } from '../core/data-keys';

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 410: ErrorReply, 503: ErrorReply };

const toReply = (key: IssuedDataKey): DataKeyReply => {
  const reply: DataKeyReply = {
    plaintext: key.plaintext.toString('base64url'),
    kekId: key.kekId,
    kekVersion: key.kekVersion,
    wrapped: key.wrapped.toString('base64url'),
  };
  if (key.useUntil) reply.useUntil = key.useUntil.toISOString();
  return reply;
};

const fromJson = (item: WrappedKeyJson): WrappedInput => ({
  kekId: item.kekId,
  kekVersion: item.kekVersion,
  wrapped: Buffer.from(item.wrapped, 'base64url'),
});

/**
 * The services' API: data keys in plaintext go only to the authenticated service that asked, if it
 * is granted the operation (keys.seal, keys.unwrap, keys.index, keys.rewrap) and the data class.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const noStore = async (_request: unknown, reply: { header: (k: string, v: string) => unknown }) => {
    reply.header('cache-control', 'no-store');
  };

  app.post(
    '/v1/datakeys/daily',
    {
      preHandler: [app.requireOperation('keys.seal'), noStore],
      schema: { body: DataKeyRequest, response: { 200: DataKeyReply, ...errors } },
    },
    async (request) =>
      toReply(await app.keyStore.dataKeys.dailyKey(request.principal!, request.body.dataClass)),
  );

  app.post(
    '/v1/datakeys/generate',
    {
      preHandler: [app.requireOperation('keys.seal'), noStore],
      schema: { body: DataKeyRequest, response: { 200: DataKeyReply, ...errors } },
    },
    async (request) =>
      toReply(await app.keyStore.dataKeys.generateDataKey(request.principal!, request.body.dataClass)),
  );

  app.post(
    '/v1/datakeys/unwrap',
    {
      preHandler: [app.requireOperation('keys.unwrap'), noStore],
      schema: { body: WrappedKeyJson, response: { 200: UnwrapReply, ...errors } },
    },
    async (request) => ({
      plaintext: (await app.keyStore.dataKeys.unwrap(request.principal!, fromJson(request.body))).toString(
        'base64url',
      ),
    }),
  );

  app.post(
    '/v1/indexkeys',
    {
      preHandler: [app.requireOperation('keys.index'), noStore],
      schema: { body: IndexKeyRequest, response: { 200: IndexKeyReply, ...errors } },
    },
    async (request) => ({
      key: (await app.keyStore.dataKeys.indexKey(request.principal!, request.body.purpose)).toString(
        'base64url',
      ),
    }),
  );

  app.post(
    '/v1/datakeys/rewrap',
    {
      preHandler: app.requireOperation('keys.rewrap'),
      schema: { body: RewrapBlobsRequest, response: { 200: RewrapBlobsReply, ...errors } },
    },
    async (request) => ({
      items: (
        await app.keyStore.dataKeys.rewrapBlobs(request.principal!, request.body.items.map(fromJson))
      ).map((item) => ({
        kekId: item.kekId,
        kekVersion: item.kekVersion,
        wrapped: item.wrapped.toString('base64url'),
      })),
    }),
  );
};

export default routes;
