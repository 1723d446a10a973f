import fp from 'fastify-plugin';
import { announcePending } from '../../announce';

/**
 * Outbox sweep: a recording whose `cz.call.v1` announcement failed (Kafka down) is stored and
 * locked already; this re-announces it until Kafka acknowledges. Every replica may sweep: the
 * archiver handles a repeated announcement idempotently.
 */
export default fp<{ everyMs: number; graceMs?: number }>(
  async (app, { everyMs, graceMs }) => {
    if (everyMs <= 0) return;
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      announcePending(app, graceMs)
        .then((count) => {
          if (count > 0) app.log.info({ count }, 'announced pending recordings');
        })
        .catch((err: unknown) => app.log.warn({ err }, 'announcing pending recordings failed; will retry'))
        .finally(() => {
          running = false;
        });
    }, everyMs);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  },
  { name: 'cz-recordings-announcer', dependencies: ['cz-database', 'cz-recordings-kafka'] },
);
