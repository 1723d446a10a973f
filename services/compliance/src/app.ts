import type { FastifyPluginAsync } from 'fastify';
import { errorHandlerPlugin, healthPlugin } from '@cz/common';

export type ComplianceOptions = Record<string, never>;

/**
 * Compliance: lexicon and rules over messages, calls and events, alerts, SLA timers, consent and pre-dial checks. This foundation only answers health; a later issue builds the engine.
 */
const app: FastifyPluginAsync<ComplianceOptions> = async (fastify) => {
  await fastify.register(errorHandlerPlugin);
  await fastify.register(healthPlugin, { service: 'compliance', checks: {} });
};

export default app;
