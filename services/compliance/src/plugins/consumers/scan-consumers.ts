import fp from 'fastify-plugin';

/** Live scanning of cz.msg.v1, cz.call.v1 and cz.event.v1 (stub: filled in by its part of issue 11). */
export default fp(async () => {}, { name: 'compliance-scan-consumers' });
