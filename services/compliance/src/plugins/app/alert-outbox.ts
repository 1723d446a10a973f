import fp from 'fastify-plugin';
import { Topics } from '@cz/contracts';
import { lazyProducer } from '@cz/common';
import { publishPending } from '../../flow/outbox';
import { scanDefaults, type ScanSettings } from '../../flow/settings';

declare module 'fastify' {
  interface FastifyInstance {
    outboxStats: { published: number; failures: number };
  }
}

/**
 * Publishes `compliance_alert` rows with `published_at` NULL to cz.alert.v1: every `outboxPollMs`
 * and at once when a batch of this process raised alerts, so ingest → alert published stays well
 * under a second. Errors are logged and retried on the next round.
 */
export default fp<{ settings: Partial<ScanSettings> }>(
  async (app, options) => {
    const settings = { ...scanDefaults, ...options.settings };
    const producer = lazyProducer(app.kafka, [{ topic: Topics.alerts }]);
    const stats = { published: 0, failures: 0 };
    app.decorate('outboxStats', stats);
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    let again = false;
    let closed = false;

    const schedule = (ms: number) => {
      if (closed) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(run, ms);
    };
    const drain = async () => {
      try {
        // a full page means more are waiting: go on at once
        for (;;) {
          const published = await publishPending(app.db, app.keys, producer);
          stats.published += published;
          if (published < 500 || closed) break;
        }
      } catch (err) {
        stats.failures += 1;
        app.log.error({ err }, 'alert outbox: publishing failed, retrying');
      }
    };
    function run(): void {
      if (running) {
        again = true;
        return;
      }
      running = drain().finally(() => {
        running = undefined;
        if (again) {
          again = false;
          schedule(0);
        } else schedule(settings.outboxPollMs);
      });
    }

    const unsubscribe = app.alertSignal.subscribe(() => schedule(0));
    app.addHook('onReady', async () => schedule(0));
    app.addHook('onClose', async () => {
      closed = true;
      unsubscribe();
      if (timer) clearTimeout(timer);
      await running;
      await producer.close();
    });
  },
  {
    name: 'compliance-alert-outbox',
    dependencies: ['cz-database', 'cz-keys', 'compliance-kafka', 'compliance-scan-consumers'],
  },
);
