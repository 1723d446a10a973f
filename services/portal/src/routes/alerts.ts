import fp from 'fastify-plugin';

/** The alert inbox and workflow (GET /v1/alerts, actions, SLA policy) (stub: filled in by its part of issue 11). */
export default fp(async () => {}, { name: 'portal-alert-routes' });
