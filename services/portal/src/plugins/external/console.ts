import { existsSync } from 'node:fs';
import fp from 'fastify-plugin';
import fastifyStatic from '@fastify/static';

/**
 * Serves the built console (web/dist) from the same origin as the API, with the SPA fallback to
 * index.html for client-side routes. Absent in API-only deployments.
 */
export default fp<{ root: string | undefined }>(
  async (app, { root }) => {
    if (!root || !existsSync(root)) {
      app.log.warn({ root }, 'console bundle not found; serving the API only');
      return;
    }
    await app.register(fastifyStatic, { root, wildcard: false, index: ['index.html'] });
    // client-side routes (/messages, /login, ...) load the app; unknown API paths stay JSON 404s
    app.get('/*', async (request, reply) => {
      if (request.url.startsWith('/v1/')) {
        return reply
          .code(404)
          .send({ code: 'not_found', message: `no route GET ${request.url.split('?')[0]}` });
      }
      return reply.type('text/html').sendFile('index.html');
    });
  },
  { name: 'cz-console' },
);
