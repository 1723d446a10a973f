import type { FastifyPluginAsync } from 'fastify';
import {
  callerAuthPlugin,
  databasePlugin,
  errorHandlerPlugin,
  healthPlugin,
  mainDataSourceOptions,
  type CallerAuthOptions,
  type DatabaseConfig,
  type KafkaConfig,
} from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { DEFAULT_GROUP_ID, completenessDefaults, type CompletenessSettings } from './config';
import kafkaPlugin from './plugins/external/kafka';
import partitionMaintenance from './plugins/app/partition-maintenance';
import searchBackfill from './plugins/app/search-backfill';
import completenessSweep from './plugins/app/completeness-sweep';
import chatConsumer from './plugins/consumers/chat-consumer';
import callConsumer from './plugins/consumers/call-consumer';
import eventConsumer from './plugins/consumers/event-consumer';
import alertConsumer from './plugins/consumers/alert-consumer';
import { consumersJoined } from './plugins/consumers/topic-consumer';
import completenessRoutes from './routes/completeness';
import statsRoutes from './routes/stats';

export interface ArchiverOptions {
  database: DatabaseConfig;
  kafka: KafkaConfig;
  keys: KeyProvider;
  /** who may read completeness and stats (`archiver.read`) and run a reconciliation (`archiver.reconcile`) */
  callers: CallerAuthOptions;
  /** consumer group of the chat topic (default cz-archiver); the other topics add a suffix */
  groupId?: string;
  /** completeness tracking; server.ts passes the environment's (config.ts), defaults otherwise */
  completeness?: Partial<CompletenessSettings>;
}

/** Archiver: Kafka → MariaDB, sealed bytes only. */
const app: FastifyPluginAsync<ArchiverOptions> = async (fastify, options) => {
  const { keys } = options;
  const groupId = options.groupId ?? DEFAULT_GROUP_ID;
  const given = options.completeness ?? {};
  const completeness: CompletenessSettings = {
    timeZone: given.timeZone ?? completenessDefaults.timeZone,
    gapGraceMs: given.gapGraceMs ?? completenessDefaults.gapGraceMs,
    sweepIntervalMs: given.sweepIntervalMs ?? completenessDefaults.sweepIntervalMs,
    reconcileIntervalMs: given.reconcileIntervalMs ?? completenessDefaults.reconcileIntervalMs,
  };
  await fastify.register(errorHandlerPlugin);
  await fastify.register(callerAuthPlugin, options.callers);
  await fastify.register(databasePlugin, mainDataSourceOptions(options.database));
  await fastify.register(kafkaPlugin, { kafka: options.kafka });
  await fastify.register(partitionMaintenance);
  await fastify.register(searchBackfill, { keys });
  await fastify.register(chatConsumer, { keys, groupId, timeZone: completeness.timeZone });
  await fastify.register(callConsumer, { keys, groupId });
  await fastify.register(eventConsumer, { keys, groupId });
  await fastify.register(alertConsumer, { keys, groupId });
  await fastify.register(completenessSweep, { keys, ...completeness });
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
