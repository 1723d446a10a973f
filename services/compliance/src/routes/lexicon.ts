import fp from 'fastify-plugin';

/** Lexicon versions, entries, tester, publish and retroactive scan jobs (stub: filled in by its part of issue 11). */
export default fp(async () => {}, { name: 'compliance-lexicon-routes' });
