import fp from 'fastify-plugin';
import type { KeyServiceSettings } from '../../config';
import { KeyService } from '../../core/key-service';

declare module 'fastify' {
  interface FastifyInstance {
    keyStore: KeyService;
  }
}

/**
 * The key service's parts over `app.db`, plus the timer that performs due automatic rotations. On
 * close the rewrap job stops and the root key and KEKs are overwritten in memory.
 */
export default fp<{ settings: KeyServiceSettings }>(
  async (app, { settings }) => {
    const keys = new KeyService(app.db, settings);
    app.decorate('keyStore', keys);
    const timer = setInterval(() => {
      keys.autoRotate().then(
        (rotated) => {
          if (rotated.length > 0) app.log.info({ rotated }, 'automatic rotation');
        },
        (err: unknown) => app.log.error({ err }, 'automatic rotation failed'),
      );
    }, settings.autoRotateCheckMs);
    timer.unref();
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await keys.close();
    });
  },
  { name: 'cz-keystore', dependencies: ['cz-database'] },
);
