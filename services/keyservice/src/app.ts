import type { FastifyPluginAsync } from 'fastify';
import { errorHandlerPlugin, healthPlugin } from '@cz/common';

export type KeyserviceOptions = Record<string, never>;

/**
 * Key service: root key (Shamir-unsealed), versioned KEKs per data class, data-key wrap/unwrap, rotation with dual control. This foundation only answers health; the key-service issue builds the rest.
 */
const app: FastifyPluginAsync<KeyserviceOptions> = async (fastify) => {
  await fastify.register(errorHandlerPlugin);
  await fastify.register(healthPlugin, { service: 'keyservice', checks: {} });
};

export default app;
