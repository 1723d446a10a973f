import fp from 'fastify-plugin';
import { Topics } from '@cz/contracts';
import { IndexPurposes, indexKeyFor, type KafkaConfig } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { TokenHasher } from '@cz/common/search';
import { consumeTopic } from '../consume';
import { decodeCallBatch, storeCallBatch } from './store';

export interface CallConsumerOptions {
  kafka: KafkaConfig;
  keys: KeyProvider;
  /** the archiver's group id; this consumer joins `<groupId>-calls` */
  groupId: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    callArchiveStats: {
      batches: number;
      stored: number;
      duplicates: number;
      recordingsLinked: number;
      transcriptsStored: number;
      alertsLinked: number;
      deadLettered: number;
    };
  }
}

/**
 * Consumes `cz.call.v1` (CDRs, recording-attached and transcript events) and stores each batch in
 * one transaction before its offsets are committed; records that can never be stored go to
 * `cz.call.v1.dlq` with the reason in the headers.
 */
export default fp<CallConsumerOptions>(
  async (app, options) => {
    const stats = {
      batches: 0,
      stored: 0,
      duplicates: 0,
      recordingsLinked: 0,
      transcriptsStored: 0,
      alertsLinked: 0,
      deadLettered: 0,
    };
    app.decorate('callArchiveStats', stats);
    // transcripts are indexed for keyword search in the batch transaction that stores them
    const hasher = new TokenHasher(await indexKeyFor(options.keys, IndexPurposes.searchToken));
    await consumeTopic(app, {
      kafka: options.kafka,
      groupId: `${options.groupId}-calls`,
      topic: Topics.calls,
      handleBatch: async (messages) => {
        const decoded = await decodeCallBatch(messages, options.keys);
        const result = await storeCallBatch(app.db, options.keys, hasher, decoded);
        stats.batches += 1;
        stats.stored += result.stored;
        stats.duplicates += result.duplicates;
        stats.recordingsLinked += result.recordingsLinked;
        stats.transcriptsStored += result.transcriptsStored;
        stats.alertsLinked += result.alertsLinked;
        stats.deadLettered += result.poison.length;
        app.log.debug(
          { received: messages.length, ...result, poison: result.poison.length },
          'call batch archived',
        );
        return result.poison;
      },
    });
  },
  { name: 'cz-call-archive-consumer', dependencies: ['cz-database'] },
);
