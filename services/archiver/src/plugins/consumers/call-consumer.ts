import { Topics } from '@cz/contracts';
import { IndexPurposes, indexKeyFor } from '@cz/common';
import { TokenHasher } from '@cz/common/search';
import { decodeCallBatch, storeCallBatch } from '../../calls/call-store';
import { topicConsumer, type ConsumerOptions } from './topic-consumer';

interface CallArchiveStats {
  batches: number;
  stored: number;
  duplicates: number;
  recordingsLinked: number;
  transcriptsStored: number;
  alertsLinked: number;
  deadLettered: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    callArchiveStats: CallArchiveStats;
  }
}

/**
 * Consumes `cz.call.v1` (CDRs, recording-attached and transcript events) into `<groupId>-calls`
 * and stores each batch in one transaction before its offsets are committed; records that can
 * never be stored go to `cz.call.v1.dlq` with the reason in the headers.
 */
export default topicConsumer<ConsumerOptions, CallArchiveStats>({
  name: 'cz-call-archive-consumer',
  topic: Topics.calls,
  groupId: (groupId) => `${groupId}-calls`,
  statsDecorator: 'callArchiveStats',
  counters: () => ({
    batches: 0,
    stored: 0,
    duplicates: 0,
    recordingsLinked: 0,
    transcriptsStored: 0,
    alertsLinked: 0,
    deadLettered: 0,
  }),
  handler: async (app, options) => {
    // transcripts are indexed for keyword search in the batch transaction that stores them
    const hasher = new TokenHasher(await indexKeyFor(options.keys, IndexPurposes.searchToken));
    return async (messages) => {
      const decoded = await decodeCallBatch(messages, options.keys);
      const { poison, ...counts } = await storeCallBatch(app.db, options.keys, hasher, decoded);
      app.log.debug({ received: messages.length, ...counts, poison: poison.length }, 'call batch archived');
      return { poison, counts: { ...counts, deadLettered: poison.length } };
    };
  },
});
