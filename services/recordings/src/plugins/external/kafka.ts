import fp from 'fastify-plugin';
import type { Kafka, Producer } from 'kafkajs';
import { Topics } from '@cz/contracts';
import { createKafka, lazyProducer, type KafkaConfig } from '@cz/common';

declare module 'fastify' {
  interface FastifyInstance {
    kafka: Kafka;
    /** connected idempotent producer (acks=all via sendDurably); rejects while Kafka is unreachable */
    callEventsProducer: () => Promise<Producer>;
  }
}

export interface KafkaPluginOptions {
  kafka: KafkaConfig;
  connectionTimeoutMs?: number;
  retries?: number;
}

/** Connects lazily, so the service starts (and serves reads) while Kafka is down. */
export default fp<KafkaPluginOptions>(
  async (app, options) => {
    const kafka = createKafka(options.kafka, app.log as never, {
      connectionTimeout: options.connectionTimeoutMs,
      retries: options.retries,
    });
    const producer = lazyProducer(kafka, [{ topic: Topics.calls }]);
    app.decorate('kafka', kafka);
    app.decorate('callEventsProducer', producer.get);
    app.addHook('onClose', producer.close);
  },
  { name: 'cz-recordings-kafka' },
);
