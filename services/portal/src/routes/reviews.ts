import fp from 'fastify-plugin';

/** The review queue (抽检复核) and its sampling settings (stub: filled in by its part of issue 11). */
export default fp(async () => {}, { name: 'portal-review-routes' });
