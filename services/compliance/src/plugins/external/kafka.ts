import fp from 'fastify-plugin';
import type { Kafka } from 'kafkajs';
import { createKafka, type KafkaConfig } from '@cz/common';

declare module 'fastify' {
  interface FastifyInstance {
    /** the Kafka client the scan consumers and the alert outbox create their connections from */
    kafka: Kafka;
  }
}

/**
 * One Kafka client for the app. It holds no connection of its own: each consumer and producer made
 * from it connects, and disconnects in its own plugin's onClose.
 */
export default fp<{ kafka: KafkaConfig }>(
  async (app, options) => {
    app.decorate('kafka', createKafka(options.kafka, app.log as never));
  },
  { name: 'compliance-kafka' },
);
