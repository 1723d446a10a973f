import type { FastifyPluginAsync } from 'fastify';
import { healthPlugin } from '@cz/common';

/** GET /healthz and /readyz: ready when the database answers (the consumers join their checks here). */
const healthRoutes: FastifyPluginAsync = async (fastify) => {
  await fastify.register(healthPlugin, {
    service: 'compliance',
    checks: { database: async () => void (await fastify.db.query('SELECT 1')) },
  });
};

export default healthRoutes;
