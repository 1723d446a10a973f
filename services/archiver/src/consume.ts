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
}

/**
 * The life cycle every archive consumer shares: makes sure its topic exists while the plugin
 * loads, joins the group once the app is ready (so the database and routes are up first) and
 * leaves it on close.
 */
export async function consumeTopic(app: FastifyInstance, options: TopicConsumerOptions): Promise<void> {
  const { kafka: config, ...consumer } = options;
  const kafka = createKafka(config, app.log as never);
  await ensureTopics(kafka, [{ topic: options.topic }]);
  let running: RunningConsumer | undefined;
  app.addHook('onReady', async () => {
    running = await runBatchConsumer({ ...consumer, kafka, logger: app.log as never });
  });
  app.addHook('onClose', async () => {
    await running?.stop();
  });
}
