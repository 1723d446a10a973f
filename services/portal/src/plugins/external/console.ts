import { existsSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import fp from 'fastify-plugin';
import fastifyStatic from '@fastify/static';

/**
 * Serves the built console (web/dist) from the same origin as the API. Files are looked up on
 * every request, so a rebuilt console is served without restarting the portal; any other path
 * that is not an API path loads the app (client-side routes such as /messages). Hashed assets are
 * cached for good, index.html never. Absent in API-only deployments.
 */
export default fp<{ root: string | undefined }>(
  async (app, { root }) => {
    if (!root || !existsSync(root)) {
      app.log.warn({ root }, 'console bundle not found; serving the API only');
      return;
    }
    const base = resolve(root);
    await app.register(fastifyStatic, { root: base, serve: false });

    app.get('/*', async (request, reply) => {
      const pathname = request.url.split('?')[0] ?? '/';
      if (pathname.startsWith('/v1/')) {
        return reply.code(404).send({ code: 'not_found', message: `no route GET ${pathname}` });
      }
      let relative: string;
      try {
        relative = decodeURIComponent(pathname).replace(/^\/+/, '');
      } catch {
        return reply.code(400).send({ code: 'bad_path', message: 'malformed path' });
      }
      const file = resolve(base, relative);
      const isAsset =
        relative !== '' && file.startsWith(base + sep) && existsSync(file) && statSync(file).isFile();
      if (!isAsset || relative === 'index.html') {
        return reply.header('cache-control', 'no-cache').type('text/html').sendFile('index.html');
      }
      const immutable = relative.startsWith('assets/');
      return reply.sendFile(relative, { cacheControl: true, immutable, maxAge: immutable ? '365d' : 0 });
    });
  },
  { name: 'cz-console' },
);
