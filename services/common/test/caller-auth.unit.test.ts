import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, mock, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { CallerGrants } from '@cz/contracts';
import { assertCorp, callerAuthPlugin, type CallerAuthOptions } from '../src/caller-auth';
import { errorHandlerPlugin } from '../src/errors';
import { RemoteKeyProvider } from '../src/keyclient';

/*
 * The caller-auth plugin against a stub key service over real HTTP (the key client's own
 * transport), and the client-certificate path over a real TLS socket with certificates made here.
 */

const SERVICE_TOKEN = `cks_${'S'.repeat(43)}`;
const WRITER_TOKEN = `cks_${'W'.repeat(43)}`;
const READER_TOKEN = `cks_${'R'.repeat(43)}`;
const BRANCH_TOKEN = `cks_${'B'.repeat(43)}`;

const grants = (name: string, operations: CallerGrants['operations'], corps: string[]): CallerGrants => ({
  name,
  kind: 'service',
  classes: [],
  operations,
  corps,
});

/** A key service that knows a few callers; `mode` makes it misbehave. */
class StubKeyService {
  readonly app = Fastify();
  readonly tokens = new Map<string, CallerGrants>([
    [WRITER_TOKEN, grants('writer', ['ingest.write'], ['*'])],
    [READER_TOKEN, grants('reader', ['archiver.read'], ['*'])],
    [BRANCH_TOKEN, grants('branch-puller', ['ingest.write'], ['corp-a'])],
  ]);
  readonly names = new Map<string, CallerGrants>([
    ['tls-caller', grants('tls-caller', ['ingest.write'], ['corp-a'])],
  ]);
  mode: 'ok' | 'sealed' | 'refuses-us' = 'ok';
  introspections = 0;
  url = '';

  async start() {
    this.app.post<{ Body: { token: string } }>('/v1/callers/introspect', async (request, reply) => {
      this.introspections++;
      if (this.mode === 'sealed') return reply.code(503).send({ code: 'sealed', message: 'sealed' });
      if (this.mode === 'refuses-us' || request.headers.authorization !== `Bearer ${SERVICE_TOKEN}`) {
        return reply.code(401).send({ code: 'unauthorized', message: 'unknown credential' });
      }
      const caller = this.tokens.get(request.body.token);
      return caller ? { active: true, caller } : { active: false };
    });
    this.app.get<{ Params: { name: string } }>('/v1/callers/:name/grants', async (request, reply) => {
      this.introspections++;
      if (request.headers.authorization !== `Bearer ${SERVICE_TOKEN}`) return reply.code(401).send({});
      const caller = this.names.get(request.params.name);
      return caller ?? reply.code(404).send({ code: 'not_found', message: 'no such caller' });
    });
    await this.app.listen({ host: '127.0.0.1', port: 0 });
    this.url = `http://127.0.0.1:${(this.app.server.address() as AddressInfo).port}`;
  }
}

interface Harness {
  app: FastifyInstance;
  logs: string[];
  handled: () => number;
}

/** A service with one guarded write route (`ingest.write`, corp checked) and its logs. */
async function service(
  directoryUrl: string,
  options: Partial<CallerAuthOptions> = {},
  https?: { key: Buffer; cert: Buffer; ca: Buffer },
): Promise<Harness> {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  // one instance type for both (Fastify's HTTPS and HTTP overloads give two that do not unite)
  const app = (https
    ? Fastify({
        logger: { level: 'info', stream },
        https: { ...https, requestCert: true, rejectUnauthorized: false },
      })
    : Fastify({ logger: { level: 'info', stream } })) as unknown as FastifyInstance;
  let handled = 0;
  await app.register(errorHandlerPlugin);
  await app.register(callerAuthPlugin, {
    directory: new RemoteKeyProvider({ url: directoryUrl, token: SERVICE_TOKEN, timeoutMs: 1000 }),
    ...options,
  });
  app.post<{ Body: { corpId: string } }>(
    '/write',
    { onRequest: app.requireCaller('ingest.write') },
    async (request) => {
      assertCorp(request, request.body.corpId, 'records 0..1 of this batch');
      handled++;
      return { caller: request.caller?.name };
    },
  );
  await app.ready();
  return { app, logs, handled: () => handled };
}

