import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { AppError, assertCorp, badRequest, callerOf } from '@cz/common';
import { CryptoError } from '@cz/common/crypto';
import type { CompleteObject } from './storage/objects';
import { ConflictingVersionReply, ErrorReply, type StoredObjectReply } from '@cz/contracts';

/** Error replies of the upload and download routes. */
export const uploadErrors = {
  400: ErrorReply,
  401: ErrorReply,
  403: ErrorReply,
  404: ErrorReply,
  409: Type.Union([ConflictingVersionReply, ErrorReply]),
  413: ErrorReply,
  415: ErrorReply,
  416: ErrorReply,
  422: ErrorReply,
  503: ErrorReply,
};

/** Bodies of the routes registered on `app` are streamed by the handlers, never buffered by a parser. */
export function streamBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
}

const DAY_MS = 24 * 3600 * 1000;
export const retainUntilFrom = (now: Date, days: number) => new Date(now.getTime() + days * DAY_MS);

/** The announced body length, if any; a malformed Content-Length is a 400. */
export function contentLengthOf(request: FastifyRequest): number | undefined {
  const raw = request.headers['content-length'];
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw)) throw badRequest('bad_content_length', 'Content-Length must be a byte count');
  return Number(raw);
}

/**
 * The announced body length; an announced length above `limit` is refused (413) before the body
 * is read, with `what` naming the kind of object in the reason.
 */
export function limitedLength(
  request: FastifyRequest,
  reply: FastifyReply,
  limit: number,
  what: string,
): number | undefined {
  const length = contentLengthOf(request);
  if (length !== undefined && length > limit) {
    refuseUpload(reply, new AppError(413, 'too_large', `${what} are limited to ${limit} bytes`));
  }
  return length;
}

/**
 * Refuses an upload before reading its body; the connection is closed afterwards so the client
 * does not have to push a body nobody will read.
 */
export function refuseUpload(reply: FastifyReply, error: AppError): never {
  reply.header('connection', 'close');
  throw error;
}

/**
 * The `onRequest` hook of an upload route: the caller must hold `recordings.write` (401/403 before
 * the body is read). A refusal closes the connection, so the client stops pushing its body.
 */
export function uploaderOnly(app: FastifyInstance) {
  const check = app.requireCaller('recordings.write');
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      await check(request, reply);
    } catch (err) {
      reply.header('connection', 'close');
      throw err;
    }
  };
}

/** 403 before the body is read unless the caller writes for `corpId`; returns the caller's name. */
export function uploaderFor(request: FastifyRequest, reply: FastifyReply, corpId: string): string {
  try {
    assertCorp(request, corpId, 'recordings');
  } catch (err) {
    if (err instanceof AppError) refuseUpload(reply, err);
    throw err;
  }
  return callerOf(request).name;
}

const CLIENT_GONE = new Set(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNABORTED']);

/** Maps what can go wrong while streaming an upload to a precise reply. */
export function uploadError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if ((code && CLIENT_GONE.has(code)) || (err instanceof Error && err.message === 'aborted')) {
    return new AppError(400, 'truncated_upload', 'the client closed the connection before the upload ended');
  }
  if (err instanceof CryptoError) return new AppError(500, 'internal_error', 'sealing failed');
  return new AppError(
    503,
    'storage_unavailable',
    'the object store did not accept the upload; nothing was stored, retry later',
  );
}

/**
 * Runs `store`, which streams an upload into the object store; a failure closes the connection and
 * is mapped to a precise reply by {@link uploadError}.
 */
export async function storeUpload<T>(reply: FastifyReply, store: () => Promise<T>): Promise<T> {
  try {
    return await store();
  } catch (err) {
    reply.header('connection', 'close');
    throw uploadError(err);
  }
}

export function storedReply(row: CompleteObject): StoredObjectReply {
  return {
    id: row.id,
    corpId: row.corp_id,
    ownerId: row.owner_id,
    contentType: row.content_type,
    plaintextSize: Number(row.plaintext_size),
    sealedSize: Number(row.sealed_size),
    sm3: row.plaintext_sm3,
    md5: row.plaintext_md5,
    versionId: row.version_id,
    retainUntil: new Date(row.retain_until).toISOString(),
  };
}
