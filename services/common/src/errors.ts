import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** An error whose code and message are safe to show to the caller. */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string) => new AppError(400, code, message);
export const unauthorized = (message = 'login required') => new AppError(401, 'unauthorized', message);
export const forbidden = (message = 'not allowed') => new AppError(403, 'forbidden', message);
export const notFound = (message = 'not found') => new AppError(404, 'not_found', message);
export const unavailable = (code: string, message: string) => new AppError(503, code, message);

/**
 * The one error handler: 4xx carry their reason, 5xx never leak internals. Logged with request
 * context (never the body).
 */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
      if (error instanceof AppError) {
        if (error.statusCode >= 500) request.log.error({ err: error }, 'request failed');
        return reply.code(error.statusCode).send({ code: error.code, message: error.message });
      }
      const status = error.statusCode ?? 500;
      if (error.validation) {
        return reply.code(400).send({ code: 'validation_failed', message: error.message });
      }
      if (status >= 400 && status < 500) {
        return reply.code(status).send({ code: error.code ?? 'bad_request', message: error.message });
      }
      request.log.error({ err: error }, 'request failed');
      return reply.code(500).send({ code: 'internal_error', message: 'internal error' });
    });
    app.setNotFoundHandler((request, reply) =>
      reply
        .code(404)
        .send({ code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
    );
  },
  { name: 'cz-error-handler' },
);
