import { Topics } from '@cz/contracts';
import { decodeAlerts, storeAlertBatch } from '../../alerts/alert-store';
import { topicConsumer, type ConsumerOptions } from './topic-consumer';

interface AlertArchiveStats {
  batches: number;
  stored: number;
  duplicates: number;
  /** alerts linked to their archived message or call by the alert's own batch */
  linked: number;
  /** alerts whose message or call was not archived yet (linked when it is) */
  pending: number;
  deadLettered: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    alertArchiveStats: AlertArchiveStats;
  }
}

/**
 * Consumes `cz.alert.v1` (completeness, puller, compliance) into `alert` (group
 * `<groupId>-alerts`), attaching each alert to the message or call it names; one transaction per
 * batch, unreadable or off-contract records to `cz.alert.v1.dlq` with the reason.
 */
export default topicConsumer<ConsumerOptions, AlertArchiveStats>({
  name: 'cz-alert-archive-consumer',
  topic: Topics.alerts,
  groupId: (groupId) => `${groupId}-alerts`,
  // as the completeness outbox creates it
  numPartitions: 3,
  statsDecorator: 'alertArchiveStats',
  counters: () => ({ batches: 0, stored: 0, duplicates: 0, linked: 0, pending: 0, deadLettered: 0 }),
  handler: async (app, options) => async (messages) => {
    const { alerts, poison } = await decodeAlerts(messages, options.keys);
    const counts = await storeAlertBatch(app.db, alerts);
    return { poison, counts: { ...counts, deadLettered: poison.length } };
  },
});
