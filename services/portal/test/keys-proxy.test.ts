/**
 * The portal's relay for the security officers' console page (/v1/keyservice/*): only officer
 * endpoints, the officer's bearer credential and nothing else, bounded bodies and rate. Each
 * guarantee against a stand-in key service that records what reaches it; then the real key
 * service of the local stack, with the demo officers' credentials.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ErrorReply, KeyringListReply, OfficerSelfReply } from '@cz/contracts';
import { createServer, errorHandlerPlugin, optionalClientTlsFromEnv, secureFetchFor } from '@cz/common';
import { loadStackEnv, repoRoot } from '@cz/testkit';
import keysProxy, { type KeysProxyOptions } from '../src/routes/keys-proxy';

loadStackEnv();
const secretDir = path.join(repoRoot, '.stack', 'secrets', 'keyservice');
const officerToken = (name: string) =>
  readFileSync(path.join(secretDir, 'officers', `${name}.token`), 'utf8').trim();
const callerToken = (name: string) =>
  readFileSync(path.join(secretDir, 'callers', `${name}.token`), 'utf8').trim();
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function relayTo(options: KeysProxyOptions) {
  const app = createServer('portal', { logger: false });
  await app.register(errorHandlerPlugin);
  await app.register(keysProxy, options);
  await app.ready();
  return app;
}

/** A stand-in key service that answers every request `{ ok: true }` and records what it got. */
async function recordingUpstream() {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('key-service relay (stand-in key service)', () => {
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  let app: Awaited<ReturnType<typeof relayTo>>;
  const officer = bearer('cko_' + 'a'.repeat(43));

  before(async () => {
    upstream = await recordingUpstream();
    app = await relayTo({ url: upstream.url });
  });
  after(async () => {
    await app.close();
    await upstream.close();
  });

  test('[REG-06] data keys, index keys, introspection, init, enrolment, unseal and credential collection are never relayed', async () => {
    const refused: { method: 'GET' | 'POST'; url: string }[] = [
      { method: 'POST', url: '/v1/keyservice/datakeys/daily' },
      { method: 'POST', url: '/v1/keyservice/datakeys/unwrap' },
      { method: 'GET', url: '/v1/keyservice/datakeys/daily' },
      { method: 'POST', url: '/v1/keyservice/indexkeys' },
      { method: 'POST', url: '/v1/keyservice/callers/introspect' },
      { method: 'POST', url: '/v1/keyservice/sys/init' },
      { method: 'POST', url: '/v1/keyservice/sys/enrol' },
      { method: 'POST', url: '/v1/keyservice/sys/unseal' },
      { method: 'POST', url: '/v1/keyservice/sys/seal' },
      { method: 'GET', url: `/v1/keyservice/requests/${'0'.repeat(32)}/credential` },
      { method: 'POST', url: '/v1/keyservice/officers/me/public-key' },
      { method: 'GET', url: '/v1/keyservice/../datakeys/daily' },
      { method: 'GET', url: '/v1/keyservice/%2e%2e/datakeys/daily' },
    ];
    for (const { method, url } of refused) {
      const res = await app.inject({
        method,
        url,
        headers: officer,
        payload: method === 'POST' ? {} : undefined,
      });
      assert.equal(res.statusCode, 404, `${method} ${url} → ${res.statusCode}`);
    }
    assert.deepEqual(upstream.seen, [], 'nothing reached the key service');
  });

  test('passes on the officer bearer and nothing else: no cookie, no portal session, no forwarded address', async () => {
    upstream.seen.length = 0;
    const res = await app.inject({
      method: 'POST',
      url: `/v1/keyservice/requests/${'ab'.repeat(16)}/reject?debug=1`,
      headers: {
        ...officer,
        cookie: 'cz_session=portal-session-token',
        'x-forwarded-for': '10.0.0.9',
        'x-cz-portal-user': 'admin',
        'content-type': 'application/json',
      },
      payload: { reason: 'not now' },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(upstream.seen.length, 1);
    const [seen] = upstream.seen;
    assert.equal(seen!.method, 'POST');
    assert.equal(seen!.url, `/v1/requests/${'ab'.repeat(16)}/reject`, 'path mapped, query string dropped');
    assert.equal(seen!.headers.authorization, officer.authorization);
    assert.deepEqual(JSON.parse(seen!.body), { reason: 'not now' });
    for (const header of ['cookie', 'x-forwarded-for', 'x-cz-portal-user']) {
      assert.equal(seen!.headers[header], undefined, `${header} must not be relayed`);
    }
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  test('lists pass on only their own query parameters', async () => {
    upstream.seen.length = 0;
    const res = await app.inject({
      method: 'GET',
      url: '/v1/keyservice/audit/events?before=42&limit=10&token=x',
      headers: officer,
    });
    assert.equal(res.statusCode, 200);
    assert.equal(upstream.seen[0]!.url, '/v1/audit/events?before=42&limit=10');
  });

  test('[REG-06] no officer credential → 401, the key service is not asked', async () => {
    upstream.seen.length = 0;
    for (const headers of [
      {},
      { authorization: 'Basic b2ZmaWNlcjpwdw==' },
      { authorization: `Bearer ${'x'.repeat(300)}` },
    ]) {
      const res = await app.inject({ method: 'GET', url: '/v1/keyservice/keyrings', headers });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json<ErrorReply>().code, 'unauthorized');
    }
    assert.equal(upstream.seen.length, 0);
  });

  test('bad path parameters → 400 before any URL is built', async () => {
    upstream.seen.length = 0;
    for (const url of [
      '/v1/keyservice/requests/..%2F..%2Fdatakeys%2Fdaily/approve',
      '/v1/keyservice/requests/XYZ/approve',
      '/v1/keyservice/callers/..%2Fintrospect/revoke',
      '/v1/keyservice/callers/Portal/revoke',
    ]) {
      const res = await app.inject({ method: 'POST', url, headers: officer });
      assert.equal(res.statusCode, 400, url);
    }
    assert.equal(upstream.seen.length, 0);
  });

  test('a body over 16 KiB → 413, not relayed', async () => {
    upstream.seen.length = 0;
    const res = await app.inject({
      method: 'POST',
      url: '/v1/keyservice/requests',
      headers: { ...officer, 'content-type': 'application/json' },
      payload: JSON.stringify({ kind: 'rotate', dataClass: 'chat', reason: 'x'.repeat(17 * 1024) }),
    });
    assert.equal(res.statusCode, 413);
    assert.equal(upstream.seen.length, 0);
  });

  test('rate-limited per client address → 429', async () => {
    const limited = await relayTo({ url: upstream.url, rateLimit: { max: 3, windowMs: 60000 } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        codes.push(
          (await limited.inject({ method: 'GET', url: '/v1/keyservice/keyrings', headers: officer }))
            .statusCode,
        );
      }
      assert.deepEqual(codes, [200, 200, 200, 429, 429]);
    } finally {
      await limited.close();
    }
  });

  test('the key service unreachable → 503 keyservice_unavailable', async () => {
    const dead = await relayTo({ url: 'http://127.0.0.1:9' });
    try {
      const res = await dead.inject({ method: 'GET', url: '/v1/keyservice/keyrings', headers: officer });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json<ErrorReply>().code, 'keyservice_unavailable');
    } finally {
      await dead.close();
    }
  });
});

describe('key-service relay (the local stack’s key service)', () => {
  let app: Awaited<ReturnType<typeof relayTo>>;
  const keyServiceUrl = process.env.CZ_KEYSERVICE_URL ?? 'http://127.0.0.1:8082';

  before(async () => {
    // as the portal reaches it: HTTPS verified against the stack's CA when TLS is on
    app = await relayTo({ url: keyServiceUrl, fetch: secureFetchFor(optionalClientTlsFromEnv()) });
  });
  after(async () => {
    await app.close();
  });

  test("an officer's own credential reads the keyrings through the relay, as the key service answers them", async () => {
    const token = officerToken('officer-a');
    const relayed = await app.inject({
      method: 'GET',
      url: '/v1/keyservice/keyrings',
      headers: bearer(token),
    });
    assert.equal(relayed.statusCode, 200);
    const direct = await fetch(`${keyServiceUrl}/v1/keyrings`, { headers: bearer(token) });
    const relayedRings = relayed
      .json<KeyringListReply>()
      .keyrings.map((ring) => [ring.dataClass, ring.latestVersion]);
    const directRings = ((await direct.json()) as KeyringListReply).keyrings.map((ring) => [
      ring.dataClass,
      ring.latestVersion,
    ]);
    assert.deepEqual(relayedRings, directRings);
    const self = await app.inject({
      method: 'GET',
      url: '/v1/keyservice/officers/me',
      headers: bearer(token),
    });
    assert.equal(self.statusCode, 200);
    assert.deepEqual(self.json<OfficerSelfReply>(), { name: 'officer-a', kind: 'officer' });
  });

  test('[REG-06] a wrong credential → the key service’s 401 and its message', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/v1/keyservice/keyrings',
      headers: bearer('cko_' + 'Z'.repeat(43)),
    });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json<ErrorReply>().code, 'unauthorized');
  });

  test('[REG-06] a service credential gets nothing through the relay: officer paths refuse it, key paths do not exist', async () => {
    const token = callerToken('dev');
    const keyrings = await app.inject({
      method: 'GET',
      url: '/v1/keyservice/keyrings',
      headers: bearer(token),
    });
    assert.ok(
      [401, 403].includes(keyrings.statusCode),
      `keyrings with a service credential → ${keyrings.statusCode}`,
    );
    const daily = await app.inject({
      method: 'POST',
      url: '/v1/keyservice/datakeys/daily',
      headers: bearer(token),
      payload: { dataClass: 'chat' },
    });
    assert.equal(daily.statusCode, 404);
    assert.ok(!daily.body.includes('plaintext'));
  });
});
