import fp from 'fastify-plugin';

/** The lexicon store: published and draft versions compiled, refreshed from the database (stub: filled in by its part of issue 11). */
export default fp(async () => {}, { name: 'compliance-lexicon' });
