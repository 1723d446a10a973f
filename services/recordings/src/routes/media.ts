import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MediaParams, MediaQuery, StoredObjectReply } from '@cz/contracts';
import { AppError, badRequest, notFound } from '@cz/common';
import { mediaTypeOf } from '../http/media-types';
import { serveObject } from '../serve';
import { findLiveObject, type CompleteObject } from '../storage/objects';
import {
  limitedLength,
  refuseUpload,
  retainUntilFrom,
  storedReply,
  storeUpload,
  streamBodies,
  uploadErrors as errors,
} from '../uploads';

/**
 * Chat media (images, voice, video, files fetched by the Finance-SDK puller with GetMediaData).
 * `PUT /v1/media/{corpId}/{mediaId}` with `x-cz-md5: <md5 hex of the plaintext>` streams the bytes
 * sealed into MinIO under COMPLIANCE retention (5 years by default, REG-01). The md5 is checked
 * while streaming: a mismatch is 422 and nothing is stored, unless `x-cz-md5-mismatch: keep`, which
 * stores it and keeps both digests (for media WeCom keeps serving with a wrong md5sum). A repeated
 * PUT of stored media with the same md5 is 200 without reading the body (idempotent retry).
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  streamBodies(app);
  const settings = app.recordingSettings;

  app.put(
    '/v1/media/:corpId/:mediaId',
    {
      preHandler: app.requireServiceToken('write'),
      schema: {
        params: MediaParams,
        response: { 200: StoredObjectReply, 201: StoredObjectReply, ...errors },
      },
    },
    async (request, reply) => {
      const { corpId, mediaId } = request.params;
      const md5Header = request.headers['x-cz-md5'];
      if (typeof md5Header !== 'string' || !/^[0-9a-fA-F]{32}$/.test(md5Header)) {
        refuseUpload(
          reply,
          badRequest('bad_md5_header', 'x-cz-md5 must be the 32-hex-digit md5 of the content'),
        );
      }
      const expectedMd5 = md5Header.toLowerCase();
      const policy = request.headers['x-cz-md5-mismatch'];
      if (policy !== undefined && policy !== 'keep' && policy !== 'reject') {
        refuseUpload(reply, badRequest('bad_md5_policy', 'x-cz-md5-mismatch must be keep or reject'));
      }
      const declared = request.headers['content-type'];
      const contentType = declared === undefined ? 'application/octet-stream' : mediaTypeOf(declared);
      if (!contentType) {
        refuseUpload(
          reply,
          new AppError(415, 'unsupported_media_type', 'Content-Type must be a type/subtype'),
        );
      }
      const length = limitedLength(request, reply, settings.maxMediaBytes, 'media');
      const live = await findLiveObject(app.db, 'media', corpId, mediaId);
      if (live?.status === 'complete') return existing(live as CompleteObject);

      const result = await storeUpload(app.storage, reply, {
        kind: 'media',
        corpId,
        ownerId: mediaId,
        contentType,
        expectedMd5,
        retainUntil: retainUntilFrom(new Date(), settings.mediaRetentionDays),
        meter: {
          limit: settings.maxMediaBytes,
          ...(length === undefined ? {} : { expectedLength: length }),
          expectedMd5,
          keepMismatch: policy === 'keep',
        },
        body: () => request.raw,
        isHttpRequest: true,
      });
      if ('existing' in result) return existing(result.existing as CompleteObject);
      return reply.code(201).send(withMismatch(result.stored));

      function existing(row: CompleteObject) {
        if (row.expected_md5 !== expectedMd5 && row.plaintext_md5 !== expectedMd5) {
          refuseUpload(
            reply,
            new AppError(
              409,
              'media_exists',
              `media ${mediaId} is already stored with md5 ${row.plaintext_md5}; archived media never change`,
            ),
          );
        }
        // the connection stays open: Node discards the rest of the body, so a client still
        // streaming it sees no reset, just this answer
        return reply.code(200).send(withMismatch(row));
      }
    },
  );

  app.get(
    '/v1/media/:corpId/:mediaId',
    {
      exposeHeadRoute: false,
      preHandler: app.requireServiceToken('read'),
      schema: { params: MediaParams, querystring: MediaQuery, response: errors },
    },
    async (request, reply) => {
      const { corpId, mediaId } = request.params;
      const row = await findLiveObject(app.db, 'media', corpId, mediaId);
      if (row?.status !== 'complete') throw notFound(`no media ${mediaId} of ${corpId}`);
      return serveObject(app, request, reply, row as CompleteObject, request.query.format);
    },
  );
};

function withMismatch(row: CompleteObject) {
  const stored = storedReply(row);
  return row.expected_md5 && row.expected_md5 !== row.plaintext_md5
    ? { ...stored, md5Mismatch: { expected: row.expected_md5, actual: row.plaintext_md5 } }
    : stored;
}

export default routes;
