import type { FastifyPluginAsync } from 'fastify';
import {
  callerAuthPlugin,
  errorHandlerPlugin,
  healthPlugin,
  keysPlugin,
  type CallerAuthOptions,
  type DatabaseConfig,
  type KafkaConfig,
  type MinioConfig,
} from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import databasePlugin from './plugins/external/database';
import minioPlugin from './plugins/external/minio';
import kafkaPlugin from './plugins/external/kafka';
import storagePlugin from './plugins/app/storage';
import announcerPlugin from './plugins/app/announcer';
import transcriberPlugin from './transcription/transcriber';
import recordingRoutes from './routes/recordings';
import mediaRoutes from './routes/media';
import type { RecordingsSettings } from './config';

export interface RecordingsOptions {
  minio: MinioConfig;
  database: DatabaseConfig;
  kafka: KafkaConfig;
  keys: KeyProvider;
  /** who is calling (the key service): uploads need `recordings.write`, reads `recordings.read` */
  callers: CallerAuthOptions;
  settings: RecordingsSettings;
  kafkaConnectionTimeoutMs?: number;
  kafkaRetries?: number;
  /** how often unannounced recordings are retried; 0 turns the sweep off */
  announceEveryMs?: number;
  /** how old an unannounced recording must be before the sweep takes it (default 10 s) */
  announceGraceMs?: number;
}

/**
 * Recordings: streaming upload and Range playback of call recordings and chat media, sealed with
 * SM4 segments while streaming, in MinIO under per-object COMPLIANCE retention. Only
 * authenticated callers write (`recordings.write`) and read (`recordings.read`), each for its corps.
 */
const app: FastifyPluginAsync<RecordingsOptions> = async (fastify, options) => {
  await fastify.register(errorHandlerPlugin);
  await fastify.register(databasePlugin, { database: options.database });
  await fastify.register(minioPlugin, { minio: options.minio, bucket: options.settings.bucket });
  await fastify.register(kafkaPlugin, {
    kafka: options.kafka,
    connectionTimeoutMs: options.kafkaConnectionTimeoutMs,
    retries: options.kafkaRetries,
  });
  await fastify.register(keysPlugin, { keys: options.keys });
  await fastify.register(storagePlugin, { settings: options.settings });
  await fastify.register(callerAuthPlugin, options.callers);
  await fastify.register(announcerPlugin, {
    everyMs: options.announceEveryMs ?? 30000,
    graceMs: options.announceGraceMs ?? 10000,
  });
  if (options.settings.asr) await fastify.register(transcriberPlugin, { asr: options.settings.asr });
  await fastify.register(healthPlugin, {
    service: 'recordings',
    checks: {
      minio: async () => void (await fastify.minio.bucketExists(fastify.recordingsBucket)),
      database: async () => void (await fastify.db.query('SELECT 1')),
    },
  });
  await fastify.register(recordingRoutes);
  await fastify.register(mediaRoutes);
};

export default app;
