import fp from 'fastify-plugin';

/** Publishes compliance_alert rows to cz.alert.v1 (stub: filled in by its part of issue 11). */
export default fp(async () => {}, { name: 'compliance-alert-outbox' });
