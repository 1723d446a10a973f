/**
 * Builds the key service in-process on a fresh migrated `cz_test_*` database (real MariaDB), and
 * runs the ceremony the way officers would: each officer enrols an SM2 key, init (with the
 * bootstrap secret) returns ciphertexts only, each officer decrypts their share and credential,
 * and service callers are issued under dual control (one officer requests, another approves, the
 * requester collects the encrypted credential).
 */
import type { LightMyRequestResponse } from 'fastify';
import fp from 'fastify-plugin';
import { createDataSource, createServer } from '@cz/common';
import { sm2GenerateKeyPair, type DataClass } from '@cz/common/crypto';
import type { CallerOperation, CollectedCredential, KeyInitReply, KeyRequestView } from '@cz/contracts';
import app, {
  KEYS_MIGRATIONS_TABLE,
  decryptAsOfficer,
  keysMigrations,
  type KeyServiceSettings,
} from '@cz/keyservice';
import { createTestDatabase, type TestDatabase } from './stack';

export async function createKeysTestDatabase(): Promise<TestDatabase> {
  return createTestDatabase({
    dataSource: (config) =>
      createDataSource({ config, migrationsTableName: KEYS_MIGRATIONS_TABLE, migrations: keysMigrations }),
  });
}

export type KeyServiceApp = ReturnType<typeof createServer>;

/** The deployment's one-time bootstrap secret of in-process test key services. */
export const TEST_BOOTSTRAP_SECRET = 'test-bootstrap-secret-not-for-production';

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
    settings: { autoRotateCheckMs: 3600000, bootstrapSecret: TEST_BOOTSTRAP_SECRET, ...settings },
  });
  await server.ready();
  return server;
}

/** Five officers: five shares, any three unseal. */
export const OFFICERS = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;
export const TEST_THRESHOLD = 3;

export interface TestOfficer {
  name: string;
  publicKey: string;
  privateKey: string;
  /** the officer's bearer credential, decrypted from init's reply */
  token: string;
}

/** A share as its officer submits it: the share decrypted with their key, and their credential. */
export interface TestShare {
  officer: string;
  share: string;
  token: string;
}

export interface TestCaller {
  name: string;
  classes?: DataClass[];
  operations?: CallerOperation[];
  corps?: string[];
}

export interface KeyCeremony {
  threshold: number;
  officers: TestOfficer[];
  /** one per officer, in OFFICERS order */
  shares: TestShare[];
  callers: { name: string; token: string }[];
  /** init's reply as it came (ciphertexts only) */
  reply: KeyInitReply;
}

const ALL_CLASSES: DataClass[] = ['chat', 'recording', 'pii', 'index', 'audit'];
const KEY_OPERATIONS: CallerOperation[] = ['keys.seal', 'keys.unwrap', 'keys.index', 'keys.rewrap'];

/** What initKeyService issues: ingest may use every class, portal only chat and index keys. */
export const TEST_CALLERS: TestCaller[] = [
  { name: 'ingest', classes: ALL_CLASSES, operations: KEY_OPERATIONS, corps: ['*'] },
  { name: 'portal', classes: ['chat', 'index'], operations: KEY_OPERATIONS, corps: ['*'] },
];

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function expectStatus(res: LightMyRequestResponse, status: number, what: string): void {
  if (res.statusCode !== status) throw new Error(`${what} failed: ${res.statusCode} ${res.body}`);
}

/** Enrols each officer with a fresh SM2 key pair (before init). */
export async function enrolOfficers(
  server: KeyServiceApp,
  names: readonly string[] = OFFICERS,
): Promise<{ name: string; publicKey: string; privateKey: string }[]> {
  const enrolled = [];
  for (const name of names) {
    const pair = sm2GenerateKeyPair();
    const res = await server.inject({
      method: 'POST',
      url: '/v1/sys/enrol',
      payload: { name, publicKey: pair.publicKey, bootstrapSecret: TEST_BOOTSTRAP_SECRET },
    });
    expectStatus(res, 201, `enrol ${name}`);
    enrolled.push({ name, ...pair });
  }
  return enrolled;
}

/**
 * Issues a service caller under dual control: `requester` asks, `approver` approves, the
 * requester collects and decrypts the credential.
 */
export async function issueCaller(
  server: KeyServiceApp,
  requester: TestOfficer,
  approver: TestOfficer,
  caller: TestCaller,
): Promise<string> {
  const created = await server.inject({
    method: 'POST',
    url: '/v1/callers',
    headers: bearer(requester.token),
    payload: caller,
  });
  expectStatus(created, 202, `request caller ${caller.name}`);
  const { id } = created.json<KeyRequestView>();
  const approved = await server.inject({
    method: 'POST',
    url: `/v1/requests/${id}/approve`,
    headers: bearer(approver.token),
  });
  expectStatus(approved, 200, `approve caller ${caller.name}`);
  return collectCredential(server, requester, id);
}

/** The requesting officer collects an approved credential (once) and decrypts it. */
export async function collectCredential(
  server: KeyServiceApp,
  requester: TestOfficer,
  requestId: string,
): Promise<string> {
  const res = await server.inject({
    method: 'GET',
    url: `/v1/requests/${requestId}/credential`,
    headers: bearer(requester.token),
  });
  expectStatus(res, 200, `collect the credential of request ${requestId}`);
  return decryptAsOfficer(res.json<CollectedCredential>().encryptedToken, requester.privateKey);
}

/** The whole ceremony; the service stays sealed (unsealWith). */
export async function initKeyService(
  server: KeyServiceApp,
  callers: TestCaller[] = TEST_CALLERS,
): Promise<KeyCeremony> {
  const enrolled = await enrolOfficers(server);
  const res = await server.inject({
    method: 'POST',
    url: '/v1/sys/init',
    payload: { threshold: TEST_THRESHOLD, bootstrapSecret: TEST_BOOTSTRAP_SECRET },
  });
  expectStatus(res, 200, 'init');
  const reply = res.json<KeyInitReply>();
  const officers: TestOfficer[] = [];
  const shares: TestShare[] = [];
  for (const officer of enrolled) {
    const sealed = reply.officers.find((o) => o.name === officer.name);
    if (!sealed) throw new Error(`init returned nothing for ${officer.name}`);
    const token = decryptAsOfficer(sealed.encryptedCredential, officer.privateKey);
    officers.push({ ...officer, token });
    shares.push({
      officer: officer.name,
      share: decryptAsOfficer(sealed.encryptedShare, officer.privateKey),
      token,
    });
  }
  const [requester, approver] = officers as [TestOfficer, TestOfficer];
  const issued = [];
  for (const caller of callers) {
    issued.push({ name: caller.name, token: await issueCaller(server, requester, approver, caller) });
  }
  return { threshold: reply.threshold, officers, shares, callers: issued, reply };
}

/** Each share submitted by its own officer. */
export async function unsealWith(
  server: KeyServiceApp,
  shares: TestShare[],
): Promise<LightMyRequestResponse> {
  let last: LightMyRequestResponse | undefined;
  for (const { share, token } of shares) {
    last = await server.inject({
      method: 'POST',
      url: '/v1/sys/unseal',
      headers: bearer(token),
      payload: { share },
    });
    expectStatus(last, 200, 'unseal');
  }
  return last!;
}

export function officerOf(init: KeyCeremony, name: string): TestOfficer {
  const found = init.officers.find((o) => o.name === name);
  if (!found) throw new Error(`no officer ${name}`);
  return found;
}

export function tokenOf(init: KeyCeremony, kind: 'officers' | 'callers', name: string): string {
  const found = init[kind].find((c) => c.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found.token;
}
