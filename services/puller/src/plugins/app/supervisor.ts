import fp from 'fastify-plugin';
import type { KeyProvider } from '@cz/common/crypto';
import { PullSupervisor } from '../../pull/supervisor';
import type { PullerSettings } from '../../config';

declare module 'fastify' {
  interface FastifyInstance {
    pullSupervisor: PullSupervisor;
  }
}

/** Starts the per-corp pullers once the app is ready; stops them (and their SDK children) on close. */
export default fp<{ settings: PullerSettings; keys: KeyProvider }>(
  async (app, { settings, keys }) => {
    const supervisor = new PullSupervisor(app.db, keys, settings, app.log);
    app.decorate('pullSupervisor', supervisor);
    app.addHook('onReady', async () => supervisor.start());
    app.addHook('onClose', async () => supervisor.stop());
  },
  { name: 'cz-pull-supervisor', dependencies: ['cz-database'] },
);
