/**
 * In-process services for end-to-end tests on the real stack (fresh test database, shared Kafka):
 * the ingest → Kafka → archiver path that several services' tests drive.
 */
import { randomBytes } from 'node:crypto';
import type { KeyProvider } from '../src/crypto/index';
import { createServer, kafkaConfig } from '../src/index';
import archiver from '../../archiver/src/app';
import ingest from '../../ingest/src/app';
import type { TestDatabase } from './support';

export interface TestAppOptions {
  logger?: boolean;
}

/**
 * An archiver on `db` with Kafka client id `clientId`, in a consumer group of its own
 * (`<groupPrefix>-<random>`, by default prefixed with the client id) so that it reads every topic
 * from the beginning and competes with no other test.
 */
export async function buildArchiver(
  db: TestDatabase,
  keys: KeyProvider,
  clientId: string,
  options: TestAppOptions & { groupPrefix?: string } = {},
): Promise<ReturnType<typeof createServer>> {
  const app = createServer('archiver', { logger: options.logger ?? false });
  await app.register(archiver, {
    database: db.config,
    kafka: kafkaConfig(clientId),
    keys,
    groupId: `${options.groupPrefix ?? clientId}-${randomBytes(4).toString('hex')}`,
  });
  await app.ready();
  return app;
}

/** An ingest producing to the shared Kafka with client id `clientId`. */
export async function buildIngest(
  keys: KeyProvider,
  clientId: string,
  options: TestAppOptions & { bodyLimit?: number } = {},
): Promise<ReturnType<typeof createServer>> {
  const app = createServer('ingest', {
    logger: options.logger ?? false,
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
  });
  await app.register(ingest, { kafka: kafkaConfig(clientId), keys });
  await app.ready();
  return app;
}
