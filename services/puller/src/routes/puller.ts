import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CorpId,
  ErrorReply,
  PullerCorpRequest,
  PullerKeyReply,
  PullerKeyRequest,
  PullerStatusReply,
} from '@cz/contracts';
import { badRequest } from '@cz/common';
import { saveCorpKey, saveCorpSource } from '../pull/store';

/**
 * Status and per-corp configuration. Secrets and private keys are sealed before they touch the
 * database and are never returned. These routes are for the operators' network only (the chart's
 * NetworkPolicy admits the portal's admin API, nothing else).
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/puller/status', { schema: { response: { 200: PullerStatusReply } } }, async () => ({
    sdkConfigured: app.pullSupervisor.sdkConfigured,
    corps: await app.pullSupervisor.status(),
  }));

  app.put(
    '/v1/puller/corps/:corpId',
    {
      schema: {
        params: Type.Object({ corpId: CorpId }),
        body: PullerCorpRequest,
        response: { 204: Type.Null(), 400: ErrorReply },
      },
    },
    async (request, reply) => {
      await saveCorpSource(
        app.db,
        app.keys,
        request.params.corpId,
        request.body.secret,
        request.body.enabled ?? true,
      );
      await app.pullSupervisor.scan();
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/v1/puller/corps/:corpId/keys/:publickeyVer',
    {
      schema: {
        params: Type.Object({ corpId: CorpId, publickeyVer: Type.Integer({ minimum: 1, maximum: 100000 }) }),
        body: PullerKeyRequest,
        response: { 200: PullerKeyReply, 400: ErrorReply },
      },
    },
    async (request) => {
      const { corpId, publickeyVer } = request.params;
      let fingerprint: string;
      try {
        fingerprint = await saveCorpKey(app.db, app.keys, corpId, publickeyVer, request.body.privateKeyPem);
      } catch (err) {
        throw badRequest('invalid_private_key', `not a usable RSA private key: ${(err as Error).message}`);
      }
      // a running puller takes the new key at once and retries what was quarantined for lack of it
      app.pullSupervisor.puller(corpId)?.reloadKeys();
      return { corpId, publickeyVer, publicKeySha256: fingerprint };
    },
  );
};

export default routes;