const post = (h: Harness, headers: Record<string, string> = {}, corpId = 'corp-a') =>
  h.app.inject({ method: 'POST', url: '/write?q=x', headers, payload: { corpId } });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('caller-auth: bearer credentials introspected at the key service', () => {
  const stub = new StubKeyService();
  before(() => stub.start());
  after(() => stub.app.close());

  test('[REG-06] no credential → 401 with a Bearer challenge, the handler never runs', async () => {
    const h = await service(stub.url);
    const res = await post(h);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json<{ code: string }>().code, 'unauthorized');
    assert.match(String(res.headers['www-authenticate']), /^Bearer /);
    assert.equal(h.handled(), 0);
    await h.app.close();
  });

  test('a malformed or non-service credential → 401 without asking the key service', async () => {
    const h = await service(stub.url);
    const before = stub.introspections;
    for (const authorization of [
      'Basic dXNlcjpwYXNz',
      'Bearer',
      `Bearer cko_${'O'.repeat(43)}`,
      'Bearer x y',
    ]) {
      assert.equal((await post(h, { authorization })).statusCode, 401, authorization);
    }
    assert.equal(stub.introspections, before);
    assert.equal(h.handled(), 0);
    await h.app.close();
  });

  test('unknown credential → 401, logged with a fingerprint and never the credential', async () => {
    const h = await service(stub.url);
    const unknown = `cks_${'U'.repeat(43)}`;
    const res = await post(h, bearer(unknown));
    assert.equal(res.statusCode, 401);
    assert.equal(h.handled(), 0);
    const failure = h.logs.find((l) => l.includes('caller authentication failed'));
    assert.ok(failure, 'the failed attempt is logged');
    assert.match(failure, /"reason":"unknown_or_revoked"/);
    assert.match(failure, /"credential":"[0-9a-f]{12}"/);
    assert.ok(
      !h.logs.some((l) => l.includes(unknown) || l.includes('U'.repeat(20))),
      'no credential in logs',
    );
    await h.app.close();
  });

  test('a granted caller passes; its grants are on the request; answers are cached', async () => {
    const h = await service(stub.url);
    const before = stub.introspections;
    for (let i = 0; i < 3; i++) {
      const res = await post(h, bearer(WRITER_TOKEN));
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { caller: 'writer' });
    }
    assert.equal(stub.introspections - before, 1, 'one introspection for three requests');
    assert.equal(h.handled(), 3);
    await h.app.close();
  });

  test('credential without the operation → 403 operation_not_allowed', async () => {
    const h = await service(stub.url);
    const res = await post(h, bearer(READER_TOKEN));
    assert.equal(res.statusCode, 403);
    assert.equal(res.json<{ code: string }>().code, 'operation_not_allowed');
    assert.equal(h.handled(), 0);
    await h.app.close();
  });

  test('valid credential, foreign corp → 403 corp_not_allowed naming the corp', async () => {
    const h = await service(stub.url);
    const res = await post(h, bearer(BRANCH_TOKEN), 'corp-b');
    assert.equal(res.statusCode, 403);
    const body = res.json<{ code: string; message: string }>();
    assert.equal(body.code, 'corp_not_allowed');
    assert.match(body.message, /corp-b/);
    assert.match(body.message, /records 0\.\.1/);
    assert.equal(h.handled(), 0);
    assert.equal((await post(h, bearer(BRANCH_TOKEN), 'corp-a')).statusCode, 200, 'its own corp passes');
    await h.app.close();
  });

  test('revoked credential → 401 once the cache window has passed', async () => {
    const h = await service(stub.url, { cacheTtlMs: 300 });
    const token = `cks_${'V'.repeat(43)}`;
    stub.tokens.set(token, grants('revokable', ['ingest.write'], ['*']));
    assert.equal((await post(h, bearer(token))).statusCode, 200);
    stub.tokens.delete(token);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal((await post(h, bearer(token))).statusCode, 401);
    await h.app.close();
  });

  test('the cache window never exceeds 30 s, whatever is configured', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      const h = await service(stub.url, { cacheTtlMs: 10 * 60000 });
      const token = `cks_${'X'.repeat(43)}`;
      stub.tokens.set(token, grants('long-cache', ['ingest.write'], ['*']));
      assert.equal((await post(h, bearer(token))).statusCode, 200);
      stub.tokens.delete(token);
      mock.timers.tick(29000);
      assert.equal((await post(h, bearer(token))).statusCode, 200, 'still inside the window');
      mock.timers.tick(1500);
      assert.equal((await post(h, bearer(token))).statusCode, 401, 'asked again after 30 s');
      await h.app.close();
    } finally {
      mock.timers.reset();
    }
  });

  test('an unknown credential is remembered briefly, then asked again', async () => {
    const h = await service(stub.url, { negativeCacheTtlMs: 200 });
    const token = `cks_${'N'.repeat(43)}`;
    const before = stub.introspections;
    assert.equal((await post(h, bearer(token))).statusCode, 401);
    assert.equal((await post(h, bearer(token))).statusCode, 401);
    assert.equal(stub.introspections - before, 1);
    stub.tokens.set(token, grants('late', ['ingest.write'], ['*']));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await post(h, bearer(token))).statusCode, 200);
    await h.app.close();
  });

  test('key service sealed, refusing our credential, or unreachable → 503, never fail open', async () => {
    for (const mode of ['sealed', 'refuses-us'] as const) {
      stub.mode = mode;
      const h = await service(stub.url);
      const res = await post(h, bearer(WRITER_TOKEN));
      assert.equal(res.statusCode, 503, mode);
      assert.equal(res.json<{ code: string }>().code, 'keyservice_unavailable');
      assert.equal(h.handled(), 0);
      await h.app.close();
    }
    stub.mode = 'ok';
    const nowhere = await service('http://127.0.0.1:9');
    const res = await post(nowhere, bearer(WRITER_TOKEN));
    assert.equal(res.statusCode, 503);
    assert.equal(res.json<{ code: string }>().code, 'keyservice_unavailable');
    assert.equal(nowhere.handled(), 0);
    await nowhere.app.close();
  });
});

