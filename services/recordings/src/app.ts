import type { FastifyPluginAsync } from 'fastify';
import { errorHandlerPlugin, healthPlugin, type MinioConfig } from '@cz/common';
import minioPlugin from './plugins/external/minio';

export interface RecordingsOptions {
  minio: MinioConfig;
  bucket?: string;
}

/**
 * Recordings: streaming upload/download of call audio and chat media into MinIO with object lock.
 * This foundation creates the locked bucket and reports readiness; the ingest issue adds the
 * streaming routes.
 */
const app: FastifyPluginAsync<RecordingsOptions> = async (fastify, options) => {
  await fastify.register(errorHandlerPlugin);
  await fastify.register(minioPlugin, { minio: options.minio, bucket: options.bucket ?? 'cz-recordings' });
  await fastify.register(healthPlugin, {
    service: 'recordings',
    checks: { minio: async () => void (await fastify.minio.bucketExists(fastify.recordingsBucket)) },
  });
};

export default app;
