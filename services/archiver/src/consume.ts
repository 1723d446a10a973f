import type { FastifyInstance } from 'fastify';
import {
  createKafka,
  ensureTopics,
  runBatchConsumer,
  type BatchConsumerOptions,
  type KafkaConfig,
  type RunningConsumer,
} from '@cz/common';

export interface TopicConsumerOptions extends Omit<BatchConsumerOptions, 'kafka' | 'logger'> {
  kafka: KafkaConfig;
  /** partitions of the topic if this consumer creates it (default: ensureTopics') */
  numPartitions?: number;
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

/**
 * The life cycle every archive consumer shares: makes sure its topic exists while the plugin
 * loads, joins the group once the app is ready (so the database and routes are up first) and
 * leaves it on close. The join runs in the background: after a crash the group waits for the dead
 * member's session (30 s) and a restarted broker's coordinator may still be loading, neither of
 * which may stop the service from starting; /readyz says "joining" until it is in.
 */
export async function consumeTopic(app: FastifyInstance, options: TopicConsumerOptions): Promise<void> {
  const { kafka: config, numPartitions, ...consumer } = options;
  const kafka = createKafka(config, app.log as never);
  await ensureTopics(kafka, [{ topic: options.topic, ...(numPartitions ? { numPartitions } : {}) }]);
  const states = consumerStates.get(app) ?? new Map<string, string>();
  consumerStates.set(app, states);
  states.set(options.topic, 'joining');
  let running: RunningConsumer | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let starting: Promise<void> | undefined;
  const start = async (): Promise<void> => {
    try {
      const started = await runBatchConsumer({ ...consumer, kafka, logger: app.log as never });
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
