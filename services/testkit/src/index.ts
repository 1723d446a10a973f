/**
 * Cunzheng's test kit: the local stack's env and fresh databases, the services in-process,
 * archive and recording fixtures, the Finance-SDK test double, and Kafka drain checks. Used by
 * every package's tests, the demo seeding and the benches, so that none of them reaches into
 * another package's src/ or test/.
 */
export * from './stack';
export * from './apps';
export * from './callers';
export * from './drained';
export * from './dead-letters';
export * from './archive-rows';
export * from './seeded-random';
export * from './recordings';
export * from './keyservice';
export * from './finance-sdk-double/build';
export * from './finance-sdk-double/script';
