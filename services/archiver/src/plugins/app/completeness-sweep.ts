import fp from 'fastify-plugin';
import type { Producer } from 'kafkajs';
import { Topics } from '@cz/contracts';
import { createProducer, ensureTopics } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import type { CompletenessSettings } from '../../config';
import { promoteGaps, publishAlerts } from '../../completeness/gap-alerts';
import { reconcileFinishedDays } from '../../completeness/reconciliation';

interface CompletenessSweepOptions extends CompletenessSettings {
  keys: KeyProvider;
}

declare module 'fastify' {
  interface FastifyInstance {
    completeness: { sweep: () => Promise<void>; timeZone: string };
  }
}

/**
 * Background work of completeness tracking: promote gaps that outlived the grace period to
 * alerts, publish the alert outbox to cz.alert.v1, and freeze the reconciliation of finished days.
 * Every step is safe to run on several replicas at once.
 */
export default fp<CompletenessSweepOptions>(
  async (app, options) => {
    const { kafka } = app;
    let producer: Producer | undefined;
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    let closing = false;
    let lastReconcile = 0;

    const sweep = async () => {
      await promoteGaps(app.db, options.gapGraceMs);
      if (!producer) {
        await ensureTopics(kafka, [{ topic: Topics.alerts, numPartitions: 3 }]);
        const p = createProducer(kafka);
        await p.connect();
        producer = p;
      }
      while ((await publishAlerts(app.db, producer, options.keys)) > 0 && !closing);
      if (Date.now() - lastReconcile >= options.reconcileIntervalMs) {
        await reconcileFinishedDays(app.db, options.timeZone);
        lastReconcile = Date.now();
      }
    };
    const tick = () => {
      running = sweep()
        .catch((err: Error) => app.log.warn({ err: err.message }, 'completeness sweep failed; will retry'))
        .finally(() => {
          if (!closing) timer = setTimeout(tick, options.sweepIntervalMs);
        });
    };

    app.decorate('completeness', {
      timeZone: options.timeZone,
      sweep: async () => {
        await running;
        await sweep();
      },
    });
    app.addHook('onReady', async () => tick());
    app.addHook('onClose', async () => {
      closing = true;
      clearTimeout(timer);
      await running;
      await producer?.disconnect();
    });
  },
  { name: 'cz-completeness', dependencies: ['cz-database', 'cz-kafka'] },
);
