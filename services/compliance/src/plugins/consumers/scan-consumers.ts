import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Topics, type Topic } from '@cz/contracts';
import { ensureTopics, runBatchConsumer, type RunningConsumer } from '@cz/common';
import { scanDefaults, type ScanSettings } from '../../flow/settings';
import { scanBatch } from '../../flow/scan-batch';
import { cachedSlaRules } from '../../flow/sla-rules';
import { AlertSignal } from '../../flow/signal';

/** What the live scan did since start (per process). */
export interface ScanStats {
  batches: number;
  scanned: number;
  skipped: number;
  alerts: number;
  deadLettered: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    scanStats: ScanStats;
    /** notified after a transaction raised alerts (the outbox wakes on it) */
    alertSignal: AlertSignal;
    /** joined-or-not of each scan consumer, by topic (for /readyz) */
    scanConsumerStates: Map<string, string>;
  }
}

/** The scanned topics and the consumer group of each (the archiver's shape: one group per topic). */
const SCANNED: readonly { topic: Topic; group: (base: string) => string }[] = [
  { topic: Topics.messages, group: (base) => base },
  { topic: Topics.calls, group: (base) => `${base}-calls` },
  { topic: Topics.events, group: (base) => `${base}-events` },
];

/** Consumer groups of the live scan for a base group id (tests wait on them). */
export const scanGroups = (base: string) =>
  SCANNED.map(({ topic, group }) => ({ groupId: group(base), topics: [topic] }));

/** Throws while a scan consumer of `app` has not joined its group yet (for /readyz). */
export async function consumersJoined(app: FastifyInstance): Promise<void> {
  const waiting = [...app.scanConsumerStates].filter(([, state]) => state !== 'joined');
  if (waiting.length > 0) throw new Error(waiting.map(([topic, state]) => `${topic}: ${state}`).join('; '));
}

const RETRY_MS = 5000;

/**
 * Live scanning of cz.msg.v1, cz.call.v1 and cz.event.v1: each batch is opened with the service's
 * own credential, scanned with the published lexicon and its alerts inserted in one transaction
 * before the offsets are committed (common's runBatchConsumer: eachBatch, commit after the
 * handler, DLQ with the reason in the headers). Consumers join once the app is ready, in the
 * background (a restarted group waits out the dead member's session), and leave on close.
 */
export default fp<{ settings: Partial<ScanSettings> }>(
  async (app, options) => {
    const settings = { ...scanDefaults, ...options.settings };
    const stats: ScanStats = { batches: 0, scanned: 0, skipped: 0, alerts: 0, deadLettered: 0 };
    const signal = new AlertSignal();
    app.decorate('scanStats', stats);
    app.decorate('alertSignal', signal);
    const context = {
      app,
      slaRules: cachedSlaRules(app.db, settings.slaRulesCacheMs),
      raised: () => signal.notify(),
    };
    await ensureTopics(
      app.kafka,
      SCANNED.map(({ topic }) => ({ topic })),
    );
    const states = new Map<string, string>();
    app.decorate('scanConsumerStates', states);
    const running: RunningConsumer[] = [];
    const retries = new Set<NodeJS.Timeout>();
    const starting = new Set<Promise<void>>();
    let closed = false;

    const start = async (topic: Topic, groupId: string): Promise<void> => {
      try {
        const consumer = await runBatchConsumer({
          kafka: app.kafka,
          groupId,
          topic,
          logger: app.log as never,
          partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
          handleBatch: async (messages, partition) => {
            const result = await scanBatch(context, topic, messages, partition);
            stats.batches += 1;
            stats.scanned += result.scanned;
            stats.skipped += result.skipped;
            stats.alerts += result.alerts;
            stats.deadLettered += result.poison.length;
            if (result.poison.length > 0) {
              app.log.error(
                { topic, partition, count: result.poison.length, alert: 'integrity.unreadable' },
                'records compliance cannot read: dead-lettered unscanned, security alert raised',
              );
            }
            return result.poison;
          },
        });
        if (closed) return void (await consumer.stop());
        running.push(consumer);
        states.set(topic, 'joined');
        app.log.info({ topic, groupId }, 'scan consumer joined');
      } catch (err) {
        if (closed) return;
        states.set(topic, `join failed, retrying: ${err instanceof Error ? err.message : String(err)}`);
        app.log.error({ err, topic }, 'scan consumer could not join; retrying in 5 s');
        const retry = setTimeout(() => {
          retries.delete(retry);
          track(start(topic, groupId));
        }, RETRY_MS);
        retries.add(retry);
      }
    };
    const track = (promise: Promise<void>) => {
      starting.add(promise);
      void promise.finally(() => starting.delete(promise));
    };

    for (const { topic } of SCANNED) states.set(topic, 'joining');
    app.addHook('onReady', async () => {
      for (const { topic, group } of SCANNED) track(start(topic, group(settings.groupId)));
    });
    app.addHook('onClose', async () => {
      closed = true;
      for (const retry of retries) clearTimeout(retry);
      await Promise.allSettled([...starting]);
      await Promise.allSettled(running.map((consumer) => consumer.stop()));
    });
  },
  { name: 'compliance-scan-consumers', dependencies: ['cz-database', 'cz-keys', 'compliance-kafka'] },
);
