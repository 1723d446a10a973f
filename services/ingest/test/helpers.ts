/** Set-up shared by the ingest tests: an in-process ingest and a reader of what reached Kafka. */
import { Kafka, logLevel } from 'kafkajs';
import { KafkaHeaders, type Topic } from '@cz/contracts';
import { createServer, kafkaConfig, kafkaTransport, type CallerAuthOptions } from '@cz/common';
import { openBuffer, type KeyProvider } from '@cz/common/crypto';
import { drained, eventually, testCallerAuth } from '@cz/testkit';
import ingest from '../src/app';

/**
 * An in-process ingest with client id `clientId`; with `brokers` (e.g. a closed port) it gives up
 * on Kafka at once, for the tests of the 503 path; `callers` changes how it authenticates callers.
 */
export async function buildIngestApp(
  keys: KeyProvider,
  clientId: string,
  bodyLimit: number,
  brokers?: string[],
  callers: Partial<CallerAuthOptions> = {},
): Promise<ReturnType<typeof createServer>> {
  const app = createServer('ingest', { logger: false, bodyLimit });
  const kafka = kafkaConfig(clientId);
  await app.register(ingest, {
    kafka: brokers ? { ...kafka, brokers } : kafka,
    keys,
    callers: testCallerAuth(callers),
    kafkaConnectionTimeoutMs: 1000,
    kafkaRetries: brokers ? 0 : 5,
  });
  await app.ready();
  return app;
}

export interface CorpRecord<T> {
  raw: Buffer;
  key: string;
  value: T;
}

/**
 * Reads what reached `topic` for one corp, opening each sealed value: waits for `expected` records,
 * then until the reader has read the whole topic as it was then, to catch anything written twice.
 */
export async function readCorpRecords<T>(
  keys: KeyProvider,
  topic: Topic,
  corpId: string,
  expected: number,
): Promise<CorpRecord<T>[]> {
  const kafka = new Kafka({
    clientId: 'cz-test-reader',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const groupId = `cz-test-${corpId}-${topic}`;
  const consumer = kafka.consumer({ groupId });
  const found: CorpRecord<T>[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.headers?.[KafkaHeaders.corpId]?.toString() !== corpId || !message.value) return;
      found.push({
        raw: message.value,
        key: message.key?.toString() ?? '',
        value: JSON.parse((await openBuffer(message.value, keys)).toString()) as T,
      });
    },
  });
  try {
    await eventually(`${expected} records of ${corpId} on ${topic}`, async () =>
      found.length >= expected ? true : undefined,
    );
    await drained([{ groupId, topics: [topic] }]);
    return found;
  } finally {
    await consumer.disconnect();
  }
}
