import type { LoggerOptions } from 'pino';

/**
 * Field names whose values are never written to a log, whatever object carries them: secrets,
 * key material, Shamir shares, credentials, and anything that may hold content or personal data
 * (bodies, texts, query strings, SQL parameters).
 */
export const REDACTED_FIELDS = [
  'plaintext',
  'share',
  'shares',
  'key',
  'keys',
  'dataKey',
  'rootKey',
  'privateKey',
  'privateKeyPem',
  'secret',
  'secrets',
  'secretKey',
  'accessKey',
  'apiKey',
  'token',
  'tokens',
  'password',
  'passphrase',
  'authorization',
  'cookie',
  'set-cookie',
  'body',
  'text',
  'content',
  'query',
  'querystring',
  // TypeORM's QueryFailedError and mysql2's errors carry the statement with its values
  'parameters',
  'sql',
] as const;

/** How deep a field is redacted: `field`, `a.field` and `a.b.field` (e.g. `err.driverError.sql`). */
const REDACT_DEPTH = 3;

const pathOf = (prefix: string, field: string) =>
  /^[A-Za-z_$][\w$]*$/.test(field) ? `${prefix}${prefix ? '.' : ''}${field}` : `${prefix}["${field}"]`;

/** pino redaction paths for {@link REDACTED_FIELDS} at every depth up to {@link REDACT_DEPTH}. */
export function redactionPaths(): string[] {
  const paths: string[] = [];
  for (let depth = 0; depth < REDACT_DEPTH; depth++) {
    const prefix = Array<string>(depth).fill('*').join('.');
    for (const field of REDACTED_FIELDS) paths.push(pathOf(prefix, field));
  }
  return paths;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/**
 * Fastify's `req` serializer without the query string: queries carry search terms, customer
 * phone numbers and names (`?customer=…`), so only the path is logged. Headers and the body are
 * never logged.
 */
export function requestSerializer(request: LoggedRequest) {
  const url = request.url ?? '';
  const cut = url.search(/[?#]/);
  return {
    method: request.method,
    url: cut === -1 ? url : url.slice(0, cut),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/**
 * pino options shared by every service: JSON lines, ISO time, requests logged without their
 * query string, and redaction of anything that could carry a secret or personal data should a
 * careless log call pass it along.
 */
export function loggerOptions(service: string): LoggerOptions {
  return {
    level: process.env.CZ_LOG_LEVEL ?? 'info',
    base: { service },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    serializers: { req: requestSerializer },
    redact: { paths: redactionPaths(), censor: '[redacted]' },
  };
}
