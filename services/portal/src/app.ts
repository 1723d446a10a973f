import type { FastifyPluginAsync } from 'fastify';
import { errorHandlerPlugin, healthPlugin, keysPlugin, type DatabaseConfig } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import databasePlugin from './plugins/external/database';
import consolePlugin from './plugins/external/console';
import authPlugin from './plugins/app/auth';
import cursorsPlugin from './plugins/app/cursors';
import authRoutes from './routes/auth';
import messageRoutes from './routes/messages';
import searchRoutes, { type SearchRouteOptions } from './routes/search';
import conversationRoutes from './routes/conversations';
import directoryRoutes from './routes/directory';
import playbackRoutes, { type PlaybackOptions } from './routes/playback';
import scopeRoutes from './routes/scope';
import keysProxyRoutes, { type KeysProxyOptions } from './routes/keys-proxy';
import alertRoutes from './routes/alerts';
import reviewRoutes from './routes/reviews';
import notificationRoutes from './routes/notifications';
import lexiconRelay, { type ComplianceRelayOptions } from './routes/lexicon-proxy';

export interface PortalOptions {
  database: DatabaseConfig;
  keys: KeyProvider;
  /** signs page cursors; the same on every replica */
  cursorKey: Buffer;
  /** built console to serve at `/`; omitted in tests */
  consoleRoot?: string;
  sessionTtlMinutes?: number;
  /** bounds of one search request's work (defaults suit production) */
  search?: SearchRouteOptions;
  /** the recordings service that plays recordings and media back (through the portal, audited) */
  recordings?: PlaybackOptions;
  /** security officers reach the key service's officer endpoints through the portal (密钥管理) */
  keysProxy?: KeysProxyOptions;
  /** the compliance service: lexicon management and retroactive scans are relayed to it (词库管理) */
  compliance?: ComplianceRelayOptions;
}

/** Portal: the console's API (auth, search, views, audit) and the console itself. */
const app: FastifyPluginAsync<PortalOptions> = async (fastify, options) => {
  await fastify.register(errorHandlerPlugin);
  await fastify.register(databasePlugin, { database: options.database });
  await fastify.register(consolePlugin, { root: options.consoleRoot });
  await fastify.register(keysPlugin, { keys: options.keys });
  await fastify.register(cursorsPlugin, { cursorKey: options.cursorKey });
  await fastify.register(authPlugin, { sessionTtlMinutes: options.sessionTtlMinutes ?? 480 });
  await fastify.register(healthPlugin, {
    service: 'portal',
    checks: { database: async () => void (await fastify.db.query('SELECT 1')) },
  });
  await fastify.register(authRoutes);
  await fastify.register(messageRoutes);
  await fastify.register(searchRoutes, options.search ?? {});
  await fastify.register(conversationRoutes);
  await fastify.register(directoryRoutes);
  await fastify.register(playbackRoutes, options.recordings ? { recordings: options.recordings } : {});
  await fastify.register(scopeRoutes);
  await fastify.register(keysProxyRoutes, options.keysProxy ?? {});
  await fastify.register(alertRoutes);
  await fastify.register(reviewRoutes);
  await fastify.register(notificationRoutes);
  await fastify.register(lexiconRelay, options.compliance ?? {});
};

export default app;
