import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CorpId,
  ErrorReply,
  PullerCorpRequest,
  PullerKeyReply,
  PullerKeyRequest,
  PullerStatusReply,
} from '@cz/contracts';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError, badRequest, unauthorized } from '@cz/common';
import { saveCorpKey, saveCorpSource } from '../pull/pull-state-store';

const digest = (value: string) => createHash('sm3').update(value).digest();

/**
 * Status and per-corp configuration. Secrets and private keys are sealed before they touch the
 * database and are never returned. Writes need the bearer secret CZ_PULLER_ADMIN_TOKEN (and are
 * refused when none is configured).
 */
const routes: FastifyPluginAsyncTypebox<{ adminToken: string | undefined }> = async (app, { adminToken }) => {
  const expected = adminToken ? digest(adminToken) : undefined;
  const requireAdmin = async (request: FastifyRequest) => {
    if (!expected) {
      throw new AppError(
        403,
        'configuration_disabled',
        'set CZ_PULLER_ADMIN_TOKEN to configure corps and keys',
      );
    }
    const match = /^Bearer (\S{16,512})$/.exec(request.headers.authorization ?? '');
    if (!match?.[1]) throw unauthorized('the puller configuration needs its bearer secret');
    if (!timingSafeEqual(digest(match[1]), expected))
      throw new AppError(401, 'unauthorized', 'wrong bearer secret');
  };

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
        response: { 204: Type.Null(), 400: ErrorReply, 401: ErrorReply, 403: ErrorReply },
      },
      preHandler: requireAdmin,
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
        response: { 200: PullerKeyReply, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply },
      },
      preHandler: requireAdmin,
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
