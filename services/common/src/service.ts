import type { ServerOptions as HttpsServerOptions } from 'node:https';
import closeWithGrace from 'close-with-grace';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyPluginOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { loggerOptions } from './logger';
import type { HttpConfig } from './config';
import { serverTlsFromEnv } from './tls';

export interface StartOptions<Opts extends FastifyPluginOptions> {
  service: string;
  http: HttpConfig;
  plugin: FastifyPluginAsync<Opts>;
  pluginOptions: Opts;
  bodyLimit?: number;
}

export interface ServerOptions {
  bodyLimit?: number;
  logger?: boolean;
  /** serve HTTPS with these TLS options (see serverTlsFromEnv); plain HTTP without */
  https?: HttpsServerOptions;
}

/** Builds a Fastify instance with the project's server options (shared by server.ts and tests). */
export function createServer(service: string, options: ServerOptions = {}) {
  const serverOptions = {
    logger: options.logger === false ? false : loggerOptions(service),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestTimeout: 120000,
    connectionTimeout: 0,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' as const, allErrors: true } },
  };
  const plain = () => Fastify(serverOptions);
  // An HTTPS Fastify differs from the HTTP one only in its raw server's type (requests and
  // replies are the same IncomingMessage / ServerResponse), so both share the HTTP instance type.
  const app = options.https
    ? (Fastify({ ...serverOptions, https: options.https }) as unknown as ReturnType<typeof plain>)
    : plain();
  return app.withTypeProvider<TypeBoxTypeProvider>();
}

/**
 * Start-up only: build, listen, and close gracefully on signals (see style.md). Serves HTTPS with
 * the service's certificate (CZ_TLS_SERVER_CERT_FILE / _KEY_FILE); refuses to start without one
 * unless CZ_INSECURE_DEV=1.
 */
export async function startService<Opts extends FastifyPluginOptions>(
  options: StartOptions<Opts>,
): Promise<FastifyInstance> {
  let https: HttpsServerOptions | undefined;
  try {
    https = serverTlsFromEnv(options.service);
  } catch (err) {
    // before the logger exists: one clear line, no stack
    process.stderr.write(`${options.service}: refusing to start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const app = createServer(options.service, { bodyLimit: options.bodyLimit, ...(https ? { https } : {}) });
  await app.register(options.plugin as FastifyPluginAsync, options.pluginOptions);
  closeWithGrace({ delay: 15000 }, async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'closing after error');
    else app.log.info({ signal }, 'closing');
    await app.close();
  });
  try {
    await app.listen({ host: options.http.host, port: options.http.port });
    app.log.info({ tls: Boolean(https) }, https ? 'serving HTTPS' : 'serving plain HTTP (CZ_INSECURE_DEV=1)');
  } catch (err) {
    app.log.fatal({ err }, 'could not start');
    process.exit(1);
  }
  return app;
}
