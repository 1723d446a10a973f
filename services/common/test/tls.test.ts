import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import mysql from 'mysql2/promise';
import {
  ServicePorts,
  clientTlsFromEnv,
  createMinioClient,
  createServer,
  databaseConfig,
  kafkaTransport,
  minioConfig,
  requireSecureUrl,
  secureFetch,
  serverTlsFromEnv,
  type ClientTls,
} from '@cz/common';
import { loadStackEnv, repoRoot } from '@cz/testkit';

/*
 * Encrypted transport on the real local stack (issue 10, item 5): MariaDB, Kafka and MinIO accept
 * only TLS, every running service refuses plain HTTP and serves a certificate from the stack's CA,
 * and a service sees a client certificate from another CA as not authorized.
 */

loadStackEnv();

const HOST = '127.0.0.1';
const stackTls = (): ClientTls => clientTlsFromEnv();

/** A plain-HTTP request: its status, or the transport error (a TLS port just drops it). */
function plainHttp(port: number, path: string, method = 'GET', body?: string): Promise<number | Error> {
  return new Promise((resolve) => {
    const request = http.request(
      { host: HOST, port, path, method, headers: body ? { 'content-type': 'application/json' } : {} },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.setTimeout(5000, () => request.destroy(new Error('timeout')));
    request.once('error', (err) => resolve(err));
    request.end(body);
  });
}

interface HandshakeResult {
  authorized: boolean;
  authorizationError?: string;
  protocol: string | null;
  peerSubject?: string;
}

/** A TLS handshake with `options` (CA, client certificate, versions) against HOST:port. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<HandshakeResult> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: HOST, port, rejectUnauthorized: false, ...options }, () => {
      const result: HandshakeResult = {
        authorized: socket.authorized,
        protocol: socket.getProtocol(),
        peerSubject: String(socket.getPeerCertificate().subject?.CN),
      };
      if (socket.authorizationError) result.authorizationError = String(socket.authorizationError);
      socket.end();
      resolve(result);
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.once('error', reject);
  });
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA of our own (not the stack's) and a client certificate CN=ingest it signed: an impostor. */
function foreignClient(dir: string): { cert: string; key: string } {
  const file = (name: string) => join(dir, name);
  const ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl(['genpkey', ...ec, '-out', file('ca.key')]);
  openssl([
    'req', '-new', '-x509', '-key', file('ca.key'), '-subj', '/CN=Impostor CA', '-days', '2',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign',
    '-out', file('ca.crt'),
  ]); // prettier-ignore
  openssl(['genpkey', ...ec, '-out', file('client.key')]);
  openssl(['req', '-new', '-key', file('client.key'), '-subj', '/CN=ingest', '-out', file('client.csr')]);
  openssl([
    'x509', '-req', '-in', file('client.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'),
    '-set_serial', '7', '-days', '2', '-out', file('client.crt'),
  ]); // prettier-ignore
  return { cert: readFileSync(file('client.crt'), 'utf8'), key: readFileSync(file('client.key'), 'utf8') };
}

describe('[REG-06] TLS on every hop of the local stack (real MariaDB, Kafka, MinIO and services)', () => {
  test('the stack runs with TLS (not CZ_INSECURE_DEV), and plain URLs are refused in configuration', () => {
    assert.notEqual(process.env.CZ_INSECURE_DEV, '1', 'these checks need the TLS stack (make up)');
    assert.ok(process.env.CZ_TLS_CA_FILE, 'stack.env names the CA');
    assert.throws(
      () => requireSecureUrl('CZ_RECORDINGS_URL', 'http://127.0.0.1:8084'),
      /CZ_RECORDINGS_URL must be an https:\/\/ URL/,
    );
    assert.equal(requireSecureUrl('CZ_INGEST_URL', 'https://127.0.0.1:8081'), 'https://127.0.0.1:8081');
  });

  test('[REG-06] MariaDB refuses a plain connection; a TLS connection verified against the CA works (TLS 1.3)', async () => {
    const config = databaseConfig();
    assert.ok(config.ssl, 'CZ_DB_TLS is on');
    const { ssl, ...plain } = config;
    await assert.rejects(
      mysql.createConnection({ ...plain, connectTimeout: 5000 }),
      (err: { code?: string; message?: string }) => {
        // MariaDB answers an insecure login as access denied (MySQL: ER_SECURE_TRANSPORT_REQUIRED);
        // the same credentials over TLS succeed below, so the transport is what was refused
        assert.match(`${err.code} ${err.message}`, /SECURE_TRANSPORT|insecure transport|ACCESS_DENIED/i);
        return true;
      },
      'a plain TCP connection is refused (require_secure_transport)',
    );
    const connection = await mysql.createConnection({ ...plain, ssl });
    try {
      const [rows] = await connection.query<mysql.RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Ssl_version'");
      assert.equal(rows[0]?.Value, 'TLSv1.3');
    } finally {
      await connection.end();
    }
  });

  test('[REG-06] MariaDB is not trusted without the CA: a client with only the default CAs is refused', async () => {
    const { ssl, ...plain } = databaseConfig();
    assert.ok(ssl);
    await assert.rejects(
      // Node's bundled roots only: make test starts node with NODE_EXTRA_CA_CERTS (the stack's CA),
      // which the default trust store would include
      mysql.createConnection({
        ...plain,
        ssl: { ca: [...tls.rootCertificates], rejectUnauthorized: true },
        connectTimeout: 5000,
      }),
      /self.signed|unable to (get|verify)|certificate/i,
    );
  });

  test('[REG-06] Kafka: a plaintext client cannot connect, a TLS client without a client certificate is refused, mutual TLS works', async () => {
    const transport = kafkaTransport();
    assert.ok(transport.ssl?.cert, 'CZ_KAFKA_TLS is on with a client certificate');
    const quiet = { logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 0 } };

    const plainAdmin = new Kafka({
      clientId: 'cz-tls-test-plain',
      brokers: transport.brokers,
      ...quiet,
    }).admin();
    await assert.rejects(
      plainAdmin.connect().then(() => plainAdmin.listTopics()),
      'plaintext is refused',
    );
    await plainAdmin.disconnect().catch(() => undefined);

    const { cert: _cert, key: _key, ...serverOnly } = transport.ssl;
    const anonymous = new Kafka({
      clientId: 'cz-tls-test-anonymous',
      brokers: transport.brokers,
      ssl: serverOnly,
      ...quiet,
    }).admin();
    await assert.rejects(
      anonymous.connect().then(() => anonymous.listTopics()),
      'without a client certificate (mutual TLS required)',
    );
    await anonymous.disconnect().catch(() => undefined);

    const admin = new Kafka({ clientId: 'cz-tls-test', ...transport, ...quiet }).admin();
    await admin.connect();
    try {
      assert.ok(Array.isArray(await admin.listTopics()));
    } finally {
      await admin.disconnect();
    }
  });

  test('[REG-06] MinIO answers only HTTPS: plain HTTP is not served, HTTPS verifies against the CA', async () => {
    const config = minioConfig();
    assert.equal(config.useSSL, true);
    const plain = await plainHttp(config.port, '/minio/health/live');
    assert.ok(
      plain instanceof Error || plain < 200 || plain >= 300,
      `plain HTTP to MinIO answered ${String(plain)}`,
    );
    const shake = await handshake(config.port, { ca: stackTls().ca });
    assert.equal(shake.authorized, true, shake.authorizationError);
    assert.equal(shake.protocol, 'TLSv1.3');
    const client = createMinioClient(config);
    assert.ok(Array.isArray(await client.listBuckets()), 'the MinIO client works over HTTPS with the CA');
  });

  for (const [service, port] of Object.entries(ServicePorts)) {
    test(`[REG-06] ${service} (:${port}) refuses plain HTTP and serves HTTPS with a certificate from the stack's CA`, async () => {
      const plain = await plainHttp(port, '/healthz');
      assert.ok(
        plain instanceof Error || plain < 200 || plain >= 300,
        `plain HTTP answered ${String(plain)}`,
      );
      const shake = await handshake(port, { ca: stackTls().ca });
      assert.equal(
        shake.authorized,
        true,
        `certificate does not chain to the stack's CA: ${shake.authorizationError}`,
      );
      assert.equal(shake.protocol, 'TLSv1.3');
      assert.equal(shake.peerSubject, service);
      const tls12 = await handshake(port, { ca: stackTls().ca, maxVersion: 'TLSv1.2' });
      assert.equal(tls12.protocol, 'TLSv1.2', 'TLS 1.2 is still accepted');
      const res = await secureFetch({ ca: stackTls().ca })(`https://${HOST}:${port}/healthz`);
      assert.equal(res.status, 200);
    });
  }

  test('[REG-06] a plain-HTTP write to ingest is refused and reaches nothing (no 2xx, not in its log)', async () => {
    const marker = `plain-${randomBytes(6).toString('hex')}`;
    const result = await plainHttp(
      ServicePorts.ingest,
      `/v1/wecom/messages/${marker}`,
      'POST',
      JSON.stringify({ corpId: marker, messages: [] }),
    );
    assert.ok(result instanceof Error || result < 200 || result >= 300, `answered ${String(result)}`);
    // the TLS layer dropped the bytes: ingest never saw an HTTP request with the marker
    await new Promise((resolve) => setTimeout(resolve, 300));
    const log = readFileSync(join(repoRoot, '.stack/logs/ingest.log'), 'utf8');
    assert.equal(log.includes(marker), false);
  });

  test("[REG-06] a plain http:// URL is refused by the services' clients unless CZ_INSECURE_DEV=1", () => {
    const saved = process.env.CZ_INSECURE_DEV;
    try {
      delete process.env.CZ_INSECURE_DEV;
      assert.throws(() => requireSecureUrl('CZ_KEYSERVICE_URL', 'http://127.0.0.1:8082'), /https:\/\//);
      process.env.CZ_INSECURE_DEV = '1';
      assert.equal(requireSecureUrl('CZ_KEYSERVICE_URL', 'http://127.0.0.1:8082'), 'http://127.0.0.1:8082');
    } finally {
      if (saved === undefined) delete process.env.CZ_INSECURE_DEV;
      else process.env.CZ_INSECURE_DEV = saved;
    }
  });

  describe("client certificates as a service sees them (startService's TLS options)", () => {
    let app: ReturnType<typeof createServer>;
    let port: number;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cz-tls-test-'));
      // a server with a stack service's certificate and exactly startService's TLS options
      const saved = { cert: process.env.CZ_TLS_SERVER_CERT_FILE, key: process.env.CZ_TLS_SERVER_KEY_FILE };
      process.env.CZ_TLS_SERVER_CERT_FILE = join(repoRoot, '.stack/tls/server/ingest.crt');
      process.env.CZ_TLS_SERVER_KEY_FILE = join(repoRoot, '.stack/tls/server/ingest.key');
      const options = serverTlsFromEnv('tls-test');
      process.env.CZ_TLS_SERVER_CERT_FILE = saved.cert;
      process.env.CZ_TLS_SERVER_KEY_FILE = saved.key;
      if (saved.cert === undefined) delete process.env.CZ_TLS_SERVER_CERT_FILE;
      if (saved.key === undefined) delete process.env.CZ_TLS_SERVER_KEY_FILE;
      assert.ok(options, 'TLS options');
      app = createServer('tls-test', { logger: false, https: options });
      app.get('/whoami', async (request) => {
        const socket = request.raw.socket as TLSSocket;
        return {
          authorized: socket.authorized,
          cn: socket.authorized ? (socket.getPeerCertificate().subject?.CN ?? null) : null,
        };
      });
      await app.listen({ host: HOST, port: 0 });
      port = (app.server.address() as AddressInfo).port;
    });
    after(async () => {
      await app?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const whoami = (client: { cert?: string; key?: string }) =>
      new Promise<{ authorized: boolean; cn: string | null }>((resolve, reject) => {
        const request = https.request(
          { host: HOST, port, path: '/whoami', ca: stackTls().ca, ...client, agent: false },
          (response) => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (body += chunk));
            response.on('end', () => resolve(JSON.parse(body) as { authorized: boolean; cn: string | null }));
          },
        );
        request.once('error', reject);
        request.end();
      });

    test("[REG-06] a client certificate from the stack's CA is authorized, with its CN", async () => {
      const dev = stackTls();
      assert.deepEqual(await whoami({ cert: dev.cert!, key: dev.key! }), { authorized: true, cn: 'dev' });
    });

    test('[REG-06] a client certificate from another CA (CN=ingest) is not authorized', async () => {
      assert.deepEqual(await whoami(foreignClient(dir)), { authorized: false, cn: null });
    });

    test('no client certificate: served (requested, not required), not authorized', async () => {
      assert.deepEqual(await whoami({}), { authorized: false, cn: null });
    });
  });
});
