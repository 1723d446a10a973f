import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { agentFor, wecomMediaId, type ClientTls } from '@cz/common';
import type { MediaJobInput } from './pull-state-store';

/**
 * Every media object a decrypted record refers to, wherever it sits: the top-level payload (image,
 * voice, video, file, emotion, meeting_voice_call, voip_doc_share, ...) and items nested inside
 * mixed and chatrecord messages. Walks the whole record, so a new msgtype with media is covered.
 */
export function mediaRefsOf(record: unknown, msgid: string, seq: number): MediaJobInput[] {
  const found = new Map<string, MediaJobInput>();
  const visit = (node: unknown, depth: number) => {
    if (depth > 12 || typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item, depth + 1);
      return;
    }
    const obj = node as Record<string, unknown>;
    if (typeof obj.sdkfileid === 'string' && obj.sdkfileid.length > 0 && !found.has(obj.sdkfileid)) {
      const ref: MediaJobInput = { msgid, seq, sdkfileid: obj.sdkfileid };
      if (typeof obj.md5sum === 'string' && /^[0-9a-fA-F]{32}$/.test(obj.md5sum))
        ref.md5sum = obj.md5sum.toLowerCase();
      const size = obj.filesize ?? obj.fileSize ?? obj.voice_size;
      if (typeof size === 'number' && Number.isSafeInteger(size) && size >= 0) ref.size = size;
      found.set(obj.sdkfileid, ref);
    }
    for (const value of Object.values(obj)) visit(value, depth + 1);
  };
  visit(record, 0);
  return [...found.values()];
}

/** Where fetched bytes go. `abort` must leave nothing stored. */
export interface MediaSink {
  write(chunk: Buffer): Promise<void>;
  finish(): Promise<void>;
  abort(reason: Error): void;
}

export interface ChunkSource {
  mediaChunk(
    sdkfileid: string,
    index: Buffer,
  ): Promise<{ data: Buffer; outIndex: Buffer; finished: boolean }>;
}

export interface MediaResult {
  status: 'done' | 'md5_mismatch';
  md5: string;
  bytes: number;
  /** digests of the attempts that did not match (same length as attempts - 1 when mismatched) */
  attempts: number;
}

export class MediaTooLargeError extends Error {}

/**
 * Downloads one media object chunk by chunk (GetMediaData until is_finish), streaming into a sink
 * and computing its md5 on the way. The last chunk is held back until the digest is known: on a
 * mismatch the upload is aborted before it completes and the download retried; after `maxAttempts`
 * mismatches the bytes are kept anyway (losing them would be worse) and reported as md5_mismatch,
 * so the caller keeps both digests and raises an alert.
 */
export async function fetchMedia(options: {
  source: ChunkSource;
  sdkfileid: string;
  expectedMd5: string | null;
  maxAttempts: number;
  maxBytes: number;
  openSink: (attempt: number, previousMd5: string | undefined) => MediaSink;
}): Promise<MediaResult> {
  let previousMd5: string | undefined;
  let busyRetries = 0;
  for (let attempt = 1; ; attempt++) {
    const sink = options.openSink(attempt, previousMd5);
    try {
      const md5 = createHash('md5');
      let bytes = 0;
      let held: Buffer | undefined;
      let index: Buffer = Buffer.alloc(0);
      for (;;) {
        const chunk = await options.source.mediaChunk(options.sdkfileid, index);
        if (held) await sink.write(held);
        held = chunk.data;
        md5.update(chunk.data);
        bytes += chunk.data.length;
        if (bytes > options.maxBytes) throw new MediaTooLargeError(`media over ${options.maxBytes} bytes`);
        if (chunk.finished) break;
        if (chunk.outIndex.length === 0) throw new Error('GetMediaData gave no index for the next chunk');
        index = chunk.outIndex;
      }
      const digest = md5.digest('hex');
      const matches = options.expectedMd5 === null || digest === options.expectedMd5;
      if (!matches && attempt < options.maxAttempts) {
        sink.abort(new Error(`md5 mismatch: expected ${options.expectedMd5}, got ${digest}`));
        previousMd5 = digest;
        continue;
      }
      if (held) await sink.write(held);
      await sink.finish();
      return { status: matches ? 'done' : 'md5_mismatch', md5: digest, bytes, attempts: attempt };
    } catch (err) {
      sink.abort(err as Error);
      const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
      if (retryAfterMs !== undefined && busyRetries++ < 20) {
        await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
        attempt -= 1; // the same attempt again: these bytes never reached a verdict
        continue;
      }
      throw err;
    }
  }
}

