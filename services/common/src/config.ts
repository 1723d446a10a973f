/**
 * Typed access to the environment. Every setting has one name (CZ_*), a default that suits the
 * local stack, and a clear error when a required value is missing or malformed.
 */
import { readFileSync } from 'node:fs';
import type { SecureVersion } from 'node:tls';

export class ConfigError extends Error {}

export function envString(name: string, fallback?: string): string {
  const value = process.env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`missing required setting ${name}`);
}

export function envInt(name: string, fallback?: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`missing required setting ${name}`);
  }
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new ConfigError(`setting ${name} must be an integer, got "${raw}"`);
  return value;
}

export function envBool(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigError(`setting ${name} must be true or false, got "${raw}"`);
}

// --- transport security -------------------------------------------------------------------
// Every client verifies its peer against the CA in CZ_TLS_CA_FILE, passed explicitly (never only
// through NODE_EXTRA_CA_CERTS, which Node reads once at start). TLS 1.3 preferred, 1.2 the
// minimum; Node's OpenSSL offers no TLCP/SM suites. Plain connections only with CZ_INSECURE_DEV=1.
// The servers' side and the HTTPS client are in ./tls.

export const TLS_MIN_VERSION: SecureVersion = 'TLSv1.2';
/**
 * TLS 1.3's suites (all AEAD), then TLS 1.2's: ephemeral ECDHE with AEAD only (forward secrecy,
 * no CBC, no static RSA).
 */
export const TLS_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** CZ_INSECURE_DEV=1: plain HTTP, database, Kafka and MinIO connections are allowed (local development only). */
export function insecureDev(): boolean {
  return envBool('CZ_INSECURE_DEV', false);
}

/** PEM material a TLS client presents and trusts. */
export interface ClientTls {
  /** the CA(s) the server's certificate must chain to */
  ca: string;
  /** client certificate and key for mutual TLS (optional) */
  cert?: string;
  key?: string;
}

export function readPem(setting: string): string {
  const path = process.env[setting];
  if (!path) throw new ConfigError(`missing required setting ${setting}`);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${setting}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/**
 * The client TLS material from the environment: CZ_TLS_CA_FILE (required) and, when set, the
 * client certificate CZ_TLS_CLIENT_CERT_FILE + CZ_TLS_CLIENT_KEY_FILE.
 */
export function clientTlsFromEnv(): ClientTls {
  const tls: ClientTls = { ca: readPem('CZ_TLS_CA_FILE') };
  const certSet = Boolean(process.env.CZ_TLS_CLIENT_CERT_FILE);
  const keySet = Boolean(process.env.CZ_TLS_CLIENT_KEY_FILE);
  if (certSet !== keySet)
    throw new ConfigError('CZ_TLS_CLIENT_CERT_FILE and CZ_TLS_CLIENT_KEY_FILE must be set together');
  if (certSet) {
    tls.cert = readPem('CZ_TLS_CLIENT_CERT_FILE');
    tls.key = readPem('CZ_TLS_CLIENT_KEY_FILE');
  }
  return tls;
}

/** Client TLS material when CZ_TLS_CA_FILE is set, else undefined (plain, e.g. in-process tests). */
export function optionalClientTlsFromEnv(): ClientTls | undefined {
  return process.env.CZ_TLS_CA_FILE ? clientTlsFromEnv() : undefined;
}

/** Options for `tls.connect`, `https.request`, mysql2's `ssl`, kafkajs's `ssl`. */
export interface ClientSecureOptions {
  ca: string;
  cert?: string;
  key?: string;
  minVersion: SecureVersion;
  ciphers: string;
  /** the server's certificate must chain to `ca` (and, for hostname-checking clients, name it) */
  rejectUnauthorized: true;
}

/** Options that verify the server against `tls.ca` and present the client certificate, if any. */
export function clientSecureOptions(tls: ClientTls): ClientSecureOptions {
  return {
    ca: tls.ca,
    ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
    minVersion: TLS_MIN_VERSION,
    ciphers: TLS_CIPHERS,
    rejectUnauthorized: true,
  };
}

/**
 * Refuses a plain `http:` URL for setting `name` unless CZ_INSECURE_DEV=1 (or `allowPlain`, an
 * explicit opt-in the caller names in its message). Returns the URL.
 */
export function requireSecureUrl(name: string, url: string, allowPlain = false): string {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new ConfigError(`${name} is not a URL: "${url}"`);
  }
  if (protocol === 'https:') return url;
  if (protocol === 'http:' && (allowPlain || insecureDev())) return url;
  throw new ConfigError(
    `${name} must be an https:// URL, got ${protocol}// (plain HTTP only with CZ_INSECURE_DEV=1)`,
  );
}

