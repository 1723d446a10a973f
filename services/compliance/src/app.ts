import type { FastifyPluginAsync } from 'fastify';
import { errorHandlerPlugin } from '@cz/common';
import healthRoutes from './routes/health';

export type ComplianceOptions = Record<string, never>;

/**
 * Compliance: lexicon and rules over messages, calls and events, alerts, SLA timers, consent and
 * pre-dial checks. This foundation only answers health; a later issue builds the engine, loading
 * resource clients from plugins/external, then domain plugins from plugins/app, then routes.
 */
const app: FastifyPluginAsync<ComplianceOptions> = async (fastify) => {
  await fastify.register(errorHandlerPlugin);
  await fastify.register(healthRoutes);
};

export default app;
