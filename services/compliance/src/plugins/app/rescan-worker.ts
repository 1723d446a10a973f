import fp from 'fastify-plugin';

/** Runs retroactive scans (stub: filled in by its part of issue 11). */
export default fp(async () => {}, { name: 'compliance-rescan-worker' });
