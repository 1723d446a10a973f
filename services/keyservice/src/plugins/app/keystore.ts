import fp from 'fastify-plugin';
import type { KeyServiceSettings } from '../../config';
import { KeyStore } from '../../core/store';

declare module 'fastify' {
  interface FastifyInstance {
    keyStore: KeyStore;
  }
}

/**
 * The key store over `app.db`, plus the timer that performs due automatic rotations. On close the
 * rewrap job stops and the root key and KEKs are overwritten in memory.
 */
export default fp<{ settings: KeyServiceSettings }>(
  async (app, { settings }) => {
    const store = new KeyStore(app.db, settings);
    app.decorate('keyStore', store);
    const timer = setInterval(() => {
      store.autoRotate().then(
        (rotated) => {
          if (rotated.length > 0) app.log.info({ rotated }, 'automatic rotation');
        },
        (err: unknown) => app.log.error({ err }, 'automatic rotation failed'),
      );
    }, settings.autoRotateCheckMs);
    timer.unref();
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await store.close();
    });
  },
  { name: 'cz-keystore', dependencies: ['cz-database'] },
);
