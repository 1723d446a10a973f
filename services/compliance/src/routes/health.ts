import type { FastifyPluginAsync } from 'fastify';
import { healthPlugin } from '@cz/common';

/**
 * GET /healthz and /readyz. Readiness checks nothing yet: the service holds no resources; the
 * engine's database and Kafka checks join here with their plugins in plugins/external.
 */
const healthRoutes: FastifyPluginAsync = async (fastify) => {
  await fastify.register(healthPlugin, { service: 'compliance', checks: {} });
};

export default healthRoutes;
