import { i18n } from '@/locales';
import { formatBytes } from '@/utils/format';
import { ApiError, requestRaw } from './client';

/*
 * Call recordings (`GET /v1/calls/{callId}/recording`) and chat media (`GET /v1/media/{corpId}/{mediaId}`)
 * through the portal, audited per request.
 * The route accepts only the bearer header, which an <audio src> cannot send, so the console reads
 * the recording with Range requests through the request client and plays it from a Blob URL.
 * That holds the whole file in memory: fine for call recordings (a 30-minute MP3 is ~15 MB), not
 * for hour-long WAVs — a short-lived signed playback URL would let the browser stream and seek.
 */

/** bytes per Range request */
export const PLAYBACK_CHUNK_BYTES = 4 * 1024 * 1024;
/** the largest recording the console loads into memory */
export const PLAYBACK_MAX_BYTES = 96 * 1024 * 1024;

export interface LoadedRecording {
  blob: Blob;
  contentType: string;
  size: number;
  /** the stored format when the portal served a browser-playable transcode (e.g. `amr`) */
  transcodedFrom: string | null;
}

/** Loaded chat media: the same as a recording (images, files and voice notes alike). */
export type LoadedMedia = LoadedRecording;

export interface RecordingLoadOptions {
  signal?: AbortSignal;
  onProgress?: (loaded: number, total: number) => void;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+)$/;

function tooLarge(size: number): ApiError {
  return new ApiError(
    413,
    'recording_too_large',
    i18n.global.t('playback.tooLarge', { size: formatBytes(size), max: formatBytes(PLAYBACK_MAX_BYTES) }),
  );
}

function badReply(detail: string): ApiError {
  return new ApiError(502, 'bad_playback_reply', i18n.global.t('playback.badReply', { detail }));
}

export function loadRecording(
  corpId: string,
  callId: string,
  options: RecordingLoadOptions = {},
): Promise<LoadedRecording> {
  return loadRanged(
    `/v1/calls/${encodeURIComponent(callId)}/recording`,
    { corpId, format: 'playable' },
    options,
  );
}

/**
 * A chat attachment (image, voice note, video, file) by its media id. Voice notes are asked for
 * as `playable` (the portal transcodes AMR to MP3); everything else as stored. `messageId` names
 * the message that refers to it: the portal needs it to check a data scope (REG-05).
 */
export function loadMedia(
  corpId: string,
  mediaId: string,
  messageId: string | undefined,
  playable: boolean,
  options: RecordingLoadOptions = {},
): Promise<LoadedMedia> {
  return loadRanged(
    `/v1/media/${encodeURIComponent(corpId)}/${encodeURIComponent(mediaId)}`,
    { ...(playable ? { format: 'playable' } : {}), ...(messageId ? { message: messageId } : {}) },
    options,
  );
}

/** Reads one object in Range chunks through the request client (which sends the bearer header). */
async function loadRanged(
  path: string,
  query: Record<string, string>,
  options: RecordingLoadOptions,
): Promise<LoadedRecording> {
  const parts: Blob[] = [];
  let loaded = 0;
  let total: number | null = null;
  let contentType = 'application/octet-stream';
  let transcodedFrom: string | null = null;

  while (total === null || loaded < total) {
    const end = loaded + PLAYBACK_CHUNK_BYTES - 1;
    const response = await requestRaw(path, {
      query,
      headers: { Range: `bytes=${loaded}-${end}` },
      silent: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (total === null) {
      contentType = response.headers.get('content-type') ?? contentType;
      transcodedFrom = response.headers.get('x-cz-transcoded-from');
    }
    if (response.status === 200) {
      // the whole object in one answer (the server ignored the Range)
      const length = Number(response.headers.get('content-length') ?? Number.NaN);
      if (Number.isFinite(length) && length > PLAYBACK_MAX_BYTES) {
        await response.body?.cancel().catch(() => undefined);
        throw tooLarge(length);
      }
      const blob = await response.blob();
      options.onProgress?.(blob.size, blob.size);
      return { blob: new Blob([blob], { type: contentType }), contentType, size: blob.size, transcodedFrom };
    }
    const match = CONTENT_RANGE.exec(response.headers.get('content-range') ?? '');
    if (response.status !== 206 || !match) {
      await response.body?.cancel().catch(() => undefined);
      throw badReply(`HTTP ${response.status}`);
    }
    const [start, last, size] = [Number(match[1]), Number(match[2]), Number(match[3])];
    if (start !== loaded || last < start) {
      await response.body?.cancel().catch(() => undefined);
      throw badReply(`Content-Range ${match[0]}`);
    }
    if (total === null) {
      total = size;
      if (total > PLAYBACK_MAX_BYTES) {
        await response.body?.cancel().catch(() => undefined);
        throw tooLarge(total);
      }
    }
    const chunk = await response.blob();
    if (chunk.size !== last - start + 1) throw badReply(`${chunk.size} bytes for ${match[0]}`);
    parts.push(chunk);
    loaded += chunk.size;
    options.onProgress?.(loaded, total);
  }
  return { blob: new Blob(parts, { type: contentType }), contentType, size: loaded, transcodedFrom };
}
