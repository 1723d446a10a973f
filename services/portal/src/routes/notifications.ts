import fp from 'fastify-plugin';

/** Notification channels and deliveries (admin) (stub: filled in by its part of issue 11). */
export default fp(async () => {}, { name: 'portal-notification-routes' });
