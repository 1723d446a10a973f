import type { FastifyPluginAsync } from 'fastify';
import { errorHandlerPlugin, healthPlugin, type DatabaseConfig } from '@cz/common';
import { DEFAULT_KEY_SERVICE_SETTINGS, type KeyServiceSettings } from './config';
import databasePlugin from './plugins/external/database';
import keyStorePlugin from './plugins/app/keystore';
import authPlugin from './plugins/app/auth';
import sysRoutes from './routes/sys';
import dataKeyRoutes from './routes/datakeys';
import officerRoutes from './routes/officers';
import callerRoutes from './routes/callers';
import consoleViewRoutes from './routes/console-views';

export interface KeyserviceOptions {
  database: DatabaseConfig;
  /** the server passes the env's settings; an app built in-process uses the defaults */
  settings?: Partial<KeyServiceSettings>;
}

/**
 * Key service: root key (Shamir-split, unsealed into memory only), versioned KEKs per data class,
 * daily and per-object data keys, rotation and rewrap, dual control, its own SM3 audit chain.
 */
const app: FastifyPluginAsync<KeyserviceOptions> = async (fastify, options) => {
  await fastify.register(errorHandlerPlugin);
  await fastify.register(databasePlugin, { database: options.database });
  await fastify.register(keyStorePlugin, {
    settings: { ...DEFAULT_KEY_SERVICE_SETTINGS, ...options.settings },
  });
  await fastify.register(authPlugin);
  await fastify.register(healthPlugin, {
    service: 'keyservice',
    checks: {
      database: async () => void (await fastify.db.query('SELECT 1')),
      // not ready while sealed: a load balancer sends key requests only to unsealed replicas
      unsealed: async () => {
        if (fastify.keyStore.sealing.sealed) throw new Error('sealed');
      },
    },
  });
  await fastify.register(sysRoutes);
  await fastify.register(dataKeyRoutes);
  await fastify.register(officerRoutes);
  await fastify.register(callerRoutes);
  await fastify.register(consoleViewRoutes);
};

export default app;
