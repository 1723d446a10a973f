import fp from 'fastify-plugin';

/** SLA escalation, notifications and review sampling (stub: filled in by its part of issue 11). */
export default fp(async () => {}, { name: 'compliance-workflow' });
