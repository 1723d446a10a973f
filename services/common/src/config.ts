/**
 * Typed access to the environment. Every setting has one name (CZ_*), a default that suits the
 * local stack, and a clear error when a required value is missing or malformed.
 */
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

export interface DatabaseConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export function databaseConfig(databaseEnvName = 'CZ_DB_NAME', fallbackDatabase = 'cz_main'): DatabaseConfig {
  return {
    host: envString('CZ_DB_HOST', '127.0.0.1'),
    port: envInt('CZ_DB_PORT', 13306),
    user: envString('CZ_DB_USER', 'cz'),
    password: envString('CZ_DB_PASSWORD'),
    database: envString(databaseEnvName, fallbackDatabase),
  };
}

export interface KafkaConfig {
  clientId: string;
  brokers: string[];
}

export function kafkaConfig(clientId: string): KafkaConfig {
  return {
    clientId,
    brokers: envString('CZ_KAFKA_BROKERS', '127.0.0.1:19092')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  };
}

export interface MinioConfig {
  endPoint: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
}

export function minioConfig(): MinioConfig {
  return {
    endPoint: envString('CZ_MINIO_ENDPOINT', '127.0.0.1'),
    port: envInt('CZ_MINIO_PORT', 19000),
    useSSL: envBool('CZ_MINIO_USE_SSL', false),
    accessKey: envString('CZ_MINIO_ACCESS_KEY', 'czminio'),
    secretKey: envString('CZ_MINIO_SECRET_KEY'),
  };
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
