import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { KafkaMessage } from 'kafkajs';
import type { Topic } from '@cz/contracts';
import { ensureTopics, runBatchConsumer, type PoisonRecord, type RunningConsumer } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';

/*
 * The one shape of every archive consumer (chat, calls, events, alerts): a Fastify plugin that
 * makes sure its topic exists while it loads, joins its group once the app is ready, counts what
 * its batches did under a decorator, and leaves the group on close. The Kafka side (eachBatch
 * without auto-resolve, CRASH → exit, the DLQ with the reason in the headers) is common's
 * runBatchConsumer.
 */

/** What every consumer plugin is registered with. */
export interface ConsumerOptions {
  keys: KeyProvider;
  /** the archiver's group id (the chat topic's group; the others add a suffix) */
  groupId: string;
}

/** What a batch did: the records for the DLQ, and the counters to add (`batches` is counted here). */
export interface BatchOutcome<C> {
  poison: PoisonRecord[];
  counts: Partial<Omit<C, 'batches'>>;
}

type BatchHandler<C> = (messages: KafkaMessage[], partition: number) => Promise<BatchOutcome<C>>;

interface TopicConsumerDefinition<O extends ConsumerOptions, C extends { batches: number }> {
  /** the plugin's name */
  name: string;
  topic: Topic;
  /** the consumer group of this topic */
  groupId: (archiverGroupId: string) => string;
  /** partitions of the topic if this consumer creates it (default: ensureTopics') */
  numPartitions?: number;
  /** batches of different partitions handled at once (default 1) */
  partitionsConsumedConcurrently?: number;
  /** the FastifyInstance decorator that holds the counters (declared by the consumer's module) */
  statsDecorator: string;
  /** the counters, all zero */
  counters: () => C;
  /** builds the batch handler while the plugin loads (key look-ups …) */
  handler: (app: FastifyInstance, options: O) => Promise<BatchHandler<C>>;
}

/** Joined-or-not state of every archive consumer of this process, for /readyz. */
const consumerStates = new WeakMap<FastifyInstance, Map<string, string>>();

/** Throws while any archive consumer of `app` has not joined its group yet. */
export async function consumersJoined(app: FastifyInstance): Promise<void> {
  const waiting = [...(consumerStates.get(app) ?? new Map<string, string>())].filter(
    ([, state]) => state !== 'joined',
  );
  if (waiting.length > 0) throw new Error(waiting.map(([topic, state]) => `${topic}: ${state}`).join('; '));
}

const RETRY_MS = 5000;

/** A consumer plugin of one topic, as `definition` describes it. */
export function topicConsumer<O extends ConsumerOptions, C extends { batches: number }>(
  definition: TopicConsumerDefinition<O, C>,
) {
  return fp<O>(
    async (app, options) => {
      const stats = definition.counters();
      app.decorate(definition.statsDecorator, stats as unknown);
      const handle = await definition.handler(app, options);
      const counters = stats as unknown as Record<string, number>;
      await consumeTopic(app, {
        topic: definition.topic,
        groupId: definition.groupId(options.groupId),
        numPartitions: definition.numPartitions,
        partitionsConsumedConcurrently: definition.partitionsConsumedConcurrently,
        handleBatch: async (messages, partition) => {
          const { poison, counts } = await handle(messages, partition);
          stats.batches += 1;
          for (const [name, value] of Object.entries(counts) as [string, number][]) counters[name]! += value;
          return poison;
        },
      });
    },
    { name: definition.name, dependencies: ['cz-database', 'cz-kafka'] },
  );
}

interface TopicConsumerOptions {
  topic: Topic;
  groupId: string;
  numPartitions: number | undefined;
  partitionsConsumedConcurrently: number | undefined;
  handleBatch: (messages: KafkaMessage[], partition: number) => Promise<PoisonRecord[]>;
}

/**
 * The life cycle: makes sure the topic exists while the plugin loads, joins the group once the
 * app is ready (so the database and routes are up first) and leaves it on close. The join runs in
 * the background: after a crash the group waits for the dead member's session (30 s) and a
 * restarted broker's coordinator may still be loading, neither of which may stop the service from
 * starting; /readyz says "joining" until it is in.
 */
async function consumeTopic(app: FastifyInstance, options: TopicConsumerOptions): Promise<void> {
  const { numPartitions, ...consumer } = options;
  await ensureTopics(app.kafka, [{ topic: options.topic, ...(numPartitions ? { numPartitions } : {}) }]);
  const states = consumerStates.get(app) ?? new Map<string, string>();
  consumerStates.set(app, states);
  states.set(options.topic, 'joining');
  let running: RunningConsumer | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let starting: Promise<void> | undefined;
  const start = async (): Promise<void> => {
    try {
      const started = await runBatchConsumer({ ...consumer, kafka: app.kafka, logger: app.log as never });
      if (closed) return void (await started.stop());
      running = started;
      states.set(options.topic, 'joined');
      app.log.info({ topic: options.topic, groupId: options.groupId }, 'consumer joined');
    } catch (err) {
      if (closed) return;
      states.set(options.topic, `join failed, retrying: ${err instanceof Error ? err.message : String(err)}`);
      app.log.error({ err, topic: options.topic }, 'consumer could not join; retrying in 5 s');
      retry = setTimeout(() => void (starting = start()), RETRY_MS);
    }
  };
  app.addHook('onReady', async () => {
    starting = start();
  });
  app.addHook('onClose', async () => {
    closed = true;
    if (retry) clearTimeout(retry);
    await starting;
    await running?.stop();
  });
}
