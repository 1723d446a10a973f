import fp from 'fastify-plugin';
import { ensureMonthPartitions } from '../../partitions';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Keeps a year of month partitions ready: at start-up and once a day (every replica; idempotent). */
export default fp<{ monthsAhead?: number }>(
  async (app, options) => {
    const run = async () => {
      try {
        const added = await ensureMonthPartitions(app.db, options.monthsAhead ?? 12);
        if (added.length > 0) app.log.info({ added }, 'month partitions added');
      } catch (err) {
        app.log.error({ err }, 'month partition maintenance failed');
      }
    };
    let timer: NodeJS.Timeout | undefined;
    app.addHook('onReady', async () => {
      await run();
      timer = setInterval(() => void run(), DAY_MS);
      timer.unref();
    });
    app.addHook('onClose', async () => {
      if (timer) clearInterval(timer);
    });
  },
  { name: 'cz-partition-maintenance', dependencies: ['cz-database'] },
);
