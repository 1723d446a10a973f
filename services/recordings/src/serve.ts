import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '@cz/common';
import { needsTranscode } from './http/media-types';
import { parseRange } from './http/range';
import { openPlaintextRange } from './storage/range-reader';
import { findCompleteObject, type CompleteObject } from './storage/objects';
import { storeObject } from './storage/store-object';
import { PLAYABLE_TYPE, transcodeToMp3, transcoderMissing } from './transcode';

const TRANSCODE_WAIT_MS = 120000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The browser-playable copy of an AMR object: made once with ffmpeg (decrypt → ffmpeg → seal →
 * MinIO, under the same retention as its source) and kept sealed as a `derived` object. Requests
 * arriving while another one transcodes wait for it.
 */
export async function playableCopy(app: FastifyInstance, source: CompleteObject): Promise<CompleteObject> {
  const deadline = Date.now() + TRANSCODE_WAIT_MS;
  for (;;) {
    const existing = await findCompleteObject(app.db, 'derived', source.corp_id, source.id);
    if (existing) return existing;
    if (!app.transcoder) throw transcoderMissing(app.recordingSettings.ffmpegPath);
    try {
      const result = await storeObject(app.storage, {
        kind: 'derived',
        corpId: source.corp_id,
        ownerId: source.id,
        contentType: PLAYABLE_TYPE,
        retainUntil: new Date(source.retain_until),
        meter: { limit: Number.MAX_SAFE_INTEGER },
        body: async () =>
          transcodeToMp3(
            app.recordingSettings.ffmpegPath,
            await openPlaintextRange(
              app.minio,
              app.keys,
              objectRef(source),
              0,
              Number(source.plaintext_size),
            ),
          ),
      });
      if ('stored' in result) return result.stored;
      if (result.existing.status === 'complete') return result.existing as CompleteObject;
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'upload_in_progress')) throw err;
    }
    if (Date.now() > deadline) {
      throw new AppError(
        503,
        'transcode_in_progress',
        'the playable copy is still being made; retry shortly',
      );
    }
    await sleep(300);
  }
}

export const objectRef = (row: CompleteObject) => ({
  bucket: row.bucket,
  key: row.object_key,
  versionId: row.version_id,
  sealedHeader: row.sealed_header,
  plaintextSize: Number(row.plaintext_size),
});

/**
 * Serves a stored object with HTTP Range: 200 for the whole object, 206 for one range (only the
 * segments covering it are fetched and decrypted), 416 past the end, 400 for a malformed header.
 * AMR is served as its MP3 transcode unless `format=original`.
 */
export async function serveObject(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  stored: CompleteObject,
  format: 'original' | 'playable' | undefined,
) {
  let row = stored;
  if (needsTranscode(row.content_type) && format !== 'original') {
    row = await playableCopy(app, row);
    reply.header('x-cz-transcoded-from', stored.content_type);
  }
  const size = Number(row.plaintext_size);
  const range = parseRange(request.headers.range, size);
  reply
    .header('accept-ranges', 'bytes')
    .header('cache-control', 'private, no-store')
    .header('x-content-type-options', 'nosniff')
    .header('etag', `"${row.plaintext_sm3}"`);
  if (range.kind === 'malformed') throw new AppError(400, 'bad_range', range.reason);
  if (range.kind === 'unsatisfiable') {
    return reply
      .code(416)
      .header('content-range', `bytes */${size}`)
      .send({ code: 'range_not_satisfiable', message: `the object has ${size} bytes` });
  }
  const start = range.kind === 'range' ? range.start : 0;
  const end = range.kind === 'range' ? range.end : size;
  const body = await openPlaintextRange(app.minio, app.keys, objectRef(row), start, end);
  if (range.kind === 'range') {
    reply.code(206).header('content-range', `bytes ${start}-${end - 1}/${size}`);
  } else {
    reply.code(200);
  }
  return reply
    .type(row.content_type)
    .header('content-length', String(end - start))
    .send(body);
}
