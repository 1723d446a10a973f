import { Topics } from '@cz/contracts';
import { archiveChatBatch } from '../../batch/chat-batch';
import { chatArchiveHooks } from '../../batch/chat-hooks';
import { topicConsumer, type ConsumerOptions } from './topic-consumer';

interface ChatConsumerOptions extends ConsumerOptions {
  /** calendar of the completeness counters */
  timeZone: string;
}

interface ChatArchiveStats {
  batches: number;
  stored: number;
  duplicates: number;
  deadLettered: number;
  /** records that reused an archived msgid with different content, kept as variants */
  contentConflicts: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    archiveStats: ChatArchiveStats;
  }
}

/** Consumes cz.msg.v1 and stores each batch in one transaction before its offsets are committed. */
export default topicConsumer<ChatConsumerOptions, ChatArchiveStats>({
  name: 'cz-archive-consumer',
  topic: Topics.messages,
  groupId: (groupId) => groupId,
  // one partition's batch decodes (CPU) while another's transaction runs (database)
  partitionsConsumedConcurrently: 3,
  statsDecorator: 'archiveStats',
  counters: () => ({ batches: 0, stored: 0, duplicates: 0, deadLettered: 0, contentConflicts: 0 }),
  handler: async (app, options) => {
    const context = {
      db: app.db,
      keys: options.keys,
      groupId: options.groupId,
      hooks: await chatArchiveHooks(app.db, options.keys),
      timeZone: options.timeZone,
    };
    return async (messages, partition) => {
      const result = await archiveChatBatch(context, messages, partition);
      for (const { message: m } of result.conflicts) {
        app.log.warn(
          { corpId: m.corpId, msgid: m.msgid, id: m.id },
          'msgid reused with different content: first record kept, this one stored as a variant',
        );
      }
      app.log.debug(
        { received: result.received, inserted: result.inserted, poison: result.deadLettered },
        'batch archived',
      );
      return {
        poison: result.poison,
        counts: {
          stored: result.inserted,
          duplicates: result.decoded - result.inserted - result.conflicts.length,
          contentConflicts: result.conflicts.length,
          deadLettered: result.deadLettered,
        },
      };
    };
  },
});
