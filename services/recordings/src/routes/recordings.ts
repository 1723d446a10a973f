import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { RecordingParams, RecordingQuery, StoredObjectReply } from '@cz/contracts';
import { AppError, assertCorp, notFound } from '@cz/common';
import { announceRecording } from '../announce';
import { keepSecondUpload } from '../conflicts';
import { looksLike, recordingTypeOf, RecordingTypes, SNIFF_BYTES } from '../http/media-types';
import { serveObject } from '../serve';
import { findCompleteObject, type CompleteObject } from '../storage/objects';
import { storeObject, type StoreRequest } from '../storage/store-object';
import {
  limitedLength,
  refuseUpload,
  retainUntilFrom,
  storedReply,
  storeUpload,
  streamBodies,
  uploaderFor,
  uploaderOnly,
  uploadErrors as errors,
} from '../uploads';

/**
 * Call recordings. `PUT /v1/recordings/{callId}?corpId=` (caller with `recordings.write` for the
 * corp) streams audio (wav, mp3, amr) sealed into MinIO under COMPLIANCE retention and announces it
 * on `cz.call.v1`; the CDR must be archived first (409 otherwise: retry once ingest's 202 has been
 * archived). A second upload for the call never replaces the first: the same audio again is 200
 * with the stored recording, different audio is kept locked as a conflicting version for review
 * (409 `conflicting_version_kept`). `GET` (`recordings.read`) serves the original with Range.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  streamBodies(app);
  const settings = app.recordingSettings;

  app.put(
    '/v1/recordings/:callId',
    {
      onRequest: uploaderOnly(app),
      schema: {
        params: RecordingParams,
        querystring: RecordingQuery,
        response: { 200: StoredObjectReply, 201: StoredObjectReply, ...errors },
      },
    },
    async (request, reply) => {
      const { callId } = request.params;
      const { corpId } = request.query;
      const uploadedBy = uploaderFor(request, reply, corpId);
      const type = recordingTypeOf(request.headers['content-type']);
      if (!type) {
        refuseUpload(
          reply,
          new AppError(
            415,
            'unsupported_media_type',
            `a recording must be one of ${RecordingTypes.join(', ')}`,
          ),
        );
      }
      const length = limitedLength(request, reply, settings.maxRecordingBytes, 'recordings');
      const [call] = await app.db.query<{ id: string }[]>(
        'SELECT id FROM call_record WHERE corp_id = ? AND call_id = ?',
        [corpId, callId],
      );
      if (!call) {
        refuseUpload(
          reply,
          new AppError(
            409,
            'call_not_archived',
            `no CDR for call ${callId} of ${corpId} is archived yet: POST /v1/calls to ingest first, then retry`,
          ),
        );
      }
      const upload: StoreRequest = {
        kind: 'call',
        corpId,
        ownerId: callId,
        callPk: call.id,
        uploadedBy,
        contentType: type,
        retainUntil: retainUntilFrom(new Date(), settings.recordingRetentionDays),
        meter: {
          limit: settings.maxRecordingBytes,
          ...(length === undefined ? {} : { expectedLength: length }),
          sniff: { bytes: SNIFF_BYTES, matches: (head) => looksLike(type, head), declared: type },
        },
        body: () => request.raw,
        isHttpRequest: true,
      };
      const result = await storeUpload(reply, () => storeObject(app.storage, upload));
      if ('existing' in result) {
        // claimUpload answers `existing` only for a complete object
        return keepSecondUpload(app, reply, upload, result.existing as CompleteObject);
      }
      let announced = false;
      try {
        await announceRecording(app, result.stored);
        announced = true;
      } catch (err) {
        // stored and locked: the outbox sweep announces it once Kafka is back
        request.log.warn({ err, id: result.stored.id }, 'recording stored but not yet announced');
      }
      return reply.code(201).send({ ...storedReply(result.stored), announced });
    },
  );

  app.get(
    '/v1/recordings/:callId',
    {
      exposeHeadRoute: false,
      onRequest: app.requireCaller('recordings.read'),
      schema: { params: RecordingParams, querystring: RecordingQuery, response: errors },
    },
    async (request, reply) => {
      const { callId } = request.params;
      const { corpId, format } = request.query;
      assertCorp(request, corpId, 'recordings');
      const row = await findCompleteObject(app.db, 'call', corpId, callId);
      if (!row) throw notFound(`no recording of call ${callId} of ${corpId}`);
      return serveObject(app, request, reply, row, format);
    },
  );
};

export default routes;
