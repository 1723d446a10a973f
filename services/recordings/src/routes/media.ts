import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MediaParams, MediaQuery, StoredObjectReply } from '@cz/contracts';
import { AppError, assertCorp, badRequest, notFound } from '@cz/common';
import { conflictReply, keepSecondUpload, storedReplyOf, versionsOf } from '../conflicts';
import { mediaTypeOf } from '../http/media-types';
import { serveObject } from '../serve';
import { findLiveObject, type CompleteObject } from '../storage/objects';
import { storeObject, type StoreRequest } from '../storage/store-object';
import {
  limitedLength,
  refuseUpload,
  retainUntilFrom,
  storeUpload,
  streamBodies,
  uploaderFor,
  uploaderOnly,
  uploadErrors as errors,
} from '../uploads';

/**
 * Chat media (images, voice, video, files fetched by the Finance-SDK puller with GetMediaData).
 * `PUT /v1/media/{corpId}/{mediaId}` with `x-cz-md5: <md5 hex of the plaintext>` streams the bytes
 * sealed into MinIO under COMPLIANCE retention (5 years by default, REG-01). The md5 is checked
 * while streaming: a mismatch is 422 and nothing is stored, unless `x-cz-md5-mismatch: keep`, which
 * stores it and keeps both digests (for media WeCom keeps serving with a wrong md5sum). A repeated
 * PUT of stored media with the same md5 is 200 without reading the body (idempotent retry); one with
 * different content is kept locked as a conflicting version for review (409
 * `conflicting_version_kept`, the same answer without reading the body when that content was kept
 * already). Writers need `recordings.write` for the corp, readers `recordings.read`.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  streamBodies(app);
  const settings = app.recordingSettings;

  app.put(
    '/v1/media/:corpId/:mediaId',
    {
      onRequest: uploaderOnly(app),
      schema: {
        params: MediaParams,
        response: { 200: StoredObjectReply, 201: StoredObjectReply, ...errors },
      },
    },
    async (request, reply) => {
      const { corpId, mediaId } = request.params;
      const uploadedBy = uploaderFor(request, reply, corpId);
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
      const upload: StoreRequest = {
        kind: 'media',
        corpId,
        ownerId: mediaId,
        uploadedBy,
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
      };
      const live = await findLiveObject(app.db, 'media', corpId, mediaId);
      if (live?.status === 'complete') return existing(live as CompleteObject);

      const result = await storeUpload(reply, () => storeObject(app.storage, upload));
      if ('existing' in result) return existing(result.existing as CompleteObject);
      return reply.code(201).send(storedReplyOf(result.stored));

      /**
       * Media already stored: a version with the announced md5 answers at once without reading the
       * body (the connection stays open: Node discards the rest, so a client still streaming it
       * sees no reset, just this answer); other content is kept as a conflicting version.
       */
      async function existing(original: CompleteObject) {
        const sameMd5 = (row: CompleteObject) =>
          row.expected_md5 === expectedMd5 || row.plaintext_md5 === expectedMd5;
        if (sameMd5(original)) return reply.code(200).send(storedReplyOf(original));
        const versions = await versionsOf(app.db, original);
        const kept = versions.find((v) => v.conflictId !== undefined && sameMd5(v.object));
        if (kept?.conflictId)
          return reply.code(409).send(conflictReply(kept.conflictId, original, kept.object));
        return keepSecondUpload(app, reply, upload, original, versions);
      }
    },
  );

  app.get(
    '/v1/media/:corpId/:mediaId',
    {
      exposeHeadRoute: false,
      onRequest: app.requireCaller('recordings.read'),
      schema: { params: MediaParams, querystring: MediaQuery, response: errors },
    },
    async (request, reply) => {
      const { corpId, mediaId } = request.params;
      assertCorp(request, corpId, 'recordings');
      const row = await findLiveObject(app.db, 'media', corpId, mediaId);
      if (row?.status !== 'complete') throw notFound(`no media ${mediaId} of ${corpId}`);
      return serveObject(app, request, reply, row as CompleteObject, request.query.format);
    },
  );
};

export default routes;
