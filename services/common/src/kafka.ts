import {
  CompressionTypes,
  Kafka,
  Partitioners,
  logLevel,
  type Consumer,
  type IHeaders,
  type KafkaMessage,
  type Producer,
} from 'kafkajs';
import type { Logger } from 'pino';
import { KafkaHeaders, dlqTopic, type Topic } from '@cz/contracts';
import type { KafkaConfig } from './config';

const levelNames: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(
  config: KafkaConfig,
  logger: Logger,
  options: { connectionTimeout?: number; retries?: number } = {},
): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ...(config.ssl ? { ssl: config.ssl } : {}),
    connectionTimeout: options.connectionTimeout ?? 3000,
    requestTimeout: 30000,
    retry: { retries: options.retries ?? 5, initialRetryTime: 200, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        kafkaLogger[levelNames[level] ?? 'info'](extra, message);
      },
  });
}

export interface TopicSpec {
  topic: Topic;
  numPartitions?: number;
}

/** Creates the topics and their DLQs if missing (auto-creation is off on our brokers). */
export async function ensureTopics(kafka: Kafka, topics: TopicSpec[], timeoutMs = 60000): Promise<void> {
  const wanted = topics.flatMap(({ topic, numPartitions }) => [
    { topic, numPartitions: numPartitions ?? 6 },
    { topic: dlqTopic(topic), numPartitions: 1 },
  ]);
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Several services start together on a fresh broker and race to create the same topics;
    // creating is idempotent here, and we wait until every partition has a leader.
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const existing = new Set(await admin.listTopics());
        const missing = wanted.filter((t) => !existing.has(t.topic));
        if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: false });
        const metadata = await admin.fetchTopicMetadata({ topics: wanted.map((t) => t.topic) });
        const leaderless = metadata.topics.filter(
          (t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0),
        );
        if (leaderless.length === 0) return;
        throw new Error(`no leader yet for ${leaderless.map((t) => t.name).join(', ')}`);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.min(200 * attempt, 2000)));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Idempotent producer with acks from all in-sync replicas: a send that resolves is durable, and a
 * retried send is never written twice by the broker.
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 5 },
  });
}

export interface LazyProducer {
  /** the connected producer; the first call makes sure `topics` exist and connects */
  get: () => Promise<Producer>;
  /** disconnects, if it ever connected */
  close: () => Promise<void>;
}

/**
 * A producer that connects on first use, so a service starts (and reports not-ready) while Kafka
 * is down; a failed connection is forgotten, so the next call tries again.
 */
export function lazyProducer(kafka: Kafka, topics: TopicSpec[]): LazyProducer {
  let connected: Promise<Producer> | undefined;
  const connect = async (): Promise<Producer> => {
    await ensureTopics(kafka, topics);
    const producer = createProducer(kafka);
    await producer.connect();
    return producer;
  };
  return {
    get: async () => {
      connected ??= connect();
      try {
        return await connected;
      } catch (err) {
        connected = undefined;
        throw err;
      }
    },
    close: async () => {
      const producer = await connected?.catch(() => undefined);
      await producer?.disconnect();
    },
  };
}

export interface OutgoingRecord {
  key: string;
  value: Buffer;
  headers: IHeaders;
}

export async function sendDurably(
  producer: Producer,
  topic: string,
  records: OutgoingRecord[],
  timeoutMs = 10000,
): Promise<void> {
  await producer.send({
    topic,
    acks: -1,
    timeout: timeoutMs,
    compression: CompressionTypes.None,
    messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
  });
}

export interface PoisonRecord {
  message: KafkaMessage;
  error: string;
}

export interface BatchConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: Topic;
  logger: Logger;
  /**
   * Handles a batch (already in offset order). Returns the records that can never succeed (bad
   * format, failed integrity check): they go to the DLQ with the error. Throwing means "try the
   * whole batch again" — the handler must be idempotent.
   */
  handleBatch: (messages: KafkaMessage[], partition: number) => Promise<PoisonRecord[]>;
  maxBatchBytes?: number;
  /** batches of different partitions handled at once (default 1); each partition stays in order */
  partitionsConsumedConcurrently?: number;
}

export interface RunningConsumer {
  consumer: Consumer;
  stop: () => Promise<void>;
}

/**
 * Batch consumer with a DLQ. Offsets are committed only after the handler returned, so a crash
 * re-delivers; a consumer crash that kafkajs will not restart exits the process so that the
 * supervisor (Kubernetes, or our scripts) restarts it.
 */
export async function runBatchConsumer(options: BatchConsumerOptions): Promise<RunningConsumer> {
  const { kafka, groupId, topic, logger } = options;
  const consumer = kafka.consumer({
    groupId,
    maxBytes: options.maxBatchBytes ?? 8 * 1024 * 1024,
    sessionTimeout: 30000,
    heartbeatInterval: 3000,
  });
  const dlqProducer = createProducer(kafka);
  await dlqProducer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let stopping = false;
  consumer.on(consumer.events.CRASH, (event) => {
    const restart = (event.payload as { restart?: boolean }).restart;
    logger.error({ err: event.payload.error, restart }, 'kafka consumer crashed');
    if (!restart && !stopping) process.exit(1);
  });
  await consumer.run({
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    eachBatchAutoResolve: false,
    autoCommit: true,
    // kafkajs hands these callbacks in as bound closures, though its typings declare them as methods
    // eslint-disable-next-line @typescript-eslint/unbound-method
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      const poison = await options.handleBatch(batch.messages, batch.partition);
      if (poison.length > 0) {
        await sendDurably(
          dlqProducer,
          dlqTopic(topic),
          poison.map(({ message, error }) => ({
            key: message.key?.toString() ?? '',
            value: message.value ?? Buffer.alloc(0),
            headers: {
              ...(message.headers ?? {}),
              [KafkaHeaders.sourceTopic]: topic,
              [KafkaHeaders.sourcePartition]: String(batch.partition),
              [KafkaHeaders.sourceOffset]: message.offset,
              [KafkaHeaders.sourceGroup]: groupId,
              [KafkaHeaders.error]: error.slice(0, 1000),
            },
          })),
        );
        logger.warn({ topic, partition: batch.partition, count: poison.length }, 'records sent to DLQ');
      }
      const last = batch.messages[batch.messages.length - 1];
      if (last) resolveOffset(last.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
  });
  return {
    consumer,
    stop: async () => {
      stopping = true;
      await consumer.disconnect();
      await dlqProducer.disconnect();
    },
  };
}
