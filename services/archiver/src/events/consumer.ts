import fp from 'fastify-plugin';
import { Topics } from '@cz/contracts';
import type { KafkaConfig } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { consumeTopic } from '../consume';
import { archiveEventBatch } from './store';

export interface EventConsumerOptions {
  kafka: KafkaConfig;
  keys: KeyProvider;
  /** the archiver's group id; this consumer joins `<groupId>-events` */
  groupId: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    eventArchiveStats: { batches: number; stored: number; duplicates: number; deadLettered: number };
  }
}

/** Consumes `cz.event.v1` into `behaviour_event`, one transaction per batch, DLQ for the rest. */
export default fp<EventConsumerOptions>(
  async (app, options) => {
    const stats = { batches: 0, stored: 0, duplicates: 0, deadLettered: 0 };
    app.decorate('eventArchiveStats', stats);
    await consumeTopic(app, {
      kafka: options.kafka,
      groupId: `${options.groupId}-events`,
      topic: Topics.events,
      handleBatch: async (messages) => {
        const result = await archiveEventBatch(app.db, options.keys, messages);
        stats.batches += 1;
        stats.stored += result.stored;
        stats.duplicates += result.duplicates;
        stats.deadLettered += result.poison.length;
        return result.poison;
      },
    });
  },
  { name: 'cz-event-archive-consumer', dependencies: ['cz-database'] },
);
