/**
 * In-process services for end-to-end tests on the real stack (fresh test database, shared Kafka):
 * the ingest → Kafka → archiver path that several services' tests drive.
 */
import { randomBytes } from 'node:crypto';
import archiver from '@cz/archiver';
import { createServer, kafkaConfig, type CallerAuthOptions } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import ingest from '@cz/ingest';
import { testCallerAuth } from './callers';
import type { TestDatabase } from './stack';

export interface TestAppOptions {
  logger?: boolean;
  /** caller auth (default: the stack's key service, asked with the dev credential) */
  callers?: Partial<CallerAuthOptions>;
}

/** An in-process archiver and the consumer group it reads the chat topic with (see `archiverDrained`). */
export type TestArchiver = ReturnType<typeof createServer> & { readonly groupId: string };

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
): Promise<TestArchiver> {
  const groupId = `${options.groupPrefix ?? clientId}-${randomBytes(4).toString('hex')}`;
  const app = createServer('archiver', { logger: options.logger ?? false });
  await app.register(archiver, {
    database: db.config,
    kafka: kafkaConfig(clientId),
    keys,
    groupId,
    callers: testCallerAuth(options.callers),
  });
  await app.ready();
  return Object.assign(app, { groupId });
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
  await app.register(ingest, {
    kafka: kafkaConfig(clientId),
    keys,
    callers: testCallerAuth(options.callers),
  });
  await app.ready();
  return app;
}
