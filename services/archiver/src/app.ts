import type { FastifyPluginAsync } from 'fastify';
import {
  databasePlugin,
  errorHandlerPlugin,
  healthPlugin,
  mainDataSourceOptions,
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
  await fastify.register(databasePlugin, mainDataSourceOptions(options.database));
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
