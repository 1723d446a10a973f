import fp from 'fastify-plugin';
import type { Producer } from 'kafkajs';
import { Topics } from '@cz/contracts';
import { createKafka, lazyProducer, unavailable, type KafkaConfig } from '@cz/common';

declare module 'fastify' {
  interface FastifyInstance {
    /** connected idempotent producer; throws a 503 AppError when Kafka cannot be reached */
    producer: () => Promise<Producer>;
  }
}

export interface KafkaPluginOptions {
  kafka: KafkaConfig;
  /** shorter for tests that prove the 503 path */
  connectionTimeoutMs?: number;
  retries?: number;
}

/**
 * Connects lazily: the service starts and reports not-ready while Kafka is down, and each request
 * fails with 503 instead of hanging, so nothing is acknowledged that was not written.
 */
export default fp<KafkaPluginOptions>(
  async (app, options) => {
    const kafka = createKafka(options.kafka, app.log as never, {
      connectionTimeout: options.connectionTimeoutMs,
      retries: options.retries,
    });
    const producer = lazyProducer(kafka, [
      { topic: Topics.messages },
      { topic: Topics.calls },
      { topic: Topics.events },
      // security alerts (a caller writing for a foreign corp); partitions as the archiver creates it
      { topic: Topics.alerts, numPartitions: 3 },
    ]);

    app.decorate('producer', async () => {
      try {
        return await producer.get();
      } catch (err) {
        app.log.warn({ err }, 'kafka unavailable');
        throw unavailable(
          'kafka_unavailable',
          'the message bus is unavailable; nothing from this request was accepted, retry later',
        );
      }
    });

    app.addHook('onClose', producer.close);
  },
  { name: 'cz-kafka' },
);
