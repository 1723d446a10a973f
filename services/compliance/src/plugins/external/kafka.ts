import fp from 'fastify-plugin';

/** Kafka producer and consumers' client (stub: filled in by its part of issue 11). */
export default fp(async () => {}, { name: 'compliance-kafka' });