describe('caller-auth: client certificates from the CA (CN = caller name)', () => {
  const stub = new StubKeyService();
  let dir = '';
  const file = (name: string) => readFileSync(join(dir, name));

  /** A CA, a server certificate for 127.0.0.1 and client certificates; `rogue` is another CA. */
  function makeCertificates() {
    dir = mkdtempSync(join(tmpdir(), 'cz-caller-auth-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const key = (name: string) =>
      openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', name);
    for (const ca of ['ca', 'rogue']) {
      key(`${ca}.key`);
      openssl(
        'req',
        '-x509',
        '-new',
        '-key',
        `${ca}.key`,
        '-subj',
        `/CN=${ca} test CA`,
        '-days',
        '2',
        '-out',
        `${ca}.crt`,
      );
    }
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    const sign = (name: string, subject: string, ca: string, ext: string) => {
      key(`${name}.key`);
      openssl('req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
      openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${ca}.crt`,
        '-CAkey',
        `${ca}.key`,
        '-CAcreateserial',
        '-days',
        '2',
        '-out',
        `${name}.crt`,
        '-extfile',
        ext,
      );
    };
    sign('server', '/CN=127.0.0.1', 'ca', 'server.ext');
    sign('client', '/CN=tls-caller', 'ca', 'client.ext');
    sign('unknown-client', '/CN=nobody', 'ca', 'client.ext');
    sign('rogue-client', '/CN=tls-caller', 'rogue', 'client.ext');
  }

  before(async () => {
    makeCertificates();
    await stub.start();
  });
  after(async () => {
    await stub.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const postOverTls = (port: number, client?: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const body = JSON.stringify({ corpId: 'corp-a' });
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/write',
          ca: file('ca.crt'),
          ...(client ? { cert: file(`${client}.crt`), key: file(`${client}.key`) } : {}),
          headers: { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  test('a certificate from the CA authenticates its CN; without one, a stranger CN or another CA → 401', async () => {
    const h = await service(
      stub.url,
      {},
      { key: file('server.key'), cert: file('server.crt'), ca: file('ca.crt') },
    );
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (h.app.server.address() as AddressInfo).port;
    try {
      const ok = await postOverTls(port, 'client');
      assert.equal(ok.status, 200, ok.body);
      assert.deepEqual(JSON.parse(ok.body), { caller: 'tls-caller' });
      assert.equal((await postOverTls(port)).status, 401, 'no certificate');
      assert.equal(
        (await postOverTls(port, 'unknown-client')).status,
        401,
        'a CN the key service does not know',
      );
      assert.equal((await postOverTls(port, 'rogue-client')).status, 401, 'a certificate from another CA');
      assert.equal(h.handled(), 1);
      // a bearer header wins over the certificate
      const asReader = await postOverTls(port, 'client', bearer(READER_TOKEN));
      assert.equal(asReader.status, 403);
    } finally {
      await h.app.close();
    }
  });
});
