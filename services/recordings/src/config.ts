import { readFileSync } from 'node:fs';
import {
  ConfigError,
  envBool,
  envInt,
  envString,
  optionalClientTlsFromEnv,
  requireSecureUrl,
  type ClientTls,
} from '@cz/common';

/** REG-02: call recordings are kept at least 2 years; REG-01: chat content (incl. media) 5 years. */
export const MIN_RECORDING_RETENTION_DAYS = 730;
export const MIN_MEDIA_RETENTION_DAYS = 1827;
/** S3 multipart parts must be at least 5 MiB (except the last). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

export interface AsrSettings {
  /** base URL of an OpenAI-compatible server (`<url>/v1/audio/transcriptions`), or that endpoint itself */
  url: string;
  model: string;
  apiKey?: string;
  language?: string;
  timeoutMs: number;
  /** for https: the CA the engine's certificate must chain to */
  tls?: ClientTls;
}

export interface RecordingsSettings {
  bucket: string;
  /** largest recording accepted, plaintext bytes */
  maxRecordingBytes: number;
  /** largest chat media object accepted, plaintext bytes */
  maxMediaBytes: number;
  /** multipart part size; memory per upload is about two parts */
  partBytes: number;
  recordingRetentionDays: number;
  mediaRetentionDays: number;
  ffmpegPath: string;
  /** an upload that made no progress for this long is treated as abandoned */
  staleUploadMs: number;
  asr?: AsrSettings;
}

export function checkSettings(settings: RecordingsSettings): RecordingsSettings {
  if (settings.recordingRetentionDays < MIN_RECORDING_RETENTION_DAYS) {
    throw new ConfigError(
      `recording retention must be at least ${MIN_RECORDING_RETENTION_DAYS} days (REG-02), got ${settings.recordingRetentionDays}`,
    );
  }
  if (settings.mediaRetentionDays < MIN_MEDIA_RETENTION_DAYS) {
    throw new ConfigError(
      `media retention must be at least ${MIN_MEDIA_RETENTION_DAYS} days (REG-01), got ${settings.mediaRetentionDays}`,
    );
  }
  if (settings.partBytes < MIN_PART_BYTES || settings.partBytes > 512 * 1024 * 1024) {
    throw new ConfigError(`part size must be between 5 MiB and 512 MiB, got ${settings.partBytes}`);
  }
  return settings;
}

const GiB = 1024 * 1024 * 1024;

export function settingsFromEnv(): RecordingsSettings {
  const asrUrl = process.env.CZ_ASR_URL;
  const settings: RecordingsSettings = {
    bucket: envString('CZ_RECORDINGS_BUCKET', 'cz-recordings'),
    maxRecordingBytes: envInt('CZ_RECORDINGS_MAX_BYTES', 2 * GiB),
    maxMediaBytes: envInt('CZ_MEDIA_MAX_BYTES', 2 * GiB),
    partBytes: envInt('CZ_RECORDINGS_PART_BYTES', 8 * 1024 * 1024),
    recordingRetentionDays: envInt('CZ_RECORDING_RETENTION_DAYS', MIN_RECORDING_RETENTION_DAYS),
    mediaRetentionDays: envInt('CZ_MEDIA_RETENTION_DAYS', MIN_MEDIA_RETENTION_DAYS),
    ffmpegPath: envString('CZ_FFMPEG', 'ffmpeg'),
    staleUploadMs: envInt('CZ_RECORDINGS_STALE_UPLOAD_MS', 10 * 60 * 1000),
  };
  if (asrUrl) {
    // The ASR engine receives call audio: https, verified against CZ_ASR_CA_FILE (the engine's
    // own CA) or the stack's CA. Plain http only for an on-prem engine that cannot serve TLS,
    // named explicitly with CZ_ASR_ALLOW_PLAIN_HTTP=1 (or with CZ_INSECURE_DEV=1).
    const asrCaFile = process.env.CZ_ASR_CA_FILE;
    const asrTls = asrCaFile ? { ca: readFileSync(asrCaFile, 'utf8') } : optionalClientTlsFromEnv();
    settings.asr = {
      url: requireSecureUrl('CZ_ASR_URL', asrUrl, envBool('CZ_ASR_ALLOW_PLAIN_HTTP', false)),
      ...(asrTls ? { tls: asrTls } : {}),
      model: envString('CZ_ASR_MODEL', 'whisper-1'),
      timeoutMs: envInt('CZ_ASR_TIMEOUT_MS', 30 * 60 * 1000),
    };
    if (process.env.CZ_ASR_API_KEY) settings.asr.apiKey = process.env.CZ_ASR_API_KEY;
    if (process.env.CZ_ASR_LANGUAGE) settings.asr.language = process.env.CZ_ASR_LANGUAGE;
  }
  return checkSettings(settings);
}
