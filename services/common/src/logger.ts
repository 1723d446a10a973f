import type { LoggerOptions } from 'pino';

/**
 * pino options shared by every service: JSON lines, ISO time, and redaction of anything that
 * could carry a secret or personal data should a careless log call pass it along.
 */
export function loggerOptions(service: string): LoggerOptions {
  return {
    level: process.env.CZ_LOG_LEVEL ?? 'info',
    base: { service },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'password',
        '*.password',
        'token',
        '*.token',
        'body',
        '*.body',
        'text',
        '*.text',
        'content',
        '*.content',
      ],
      censor: '[redacted]',
    },
  };
}
