import closeWithGrace from 'close-with-grace';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyPluginOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { loggerOptions } from './logger';
import type { HttpConfig } from './config';

export interface StartOptions<Opts extends FastifyPluginOptions> {
  service: string;
  http: HttpConfig;
  plugin: FastifyPluginAsync<Opts>;
  pluginOptions: Opts;
  bodyLimit?: number;
}

/** Builds a Fastify instance with the project's server options (shared by server.ts and tests). */
export function createServer(service: string, options: { bodyLimit?: number; logger?: boolean } = {}) {
  return Fastify({
    logger: options.logger === false ? false : loggerOptions(service),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestTimeout: 120000,
    connectionTimeout: 0,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();
}

/** Start-up only: build, listen, and close gracefully on signals (see style.md). */
export async function startService<Opts extends FastifyPluginOptions>(
  options: StartOptions<Opts>,
): Promise<FastifyInstance> {
  const app = createServer(options.service, { bodyLimit: options.bodyLimit });
  await app.register(options.plugin as FastifyPluginAsync, options.pluginOptions);
  closeWithGrace({ delay: 15000 }, async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'closing after error');
    else app.log.info({ signal }, 'closing');
    await app.close();
  });
  try {
    await app.listen({ host: options.http.host, port: options.http.port });
  } catch (err) {
    app.log.fatal({ err }, 'could not start');
    process.exit(1);
  }
  return app;
}
