import fp from 'fastify-plugin';
import { Topics } from '@cz/contracts';
import type { KafkaConfig } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { decodeBatch } from '../../decode';
import { storeMessages, type MessageRow } from '../../store';
import { splitReplayed } from '../../batch/archive-batch';
import { chatArchiveHooks } from '../../batch/default-hooks';
import { consumeTopic } from '../../consume';

export interface ArchiveConsumerOptions {
  kafka: KafkaConfig;
  keys: KeyProvider;
  groupId: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    archiveStats: {
      batches: number;
      stored: number;
      duplicates: number;
      deadLettered: number;
      /** records that reused an archived msgid with different content, kept as variants */
      contentConflicts: number;
    };
  }
}

/** Consumes cz.msg.v1 and stores each batch in one transaction before its offsets are committed. */
export default fp<ArchiveConsumerOptions>(
  async (app, options) => {
    const stats = { batches: 0, stored: 0, duplicates: 0, deadLettered: 0, contentConflicts: 0 };
    app.decorate('archiveStats', stats);
    const hooks = await chatArchiveHooks(app.db, options.keys);
    await consumeTopic(app, {
      kafka: options.kafka,
      groupId: options.groupId,
      topic: Topics.messages,
      // one partition's batch decodes (CPU) while another's transaction runs (database)
      partitionsConsumedConcurrently: 3,
      handleBatch: async (batch, partition) => {
        // a replay of records an earlier transaction archived: only re-check them for the DLQ
        const where = { groupId: options.groupId, topic: Topics.messages, partition };
        const { replayed, fresh: messages, position } = await splitReplayed(app.db, where, batch);
        const replayPoison = replayed.length ? (await decodeBatch(replayed, options.keys)).poison : [];
        const { rows, poison } = await decodeBatch(messages, options.keys);
        // counted after the transaction committed, so a retried batch is not counted twice
        const conflicts: MessageRow[] = [];
        const inserted = await storeMessages(
          app.db,
          rows,
          { contentConflict: (row) => void conflicts.push(row) },
          { position, hooks },
        );
        for (const { message: m } of conflicts) {
          app.log.warn(
            { corpId: m.corpId, msgid: m.msgid, id: m.id },
            'msgid reused with different content: first record kept, this one stored as a variant',
          );
        }
        stats.batches += 1;
        stats.stored += inserted;
        stats.duplicates += rows.length - inserted - conflicts.length;
        stats.contentConflicts += conflicts.length;
        stats.deadLettered += poison.length;
        app.log.debug({ received: messages.length, inserted, poison: poison.length }, 'batch archived');
        return [...replayPoison, ...poison];
      },
    });
  },
  { name: 'cz-archive-consumer', dependencies: ['cz-database'] },
);
