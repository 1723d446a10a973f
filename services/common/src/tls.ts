import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  ConfigError,
  TLS_CIPHERS,
  TLS_MIN_VERSION,
  clientSecureOptions,
  insecureDev,
  readPem,
  type ClientTls,
} from './config';

/*
 * Transport security of every hop: the services serve HTTPS, and every client (database, Kafka,
 * MinIO, the key service, service to service) verifies its peer against the CA named in
 * CZ_TLS_CA_FILE — passed explicitly to each client, never through NODE_EXTRA_CA_CERTS alone
 * (that is read once at process start). TLS 1.3 is preferred, 1.2 the minimum. Node's OpenSSL
 * offers no TLCP/SM suites, so transport uses the standard suites (config.ts TLS_CIPHERS).
 *
 * Plain connections are allowed only with CZ_INSECURE_DEV=1 (local development); otherwise a
 * missing TLS setting is a start-up error, not a silent downgrade.
 *
 * Settings (files hold PEM):
 *   CZ_TLS_CA_FILE                                 CA(s) that peers' certificates must chain to
 *   CZ_TLS_SERVER_CERT_FILE, CZ_TLS_SERVER_KEY_FILE  this service's server certificate
 *   CZ_TLS_CLIENT_CERT_FILE, CZ_TLS_CLIENT_KEY_FILE  this caller's client certificate (mutual TLS:
 *                                                  Kafka requires it; services may read its CN)
 */

/**
 * The HTTPS server options of a service: its certificate, TLS 1.2+, and client certificates
 * requested (not required) so that a caller presenting one from our CA is `socket.authorized`
 * with its CN readable by the caller-auth plugin. Undefined with CZ_INSECURE_DEV=1 (plain HTTP).
 * Throws a ConfigError naming what is missing otherwise.
 */
export function serverTlsFromEnv(service: string): https.ServerOptions | undefined {
  if (insecureDev()) return undefined;
  const missing = ['CZ_TLS_SERVER_CERT_FILE', 'CZ_TLS_SERVER_KEY_FILE', 'CZ_TLS_CA_FILE'].filter(
    (name) => !process.env[name],
  );
  if (missing.length > 0) {
    throw new ConfigError(
      `${service} serves HTTPS only: ${missing.join(', ')} not set (the local stack sets them; ` +
        'CZ_INSECURE_DEV=1 allows plain HTTP for local development)',
    );
  }
  return {
    cert: readPem('CZ_TLS_SERVER_CERT_FILE'),
    key: readPem('CZ_TLS_SERVER_KEY_FILE'),
    ca: readPem('CZ_TLS_CA_FILE'),
    minVersion: TLS_MIN_VERSION,
    ciphers: TLS_CIPHERS,
    honorCipherOrder: true,
    requestCert: true,
    rejectUnauthorized: false,
  };
}

/** A keep-alive HTTPS agent that trusts `tls.ca` (and presents the client certificate, if any). */
export function httpsAgent(tls: ClientTls): https.Agent {
  return new https.Agent({ keepAlive: true, ...clientSecureOptions(tls) });
}

const agents = new WeakMap<ClientTls, https.Agent>();

/**
 * The agent for a request to `url`: for https, one shared agent per TLS material (verifying
 * against `tls.ca`; Node's default CAs without `tls`); for http, Node's default agent.
 */
export function agentFor(url: URL, tls: ClientTls | undefined): https.Agent | undefined {
  if (url.protocol !== 'https:') return undefined;
  if (!tls) return https.globalAgent;
  let agent = agents.get(tls);
  if (!agent) {
    agent = httpsAgent(tls);
    agents.set(tls, agent);
  }
  return agent;
}

export interface SecureFetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | Readable | WebReadableStream<Uint8Array>;
  signal?: AbortSignal;
}

/** `fetch`'s shape, over node:http(s) with an explicit agent. */
export type SecureFetch = (url: string | URL, init?: SecureFetchInit) => Promise<Response>;

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch for service-to-service calls that verifies `https:` peers against `tls.ca` and presents
 * the client certificate. Node's global fetch cannot be given a CA without the undici package, so
 * this speaks node:https and returns a standard Response (streamed body). `http:` URLs use plain
 * node:http: whether they are allowed is the caller's configuration check (requireSecureUrl).
 * Without `tls`, https peers are checked against Node's default CAs.
 */
const fetches = new WeakMap<ClientTls, SecureFetch>();
let defaultFetch: SecureFetch | undefined;

/** secureFetch(tls), made once per TLS material (one keep-alive agent each). */
export function secureFetchFor(tls: ClientTls | undefined): SecureFetch {
  if (!tls) return (defaultFetch ??= secureFetch(undefined));
  let made = fetches.get(tls);
  if (!made) {
    made = secureFetch(tls);
    fetches.set(tls, made);
  }
  return made;
}

export function secureFetch(tls: ClientTls | undefined): SecureFetch {
  const agent = tls ? httpsAgent(tls) : new https.Agent({ keepAlive: true, minVersion: TLS_MIN_VERSION });
  const plainAgent = new http.Agent({ keepAlive: true });
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = typeof input === 'string' ? new URL(input) : input;
      const secure = url.protocol === 'https:';
      if (!secure && url.protocol !== 'http:') {
        reject(new TypeError(`unsupported protocol ${url.protocol}`));
        return;
      }
      const method = (init.method ?? 'GET').toUpperCase();
      const { signal } = init;
      if (signal?.aborted) {
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        return;
      }
      const options: https.RequestOptions = {
        method,
        headers: init.headers ?? {},
        agent: secure ? agent : plainAgent,
      };
      const request = (secure ? https : http).request(url, options, (response) => {
        const status = response.statusCode ?? 0;
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value === undefined) continue;
          for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
        }
        const empty = method === 'HEAD' || NULL_BODY_STATUSES.has(status);
        if (empty) response.resume();
        const body = empty ? null : (Readable.toWeb(response) as unknown as ReadableStream<Uint8Array>);
        resolve(new Response(body, { status, statusText: response.statusMessage ?? '', headers }));
      });
      const onAbort = () =>
        request.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      request.once('close', () => signal?.removeEventListener('abort', onAbort));
      request.once('error', reject);
      const body = init.body;
      if (body === undefined) request.end();
      else if (typeof body === 'string' || body instanceof Uint8Array) request.end(body);
      else {
        const source = body instanceof Readable ? body : Readable.fromWeb(body);
        source.once('error', (err) => request.destroy(err));
        source.pipe(request);
      }
    });
}
