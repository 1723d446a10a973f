/**
 * A reader of the DLQs that keeps only what one in-process consumer dead-lettered. It reads each
 * DLQ from its beginning and filters by the source consumer group, so it needs no head start
 * before the first record is dead-lettered, and ignores the copies the stack's own services write
 * of the same shared-topic records.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaHeaders, dlqTopic, type Topic } from '@cz/contracts';
import { kafkaTransport } from '@cz/common';
import { drained, type DrainOptions } from './drained';

export interface DeadLetter {
  key: string;
  corpId: string;
  /** the reason the consumer gave */
  error: string;
  sourceTopic: string;
  sourceGroup: string;
}

export interface DeadLetterReader {
  /** what has been read so far of `corpId` */
  of: (corpId: string) => DeadLetter[];
  /** resolves once the reader has read everything the DLQs held when called */
  drained: (options?: DrainOptions) => Promise<void>;
  stop: () => Promise<void>;
}

/** Reads the DLQs of `topics`, keeping the records dead-lettered by one of `sourceGroups`. */
export async function readDeadLetters(
  topics: readonly Topic[],
  sourceGroups: readonly string[],
): Promise<DeadLetterReader> {
  const kafka = new Kafka({
    clientId: 'cz-test-dlq-reader',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const groupId = `cz-dlq-reader-${randomBytes(4).toString('hex')}`;
  const dlqTopics = topics.map(dlqTopic);
  const found = new Map<string, DeadLetter[]>();
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topics: dlqTopics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const header = (name: string) => message.headers?.[name]?.toString() ?? '';
      if (!sourceGroups.includes(header(KafkaHeaders.sourceGroup))) return;
      const letter: DeadLetter = {
        key: message.key?.toString() ?? '',
        corpId: header(KafkaHeaders.corpId),
        error: header(KafkaHeaders.error),
        sourceTopic: header(KafkaHeaders.sourceTopic),
        sourceGroup: header(KafkaHeaders.sourceGroup),
      };
      found.set(letter.corpId, [...(found.get(letter.corpId) ?? []), letter]);
    },
  });
  return {
    of: (corpId) => found.get(corpId) ?? [],
    drained: (options) => drained([{ groupId, topics: dlqTopics }], options),
    stop: () => consumer.disconnect(),
  };
}
