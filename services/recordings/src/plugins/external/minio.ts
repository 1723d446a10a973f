import fp from 'fastify-plugin';
import type { Client } from 'minio';
import { createMinioClient, ensureLockedBucket, type MinioConfig } from '@cz/common';

declare module 'fastify' {
  interface FastifyInstance {
    minio: Client;
    recordingsBucket: string;
  }
}

export default fp<{ minio: MinioConfig; bucket: string }>(
  async (app, options) => {
    const client = createMinioClient(options.minio);
    await ensureLockedBucket(client, options.bucket);
    app.decorate('minio', client);
    app.decorate('recordingsBucket', options.bucket);
  },
  { name: 'cz-minio' },
);
