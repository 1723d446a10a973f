import fp from 'fastify-plugin';
import { Topics } from '@cz/contracts';
import type { KafkaConfig } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { consumeTopic } from '../consume';
import { decodeAlerts, storeAlertBatch } from './store';

export interface AlertConsumerOptions {
  kafka: KafkaConfig;
  keys: KeyProvider;
  /** the archiver's group id; this consumer joins `<groupId>-alerts` */
  groupId: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    alertArchiveStats: {
      batches: number;
      stored: number;
      duplicates: number;
      /** alerts linked to their archived message or call by the alert's own batch */
      linked: number;
      /** alerts whose message or call was not archived yet (linked when it is) */
      pending: number;
      deadLettered: number;
    };
  }
}

/**
 * Consumes `cz.alert.v1` (completeness, puller, compliance) into `alert`, attaching each alert to
 * the message or call it names; one transaction per batch, unreadable or off-contract records to
 * `cz.alert.v1.dlq` with the reason.
 */
export default fp<AlertConsumerOptions>(
  async (app, options) => {
    const stats = { batches: 0, stored: 0, duplicates: 0, linked: 0, pending: 0, deadLettered: 0 };
    app.decorate('alertArchiveStats', stats);
    await consumeTopic(app, {
      kafka: options.kafka,
      groupId: `${options.groupId}-alerts`,
      topic: Topics.alerts,
      // as the completeness outbox creates it
      numPartitions: 3,
      handleBatch: async (messages) => {
        const { alerts, poison } = await decodeAlerts(messages, options.keys);
        const result = await storeAlertBatch(app.db, alerts);
        stats.batches += 1;
        stats.stored += result.stored;
        stats.duplicates += result.duplicates;
        stats.linked += result.linked;
        stats.pending += result.pending;
        stats.deadLettered += poison.length;
        return poison;
      },
    });
  },
  { name: 'cz-alert-archive-consumer', dependencies: ['cz-database'] },
);
