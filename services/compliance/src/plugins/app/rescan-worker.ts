import fp from 'fastify-plugin';
import { leaseRescanJob, runRescanJob } from '../../flow/rescan';
import { scanDefaults, type ScanSettings } from '../../flow/settings';
import { cachedSlaRules } from '../../flow/sla-rules';

/**
 * Runs retroactive scans: looks for a queued job every `rescanPollMs`, leases it (one replica at a
 * time, renewed with every page) and scans its period at the job's rate. On close it stops after
 * the current page; the job keeps its cursor and is resumed by whichever replica leases it next.
 */
export default fp<{ settings: Partial<ScanSettings> }>(
  async (app, options) => {
    const settings = { ...scanDefaults, ...options.settings };
    const slaRules = cachedSlaRules(app.db, settings.slaRulesCacheMs);
    let closed = false;
    let wake: (() => void) | undefined;
    let loop: Promise<void> | undefined;

    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });

    const work = async () => {
      while (!closed) {
        try {
          const job = await leaseRescanJob(app, settings.replicaId, settings.rescanLeaseMs);
          if (!job) {
            await sleep(settings.rescanPollMs);
            continue;
          }
          app.log.info({ job: job.id, version: job.version }, 'retroactive scan leased');
          const outcome = await runRescanJob(app, job, {
            owner: settings.replicaId,
            leaseMs: settings.rescanLeaseMs,
            batchSize: settings.rescanBatchSize,
            slaRules,
            stopped: () => closed,
            raised: () => app.alertSignal.notify(),
          });
          app.log.info({ job: job.id, outcome }, 'retroactive scan stopped');
        } catch (err) {
          app.log.error({ err }, 'retroactive scan failed; retrying');
          await sleep(settings.rescanPollMs * 5);
        }
      }
    };

    app.addHook('onReady', async () => {
      loop = work();
    });
    app.addHook('onClose', async () => {
      closed = true;
      wake?.();
      await loop;
    });
  },
  { name: 'compliance-rescan-worker', dependencies: ['cz-database', 'cz-keys', 'compliance-scan-consumers'] },
);
