import type { FastifyPluginAsync } from 'fastify';
import { healthPlugin } from '@cz/common';
import { consumersJoined } from '../plugins/consumers/scan-consumers';

/** GET /healthz and /readyz: ready when the database answers and every scan consumer has joined its group. */
const healthRoutes: FastifyPluginAsync = async (fastify) => {
  await fastify.register(healthPlugin, {
    service: 'compliance',
    checks: {
      database: async () => void (await fastify.db.query('SELECT 1')),
      consumers: () => consumersJoined(fastify),
    },
  });
};

export default healthRoutes;
