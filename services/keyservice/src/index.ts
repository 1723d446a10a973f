/**
 * The key service's public API: its Fastify plugin, its schema's migrations (for test databases)
 * and the key-wrapping primitives the key benchmark measures.
 */
export { default, type KeyserviceOptions } from './app';
export { DEFAULT_KEY_SERVICE_SETTINGS, MAX_PRINCIPAL_CACHE_MS, type KeyServiceSettings } from './config';
export { decryptAsOfficer, encryptToOfficer } from './core/officer-envelope';
export { KEYS_MIGRATIONS_TABLE, keysMigrations } from './migrations/index';
export { newSm4Key, unwrapDataKey, wrapDataKey } from './core/material';
