/**
 * Caller credentials for tests, the demo loader and the benches: the stack's `dev` caller (every
 * operation, every corp, issued by the stack's bootstrap), and the in-process services' way of
 * asking the key service who is calling.
 */
import { existsSync, readFileSync } from 'node:fs';
import { RemoteKeyProvider, envString, type CallerAuthOptions } from '@cz/common';
import { loadStackEnv, repoRoot } from './stack';

/** Where the stack's bootstrap keeps the key-service credential of caller `name`. */
export const callerTokenFile = (name: string) => `${repoRoot}.stack/secrets/keyservice/callers/${name}.token`;

/** The `dev` caller's credential (the same file loadStackEnv reads for CZ_KEYSERVICE_TOKEN). */
export function devCallerToken(): string {
  const file = callerTokenFile('dev');
  if (!existsSync(file)) {
    throw new Error(`${file} not found: start the local stack first (make up) so that the dev caller exists`);
  }
  return readFileSync(file, 'utf8').trim();
}

/** `Authorization: Bearer <token>` for a request to ingest, the archiver or recordings (default: dev). */
export const callerHeaders = (token: string = devCallerToken()) => ({ authorization: `Bearer ${token}` });

/**
 * Caller auth for an in-process service: the key service of the local stack answers, asked with
 * the dev credential (which holds `callers.introspect`); `overrides` e.g. shorten the cache.
 */
export function testCallerAuth(overrides: Partial<CallerAuthOptions> = {}): CallerAuthOptions {
  loadStackEnv();
  return {
    directory: new RemoteKeyProvider({ url: envString('CZ_KEYSERVICE_URL'), token: devCallerToken() }),
    ...overrides,
  };
}