export class UploadError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    /** set when the same upload may simply be tried again shortly (the server is busy with it) */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** A sink that only counts: the first pass over media whose message announced no md5. */
export const discardSink = (): MediaSink => ({
  write: async () => undefined,
  finish: async () => undefined,
  abort: () => undefined,
});

/**
 * Streams media into the recordings service: `PUT /v1/media/{corpId}/{mediaId}` (chunked,
 * application/octet-stream), mediaId = wecomMediaId(sdkfileid). The service verifies `x-cz-md5`
 * while it seals and stores, and stores nothing when the stream ends short (our abort); on the
 * final attempt after mismatches `x-cz-md5-mismatch: keep` makes it store the bytes with both
 * digests. 200 (already stored, same md5) and 201 are success.
 */
export function recordingsSink(options: {
  recordingsUrl: string;
  /** the CA the recordings service's certificate must chain to, and this puller's client certificate */
  tls?: ClientTls;
  token: string | undefined;
  corpId: string;
  sdkfileid: string;
  md5: string;
  keepOnMismatch: boolean;
}): MediaSink {
  const url = new URL(
    `/v1/media/${encodeURIComponent(options.corpId)}/${wecomMediaId(options.sdkfileid)}`,
    options.recordingsUrl,
  );
  const headers: http.OutgoingHttpHeaders = {
    'content-type': 'application/octet-stream',
    'x-cz-md5': options.md5,
  };
  if (options.keepOnMismatch) headers['x-cz-md5-mismatch'] = 'keep';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const request = (url.protocol === 'https:' ? https : http).request(url, {
    method: 'PUT',
    headers,
    agent: agentFor(url, options.tls),
  });
  let failure: Error | undefined;
  let early: Promise<UploadError> | undefined;
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    request.once('response', (res) => {
      // an early answer (401, 404, 409, 413 before the body is sent) stops the upload at once
      if ((res.statusCode ?? 0) >= 300) early = answered(res);
      resolve(res);
    });
    request.once('error', (err) => {
      failure ??= err;
      reject(err);
    });
  });
  response.catch(() => undefined);
  const readBody = async (res: http.IncomingMessage) => {
    const parts: Buffer[] = [];
    for await (const part of res) parts.push(part as Buffer);
    return Buffer.concat(parts).toString('utf8').slice(0, 300);
  };
  const answered = async (res: http.IncomingMessage) => {
    const body = await readBody(res).catch(() => '');
    // right after an aborted attempt the service may still hold the object's upload slot
    const busy = res.statusCode === 409 && body.includes('upload_in_progress');
    return new UploadError(
      `recordings answered ${res.statusCode}: ${body}`,
      res.statusCode,
      busy ? 300 : undefined,
    );
  };
  /**
   * A socket error (EPIPE, reset) usually means the service answered early and closed: prefer its
   * answer when it comes within a second; a bare reset may be retried shortly.
   */
  const settle = async (err: Error): Promise<Error> => {
    await Promise.race([
      response.catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 1000)),
    ]);
    if (early) return await early;
    const code = (err as { code?: string }).code;
    if (code === 'EPIPE' || code === 'ECONNRESET')
      return new UploadError(`recordings connection: ${code}`, undefined, 500);
    return err;
  };
  return {
    async write(chunk) {
      if (early) throw await early;
      if (failure) throw await settle(failure);
      try {
        if (!request.write(chunk)) {
          await new Promise<void>((resolve, reject) => {
            const done = (err?: Error) => {
              request.off('drain', onDrain);
              request.off('error', done);
              request.off('close', onDrain);
              if (err) reject(err);
              else resolve();
            };
            const onDrain = () => done();
            request.on('drain', onDrain);
            request.on('error', done);
            request.on('close', onDrain);
          });
        }
      } catch (err) {
        throw await settle(err as Error);
      }
      // `early` and `failure` are set by the request's callbacks, which TypeScript's narrowing cannot see
      // eslint-disable-next-line @typescript-eslint/await-thenable, @typescript-eslint/only-throw-error
      if (early) throw await early;
      if (failure) throw await settle(failure);
    },
    async finish() {
      request.end();
      let res: http.IncomingMessage;
      try {
        res = await response;
      } catch (err) {
        throw await settle(err as Error);
      }
      if (early) throw await early;
      if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) throw await answered(res);
      await readBody(res);
    },
    abort(reason) {
      failure ??= reason;
      request.destroy(reason);
    },
  };
}
