import type { FastifyPluginAsync } from 'fastify';
import { errorHandlerPlugin, healthPlugin, keysPlugin, type DatabaseConfig } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import databasePlugin from './plugins/external/database';
import supervisorPlugin from './plugins/app/supervisor';
import pullerRoutes from './routes/puller';
import type { PullerSettings } from './config';

export interface PullerOptions {
  database: DatabaseConfig;
  keys: KeyProvider;
  settings: PullerSettings;
}

/**
 * Finance-SDK puller: per corp, a supervised child process runs Tencent's SDK; this process keeps
 * the checkpoints, posts to ingest and survives any crash of the native library.
 */
const app: FastifyPluginAsync<PullerOptions> = async (fastify, options) => {
  await fastify.register(errorHandlerPlugin);
  await fastify.register(databasePlugin, { database: options.database });
  await fastify.register(keysPlugin, { keys: options.keys });
  await fastify.register(supervisorPlugin, { settings: options.settings, keys: options.keys });
  await fastify.register(healthPlugin, {
    service: 'puller',
    checks: { database: async () => void (await fastify.db.query('SELECT 1')) },
  });
  await fastify.register(pullerRoutes, { adminToken: options.settings.adminToken });
};

export default app;
