import fp from 'fastify-plugin';
import { envString } from './config';
import { LocalKeyProvider, type KeyProvider } from './crypto';

/**
 * The placeholder key source of the walking skeleton: one master key from the environment
 * (CZ_DEV_MASTER_KEY, 64 hex chars, written by the local stack scripts). The key-service issue
 * replaces this with a remote KeyProvider backed by the Shamir-unsealed root key.
 */
export function keyProviderFromEnv(): KeyProvider {
  const hex = envString('CZ_DEV_MASTER_KEY');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new Error('CZ_DEV_MASTER_KEY must be 64 hex characters (32 bytes)');
  }
  return new LocalKeyProvider({ masterKey: Buffer.from(hex, 'hex') });
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
