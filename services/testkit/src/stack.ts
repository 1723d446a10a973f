/**
 * The local stack for tests, demo seeding and benches: its env, fresh migrated databases, polling. Integration tests run against the real local stack
 * started by scripts/stack (MariaDB, Kafka, MinIO); nothing here fakes a dependency.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import {
  createMainDataSource,
  databaseConfig,
  migrate,
  readPem,
  secureFetch,
  type DatabaseConfig,
} from '@cz/common';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Loads .stack/*.env (written by `make up` / the stack scripts) into process.env. */
export function loadStackEnv(): void {
  for (const file of ['.stack/stack.env', '.stack/services.env']) {
    const path = `${repoRoot}${file}`;
    if (!existsSync(path)) {
      throw new Error(`${file} not found: start the local stack first (make up, or scripts/stack/up.sh)`);
    }
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const match = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (match?.[1] && process.env[match[1]] === undefined)
        process.env[match[1]] = match[2]!.replace(/^['"]|['"]$/g, '');
    }
  }
  trustStackCaInFetch();
  // tests and local tools use the `dev` key-service credential issued by the stack's bootstrap
  const devToken = `${repoRoot}.stack/secrets/keyservice/callers/dev.token`;
  if (process.env.CZ_KEYSERVICE_TOKEN === undefined && existsSync(devToken)) {
    process.env.CZ_KEYSERVICE_TOKEN = readFileSync(devToken, 'utf8').trim();
  }
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
let fetchPatched = false;

/**
 * Tests reach the live stack's HTTPS services with plain `fetch`. Node reads NODE_EXTRA_CA_CERTS
 * only at process start and a test loads stack.env later, so `fetch` is wrapped once: https://
 * requests to this machine verify the peer against the stack's CA (CZ_TLS_CA_FILE); anything else
 * goes to Node's fetch unchanged. No client certificate is presented: a test authenticates the
 * way the test itself chooses (a caller's credential, or none for the 401 cases).
 */
function trustStackCaInFetch(): void {
  if (fetchPatched || !process.env.CZ_TLS_CA_FILE) return;
  fetchPatched = true;
  const nodeFetch = globalThis.fetch;
  const viaStackCa = secureFetch({ ca: readPem('CZ_TLS_CA_FILE') });
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.protocol !== 'https:' || !LOCAL_HOSTS.has(url.hostname)) return nodeFetch(input, init);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    // a streamed upload stays streamed; any other body is sent whole (with its length)
    const streamed = init?.body instanceof ReadableStream || init?.body instanceof Readable;
    const body = !request.body
      ? undefined
      : streamed
        ? request.body
        : new Uint8Array(await request.arrayBuffer());
    return viaStackCa(url, {
      method: request.method,
      headers,
      ...(body ? { body } : {}),
      signal: request.signal,
    });
  };
}

export interface TestDatabase {
  config: DatabaseConfig;
  /** a raw connection for assertions that must bypass the services (e.g. "no plaintext at rest") */
  query: <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;
  drop: () => Promise<void>;
}

export interface TestDatabaseOptions {
  /** migrates another schema than the main one, e.g. the key service's (default: the main database's) */
  dataSource?: (config: DatabaseConfig) => DataSource;
}

/** A fresh migrated database `cz_test_<random>`, dropped by `drop()`. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  loadStackEnv();
  const base = databaseConfig();
  const name = `cz_test_${randomBytes(5).toString('hex')}`;
  const admin = await mysql.createConnection({
    host: base.host,
    port: base.port,
    user: base.user,
    password: base.password,
    ...(base.ssl ? { ssl: base.ssl } : {}),
  });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const config = { ...base, database: name };
  const dataSource = (options.dataSource ?? createMainDataSource)(config);
  await dataSource.initialize();
  await migrate(dataSource);
  await dataSource.destroy();
  const connection = await mysql.createConnection({
    ...config,
    user: config.user,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  return {
    config,
    query: async <T>(sql: string, params: unknown[] = []) => (await connection.query(sql, params))[0] as T[],
    drop: async () => {
      await connection.end();
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

/** Polls until `probe` returns a value, or fails after `timeoutMs` with `what` in the message. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}` : ''}`,
  );
}

export const uniqueCorp = (prefix = 'testcorp') => `${prefix}-${randomBytes(4).toString('hex')}`;
