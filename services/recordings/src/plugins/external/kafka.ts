import fp from 'fastify-plugin';
import type { Kafka, Producer } from 'kafkajs';
import { Topics } from '@cz/contracts';
import { createKafka, createProducer, ensureTopics, type KafkaConfig } from '@cz/common';

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
    let connected: Promise<Producer> | undefined;
    const connect = async () => {
      await ensureTopics(kafka, [{ topic: Topics.calls }]);
      const producer = createProducer(kafka);
      await producer.connect();
      return producer;
    };
    app.decorate('kafka', kafka);
    app.decorate('callEventsProducer', async () => {
      connected ??= connect();
      try {
        return await connected;
      } catch (err) {
        connected = undefined;
        throw err;
      }
    });
    app.addHook('onClose', async () => {
      const producer = await connected?.catch(() => undefined);
      await producer?.disconnect();
    });
  },
  { name: 'cz-recordings-kafka' },
);
