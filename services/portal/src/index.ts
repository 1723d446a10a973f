/**
 * The portal's public API: its Fastify plugin, and the user, scope, directory, audit and search
 * functions that the demo seeding, the benches and other packages' tests drive directly.
 */
export { default, type PortalOptions } from './app';
export { upsertUser, type NewUser } from './users';
export { setUserScope } from './scope';
export { verifyAuditChain } from './audit';
export { loadDirectory } from './directory';
export { DEFAULT_LIMITS, SearchEngine } from './search/engine';
export { KIND_CALL, KIND_MESSAGE } from './search/plan';
