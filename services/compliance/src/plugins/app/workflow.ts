import fp from 'fastify-plugin';
import { queueRaisedNotifications } from '../../workflow/dispatch';
import { sendDueDeliveries } from '../../workflow/deliveries';
import { escalateOverdue } from '../../workflow/escalation';
import { previousShanghaiDay, sampleReviews } from '../../workflow/review-sampling';
import { createSender } from '../../workflow/senders';
import { resolveWorkflowSettings, type WorkflowSettings } from '../../workflow/settings';

const SHANGHAI_OFFSET_MS = 8 * 3600000;

/**
 * The alert workflow's timers: every `sweepIntervalMs` the SLA escalation, the notification outbox
 * (alerts → deliveries), the sender (deliveries → receivers) and, once a day after `reviewHour`
 * (Asia/Shanghai), the review sampling of the previous day. Every step is safe with several
 * replicas (optimistic row versions, SKIP LOCKED, leases, a database lock), so each replica runs
 * them all. A sweep never overlaps the previous one on the same replica.
 */
export default fp<{ settings: Partial<WorkflowSettings> }>(
  async (app, options) => {
    const settings = resolveWorkflowSettings(options.settings);
    const sender = createSender(settings);
    let sampledDay: string | null = null;
    let timer: NodeJS.Timeout | null = null;
    let running: Promise<void> | null = null;
    let closing = false;

    const step = async (name: string, work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (err) {
        app.log.error({ err, step: name }, 'workflow sweep step failed');
      }
    };

    const sweep = async () => {
      await step('escalation', () => escalateOverdue(app.db));
      await step('notify-queue', () => queueRaisedNotifications(app.db, new Date(), settings.batchSize));
      await step('notify-send', async () => {
        const sent = await sendDueDeliveries(app.db, app.keys, settings, sender.send);
        if (sent.dead > 0) app.log.warn({ dead: sent.dead }, 'notification deliveries dead-lettered');
      });
      const now = new Date();
      const hour = new Date(now.getTime() + SHANGHAI_OFFSET_MS).getUTCHours();
      const day = previousShanghaiDay(now);
      if (settings.reviewSampling && hour >= settings.reviewHour && sampledDay !== day) {
        await step('review-sampling', async () => {
          const result = await sampleReviews(app.db, { day, now });
          if (result.ran) {
            sampledDay = day;
            app.log.info({ day, corps: Object.keys(result.corps).length }, 'review sampling done');
          }
        });
      }
    };

    const schedule = () => {
      if (closing) return;
      timer = setTimeout(() => {
        running = sweep().finally(() => {
          running = null;
          schedule();
        });
      }, settings.sweepIntervalMs);
      timer.unref();
    };

    if (settings.timers) app.addHook('onReady', async () => schedule());
    app.addHook('onClose', async () => {
      closing = true;
      if (timer) clearTimeout(timer);
      if (running) await running;
      sender.close();
    });
  },
  { name: 'compliance-workflow' },
);
