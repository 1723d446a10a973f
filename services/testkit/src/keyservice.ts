/**
 * Builds the key service in-process on a fresh migrated `cz_test_*` database (real MariaDB), and
 * initialises it the way officers would.
 */
import type { LightMyRequestResponse } from 'fastify';
import fp from 'fastify-plugin';
import { createDataSource, createServer } from '@cz/common';
import type { KeyInitReply } from '@cz/contracts';
import app, { KEYS_MIGRATIONS_TABLE, keysMigrations, type KeyServiceSettings } from '@cz/keyservice';
import { createTestDatabase, type TestDatabase } from './stack';

export async function createKeysTestDatabase(): Promise<TestDatabase> {
  return createTestDatabase({
    dataSource: (config) =>
      createDataSource({ config, migrationsTableName: KEYS_MIGRATIONS_TABLE, migrations: keysMigrations }),
  });
}

export type KeyServiceApp = ReturnType<typeof createServer>;

export async function buildKeyService(
  db: TestDatabase,
  settings: Partial<KeyServiceSettings> = {},
  beforeReady: (server: KeyServiceApp) => void = () => undefined,
): Promise<KeyServiceApp> {
  const server = createServer('keyservice', { logger: process.env.KS_TEST_LOG === '1' });
  beforeReady(server);
  // fastify-plugin lifts the app's decorations (keyStore) to the server, for tests that reach in
  await server.register(fp(app), {
    database: db.config,
    settings: { autoRotateCheckMs: 3600000, ...settings },
  });
  await server.ready();
  return server;
}

export const OFFICERS = ['alice', 'bob', 'carol'] as const;

export async function initKeyService(server: KeyServiceApp): Promise<KeyInitReply> {
  const res = await server.inject({
    method: 'POST',
    url: '/v1/sys/init',
    payload: {
      shares: 5,
      threshold: 3,
      officers: [...OFFICERS],
      callers: [{ name: 'ingest' }, { name: 'portal', classes: ['chat', 'index'] }],
    },
  });
  if (res.statusCode !== 200) throw new Error(`init failed: ${res.statusCode} ${res.body}`);
  return res.json<KeyInitReply>();
}

export async function unsealWith(server: KeyServiceApp, shares: string[]): Promise<LightMyRequestResponse> {
  let last: LightMyRequestResponse | undefined;
  for (const share of shares) {
    last = await server.inject({ method: 'POST', url: '/v1/sys/unseal', payload: { share } });
    if (last.statusCode !== 200) throw new Error(`unseal failed: ${last.statusCode} ${last.body}`);
  }
  return last!;
}

export function tokenOf(init: KeyInitReply, kind: 'officers' | 'callers', name: string): string {
  const found = init[kind].find((c) => c.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found.token;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
