/**
 * Caller credentials for tests, the demo loader and the benches: the stack's `dev` caller (every
 * operation, every corp, issued by the stack's bootstrap), the in-process services' way of asking
 * the key service who is calling, and restricted callers issued on the stack's key service the
 * way security officers do it (officer-a requests, officer-b approves, officer-a collects).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  RemoteKeyProvider,
  envString,
  optionalClientTlsFromEnv,
  secureFetchFor,
  type CallerAuthOptions,
} from '@cz/common';
import type { DataClass } from '@cz/common/crypto';
import type { CallerOperation, CollectedCredential, KeyRequestView } from '@cz/contracts';
import { decryptAsOfficer } from '@cz/keyservice';
import { loadStackEnv, repoRoot } from './stack';

const secretsDir = `${repoRoot}.stack/secrets/keyservice`;

/** Where the stack's bootstrap keeps the key-service credential of caller `name`. */
export const callerTokenFile = (name: string) => `${secretsDir}/callers/${name}.token`;

function readSecret(file: string, what: string): string {
  if (!existsSync(file))
    throw new Error(`${file} not found: start the local stack first (make up) so that ${what} exists`);
  return readFileSync(file, 'utf8').trim();
}

/** The `dev` caller's credential (the same file loadStackEnv reads for CZ_KEYSERVICE_TOKEN). */
export const devCallerToken = (): string => readSecret(callerTokenFile('dev'), 'the dev caller');

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

interface StackOfficer {
  name: string;
  token: string;
  privateKey: string;
}

/** A demo security officer of the local stack (credential and SM2 private key from its bootstrap). */
function stackOfficer(name: string): StackOfficer {
  return {
    name,
    token: readSecret(`${secretsDir}/officers/${name}.token`, `officer ${name}`),
    privateKey: readSecret(`${secretsDir}/officers/${name}.key`, `officer ${name}'s key`),
  };
}

/** An officer's call to the stack's key service; throws unless it answers `status`. */
async function asOfficer<T>(
  officer: StackOfficer,
  method: string,
  path: string,
  status: number,
  body?: unknown,
) {
  loadStackEnv();
  const fetch = secureFetchFor(optionalClientTlsFromEnv());
  const res = await fetch(`${envString('CZ_KEYSERVICE_URL')}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${officer.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status !== status)
    throw new Error(`key service ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export interface TestCallerGrants {
  operations: CallerOperation[];
  corps: string[];
  classes?: DataClass[];
}

export interface IssuedTestCaller {
  name: string;
  token: string;
}

/**
 * Issues a caller with exactly `grants` on the stack's key service under dual control (officer-a
 * requests, officer-b approves, officer-a collects and decrypts the credential). Its name is
 * `<prefix>-<random>`; revoke it with `revokeTestCaller` when done.
 */
export async function issueTestCaller(grants: TestCallerGrants, prefix = 'ctest'): Promise<IssuedTestCaller> {
  const requester = stackOfficer('officer-a');
  const approver = stackOfficer('officer-b');
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  const request = await asOfficer<KeyRequestView>(requester, 'POST', '/v1/callers', 202, {
    name,
    classes: grants.classes ?? [],
    operations: grants.operations,
    corps: grants.corps,
    reason: 'test caller',
  });
  await asOfficer(approver, 'POST', `/v1/requests/${request.id}/approve`, 200);
  const collected = await asOfficer<CollectedCredential>(
    requester,
    'GET',
    `/v1/requests/${request.id}/credential`,
    200,
  );
  return { name, token: decryptAsOfficer(collected.encryptedToken, requester.privateKey) };
}

/** Revokes a test caller under dual control (officer-a requests, officer-b approves). */
export async function revokeTestCaller(name: string): Promise<void> {
  const requester = stackOfficer('officer-a');
  const approver = stackOfficer('officer-b');
  const request = await asOfficer<KeyRequestView>(requester, 'POST', `/v1/callers/${name}/revoke`, 202, {
    reason: 'test caller no longer needed',
  });
  await asOfficer(approver, 'POST', `/v1/requests/${request.id}/approve`, 200);
}
