import type { FastifyPluginAsync } from 'fastify';
import {
  callerAuthPlugin,
  errorHandlerPlugin,
  healthPlugin,
  keysPlugin,
  type CallerAuthOptions,
  type KafkaConfig,
} from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import kafkaPlugin from './plugins/external/kafka';

import wecomRoutes from './routes/wecom';
import callRoutes from './routes/calls';
import eventRoutes from './routes/events';

export interface IngestOptions {
  kafka: KafkaConfig;
  keys: KeyProvider;
  /** who may write: every route but health needs `ingest.write` and the records' corp */
  callers: CallerAuthOptions;
  kafkaConnectionTimeoutMs?: number;
  kafkaRetries?: number;
}

/** Intake API: validates, seals and publishes; replies only after Kafka acknowledged. */
const app: FastifyPluginAsync<IngestOptions> = async (fastify, options) => {
  await fastify.register(errorHandlerPlugin);
  await fastify.register(kafkaPlugin, {
    kafka: options.kafka,
    connectionTimeoutMs: options.kafkaConnectionTimeoutMs,
    retries: options.kafkaRetries,
  });
  await fastify.register(keysPlugin, { keys: options.keys });
  await fastify.register(callerAuthPlugin, options.callers);
  await fastify.register(healthPlugin, {
    service: 'ingest',
    checks: { kafka: async () => void (await fastify.producer()) },
  });
  await fastify.register(wecomRoutes);
  await fastify.register(callRoutes);
  await fastify.register(eventRoutes);
};

export default app;