/** mysql2's `ssl` option: verify the server's certificate and name against our CA. */
export interface DatabaseTls extends ClientSecureOptions {
  verifyIdentity: true;
}

export interface DatabaseConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** TLS to the database (CZ_DB_TLS); spread the config into mysql2 / TypeORM options to use it */
  ssl?: DatabaseTls;
}

/** CZ_DB_TLS=1: connect with TLS, verifying the server against CZ_TLS_CA_FILE. */
export function databaseConfig(databaseEnvName = 'CZ_DB_NAME', fallbackDatabase = 'cz_main'): DatabaseConfig {
  const config: DatabaseConfig = {
    host: envString('CZ_DB_HOST', '127.0.0.1'),
    port: envInt('CZ_DB_PORT', 13306),
    user: envString('CZ_DB_USER', 'cz'),
    password: envString('CZ_DB_PASSWORD'),
    database: envString(databaseEnvName, fallbackDatabase),
  };
  if (transportTls('CZ_DB_TLS', 'the database')) {
    const tls = clientTlsFromEnv();
    config.ssl = { ...clientSecureOptions(tls), verifyIdentity: true };
  }
  return config;
}

/** How to reach the brokers: spread into `new Kafka({ clientId, ...kafkaTransport() })`. */
export interface KafkaTransport {
  brokers: string[];
  /** kafkajs's `ssl` (mutual TLS: the brokers require the client certificate) */
  ssl?: ClientSecureOptions;
}

export interface KafkaConfig extends KafkaTransport {
  clientId: string;
}

/**
 * CZ_KAFKA_BROKERS, and with CZ_KAFKA_TLS=1 TLS verified against CZ_TLS_CA_FILE with this caller's
 * client certificate (CZ_TLS_CLIENT_CERT_FILE / _KEY_FILE), which the brokers require.
 */
export function kafkaTransport(): KafkaTransport {
  const transport: KafkaTransport = {
    brokers: envString('CZ_KAFKA_BROKERS', '127.0.0.1:19092')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  };
  if (transportTls('CZ_KAFKA_TLS', 'Kafka')) {
    const tls = clientTlsFromEnv();
    if (!tls.cert || !tls.key)
      throw new ConfigError(
        'CZ_KAFKA_TLS: the brokers require a client certificate (CZ_TLS_CLIENT_CERT_FILE, CZ_TLS_CLIENT_KEY_FILE)',
      );
    transport.ssl = clientSecureOptions(tls);
  }
  return transport;
}

export function kafkaConfig(clientId: string): KafkaConfig {
  return { clientId, ...kafkaTransport() };
}

export interface MinioConfig {
  endPoint: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  /** with useSSL: the CA (and client certificate) MinIO's certificate is verified against */
  tls?: ClientTls;
}

/** CZ_MINIO_USE_SSL=true: HTTPS, verifying MinIO against CZ_TLS_CA_FILE. */
export function minioConfig(): MinioConfig {
  const config: MinioConfig = {
    endPoint: envString('CZ_MINIO_ENDPOINT', '127.0.0.1'),
    port: envInt('CZ_MINIO_PORT', 19000),
    useSSL: transportTls('CZ_MINIO_USE_SSL', 'MinIO'),
    accessKey: envString('CZ_MINIO_ACCESS_KEY', 'czminio'),
    secretKey: envString('CZ_MINIO_SECRET_KEY'),
  };
  if (config.useSSL) config.tls = clientTlsFromEnv();
  return config;
}

/**
 * Whether the connection named by `setting` (a boolean) uses TLS. Off is allowed only with
 * CZ_INSECURE_DEV=1: a deployment that forgot the setting must not silently go plain.
 */
function transportTls(setting: string, what: string): boolean {
  const on = envBool(setting, false);
  if (!on && !insecureDev()) {
    throw new ConfigError(
      `${setting} is not on: connections to ${what} must use TLS (set ${setting}=1 and CZ_TLS_CA_FILE; ` +
        'plain text only with CZ_INSECURE_DEV=1 for local development)',
    );
  }
  return on;
}

export interface HttpConfig {
  host: string;
  port: number;
}

export function httpConfig(service: string, defaultPort: number): HttpConfig {
  const prefix = `CZ_${service.toUpperCase()}`;
  return { host: envString(`${prefix}_HOST`, '127.0.0.1'), port: envInt(`${prefix}_PORT`, defaultPort) };
}

/** Default local ports, one per service. */
export const ServicePorts = {
  portal: 8080,
  ingest: 8081,
  keyservice: 8082,
  archiver: 8083,
  recordings: 8084,
  compliance: 8085,
  puller: 8086,
} as const;
