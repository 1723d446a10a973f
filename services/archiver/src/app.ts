import type { FastifyPluginAsync } from 'fastify';
import {
  databasePlugin,
  envInt,
  errorHandlerPlugin,
  healthPlugin,
  mainDataSourceOptions,
  type DatabaseConfig,
  type KafkaConfig,
} from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import archiveConsumer from './plugins/app/archive-consumer';
import partitionMaintenance from './plugins/app/partition-maintenance';
import searchBackfill from './plugins/app/search-backfill';
import completeness from './plugins/app/completeness';
import completenessRoutes from './routes/completeness';
import callConsumer from './calls/consumer';
import eventConsumer from './events/consumer';
import alertConsumer from './alerts/consumer';
import { completenessTimeZone } from './completeness';
import statsRoutes from './routes/stats';
import { consumersJoined } from './consume';

export interface ArchiverOptions {
  database: DatabaseConfig;
  kafka: KafkaConfig;
  keys: KeyProvider;
  groupId?: string;
  /** completeness tracking; defaults from CZ_COMPLETENESS_* */
  completeness?: { gapGraceMs?: number; sweepIntervalMs?: number };
}

/** Archiver: Kafka → MariaDB, sealed bytes only. */
const app: FastifyPluginAsync<ArchiverOptions> = async (fastify, options) => {
  await fastify.register(errorHandlerPlugin);
  await fastify.register(databasePlugin, mainDataSourceOptions(options.database));
  await fastify.register(partitionMaintenance);
  await fastify.register(searchBackfill, { keys: options.keys });
  await fastify.register(archiveConsumer, {
    kafka: options.kafka,
    keys: options.keys,
    groupId: options.groupId ?? 'cz-archiver',
  });
  const groupId = options.groupId ?? 'cz-archiver';
  await fastify.register(callConsumer, { kafka: options.kafka, keys: options.keys, groupId });
  await fastify.register(eventConsumer, { kafka: options.kafka, keys: options.keys, groupId });
  await fastify.register(alertConsumer, { kafka: options.kafka, keys: options.keys, groupId });
  await fastify.register(completeness, {
    kafka: options.kafka,
    keys: options.keys,
    timeZone: completenessTimeZone(),
    gapGraceMs: options.completeness?.gapGraceMs ?? envInt('CZ_COMPLETENESS_GAP_GRACE_MS', 120000),
    sweepIntervalMs: options.completeness?.sweepIntervalMs ?? envInt('CZ_COMPLETENESS_SWEEP_MS', 5000),
    reconcileIntervalMs: 3600000,
  });
  await fastify.register(healthPlugin, {
    service: 'archiver',
    checks: {
      database: async () => void (await fastify.db.query('SELECT 1')),
      consumers: () => consumersJoined(fastify),
    },
  });
  await fastify.register(statsRoutes);
  await fastify.register(completenessRoutes);
};

export default app;
