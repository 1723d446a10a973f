import { Topics } from '@cz/contracts';
import { archiveEventBatch } from '../../events/event-store';
import { topicConsumer, type ConsumerOptions } from './topic-consumer';

interface EventArchiveStats {
  batches: number;
  stored: number;
  duplicates: number;
  deadLettered: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    eventArchiveStats: EventArchiveStats;
  }
}

/** Consumes `cz.event.v1` into `behaviour_event` (group `<groupId>-events`), one transaction per batch, DLQ for the rest. */
export default topicConsumer<ConsumerOptions, EventArchiveStats>({
  name: 'cz-event-archive-consumer',
  topic: Topics.events,
  groupId: (groupId) => `${groupId}-events`,
  statsDecorator: 'eventArchiveStats',
  counters: () => ({ batches: 0, stored: 0, duplicates: 0, deadLettered: 0 }),
  handler: async (app, options) => async (messages) => {
    const { poison, stored, duplicates } = await archiveEventBatch(app.db, options.keys, messages);
    return { poison, counts: { stored, duplicates, deadLettered: poison.length } };
  },
});
