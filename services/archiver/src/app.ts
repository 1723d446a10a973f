import type { FastifyPluginAsync } from 'fastify';
import {
  MAIN_MIGRATIONS_TABLE,
  databasePlugin,
  errorHandlerPlugin,
  healthPlugin,
  mainMigrations,
  type DatabaseConfig,
  type KafkaConfig,
} from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import archiveConsumer from './plugins/app/archive-consumer';
import statsRoutes from './routes/stats';

export interface ArchiverOptions {
  database: DatabaseConfig;
  kafka: KafkaConfig;
  keys: KeyProvider;
  groupId?: string;
}

/** Archiver: Kafka → MariaDB, sealed bytes only. */
const app: FastifyPluginAsync<ArchiverOptions> = async (fastify, options) => {
  await fastify.register(errorHandlerPlugin);
  await fastify.register(databasePlugin, {
    config: options.database,
    migrationsTableName: MAIN_MIGRATIONS_TABLE,
    migrations: mainMigrations,
  });
  await fastify.register(archiveConsumer, {
    kafka: options.kafka,
    keys: options.keys,
    groupId: options.groupId ?? 'cz-archiver',
  });
  await fastify.register(healthPlugin, {
    service: 'archiver',
    checks: { database: async () => void (await fastify.db.query('SELECT 1')) },
  });
  await fastify.register(statsRoutes);
};

export default app;
