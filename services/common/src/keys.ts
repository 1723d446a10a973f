import fp from 'fastify-plugin';
import { ConfigError, envInt, envString, requireSecureUrl } from './config';
import type { KeyProvider } from './crypto';
import { RemoteKeyProvider } from './keyclient';

/**
 * Every service's key source: the key service (services/keyservice) at CZ_KEYSERVICE_URL, with
 * this service's own credential CZ_KEYSERVICE_TOKEN. It also answers blind-index keys
 * (`indexKey(purpose)`, see ./index-keys). Unwrapped keys are cached for CZ_KEYSERVICE_CACHE_TTL_MS
 * (default 60 s), at most CZ_KEYSERVICE_CACHE_MAX entries (default 10,000).
 */
export function keyProviderFromEnv(): RemoteKeyProvider {
  const url = process.env.CZ_KEYSERVICE_URL;
  if (!url) {
    throw new ConfigError(
      'CZ_KEYSERVICE_URL is not set: services get their keys from the key service (the local stack sets it in .stack/services.env)',
    );
  }
  return new RemoteKeyProvider({
    // plaintext data keys travel on this hop: https only (plain with CZ_INSECURE_DEV=1)
    url: requireSecureUrl('CZ_KEYSERVICE_URL', url),
    token: envString('CZ_KEYSERVICE_TOKEN'),
    cacheTtlMs: envInt('CZ_KEYSERVICE_CACHE_TTL_MS', 60000),
    cacheMaxEntries: envInt('CZ_KEYSERVICE_CACHE_MAX', 10000),
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    keys: KeyProvider;
  }
}

/** Exposes the service's key source as `app.keys`. */
export const keysPlugin = fp<{ keys: KeyProvider }>(
  async (app, { keys }) => {
    app.decorate('keys', keys);
  },
  { name: 'cz-keys' },
);
