import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { RecordingParams, RecordingQuery, StoredObjectReply } from '@cz/contracts';
import { AppError, notFound } from '@cz/common';
import { announceRecording } from '../announce';
import { looksLike, recordingTypeOf, RecordingTypes, SNIFF_BYTES } from '../http/media-types';
import { serveObject } from '../serve';
import { findCompleteObject } from '../storage/objects';
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
 * Call recordings. `PUT /v1/recordings/{callId}?corpId=` streams audio (wav, mp3, amr) sealed into
 * MinIO under COMPLIANCE retention and announces it on `cz.call.v1`; the CDR must be archived
 * first (409 otherwise: retry once ingest's 202 has been archived). `GET` serves it with Range.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  streamBodies(app);
  const settings = app.recordingSettings;

  app.put(
    '/v1/recordings/:callId',
    {
      preHandler: app.requireServiceToken('write'),
      schema: {
        params: RecordingParams,
        querystring: RecordingQuery,
        response: { 201: StoredObjectReply, ...errors },
      },
    },
    async (request, reply) => {
      const { callId } = request.params;
      const { corpId } = request.query;
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
      const result = await storeUpload(app.storage, reply, {
        kind: 'call',
        corpId,
        ownerId: callId,
        callPk: call.id,
        contentType: type,
        retainUntil: retainUntilFrom(new Date(), settings.recordingRetentionDays),
        meter: {
          limit: settings.maxRecordingBytes,
          ...(length === undefined ? {} : { expectedLength: length }),
          sniff: { bytes: SNIFF_BYTES, matches: (head) => looksLike(type, head), declared: type },
        },
        body: () => request.raw,
        isHttpRequest: true,
      });
      if ('existing' in result) {
        refuseUpload(
          reply,
          new AppError(
            409,
            'recording_exists',
            `call ${callId} already has its recording (sm3 ${result.existing.plaintext_sm3}); archived recordings never change`,
          ),
        );
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
      preHandler: app.requireServiceToken('read'),
      schema: { params: RecordingParams, querystring: RecordingQuery, response: errors },
    },
    async (request, reply) => {
      const { callId } = request.params;
      const { corpId, format } = request.query;
      const row = await findCompleteObject(app.db, 'call', corpId, callId);
      if (!row) throw notFound(`no recording of call ${callId} of ${corpId}`);
      return serveObject(app, request, reply, row, format);
    },
  );
};

export default routes;
