/**
 * The key service's public API: its Fastify plugin, its schema's migrations (for test databases)
 * and the key-wrapping primitives the key benchmark measures.
 */
export { default, type KeyserviceOptions } from './app';
export type { KeyServiceSettings } from './config';
export { KEYS_MIGRATIONS_TABLE, keysMigrations } from './migrations/index';
export { newSm4Key, unwrapDataKey, wrapDataKey } from './core/material';
