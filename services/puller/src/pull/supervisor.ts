import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { DataSource } from 'typeorm';
import type { PullerCorpStatus } from '@cz/contracts';
import type { KeyProvider } from '@cz/common/crypto';
import type { PullerSettings } from '../config';
import { CorpPuller } from './corp-puller';
import { corpCounters, keyVersionsOf, listEnabledCorps, readCheckpoint } from './pull-state-store';

/**
 * Runs one CorpPuller per enabled corp and picks up corps added or disabled later. Replicas share
 * the work through per-corp leases, so running several is safe.
 */
export class PullSupervisor {
  readonly owner = `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  private readonly pullers = new Map<string, CorpPuller>();
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly db: DataSource,
    private readonly keys: KeyProvider,
    private readonly settings: PullerSettings,
    private readonly log: FastifyBaseLogger,
  ) {}

  get sdkConfigured(): boolean {
    return this.settings.sdkPath !== undefined;
  }

  puller(corpId: string): CorpPuller | undefined {
    return this.pullers.get(corpId);
  }

  start(): void {
    if (!this.settings.sdkPath) {
      this.log.warn('CZ_WECOM_SDK_PATH is not set: the Finance-SDK puller stays idle');
      return;
    }
    const tick = () => {
      this.scanning = this.scan()
        .catch((err: Error) => this.log.error({ err: err.message }, 'corp scan failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.settings.corpScanIntervalMs);
        });
    };
    tick();
  }

  /** Starts pullers for newly enabled corps and stops those that were disabled. */
  async scan(): Promise<void> {
    const sdkPath = this.settings.sdkPath;
    if (!sdkPath || this.stopped) return;
    const enabled = new Set(await listEnabledCorps(this.db));
    for (const corpId of enabled) {
      if (this.pullers.has(corpId)) continue;
      const puller = new CorpPuller({
        corpId,
        owner: this.owner,
        db: this.db,
        keys: this.keys,
        settings: { ...this.settings, sdkPath },
        log: this.log,
      });
      this.pullers.set(corpId, puller);
      puller.start();
    }
    for (const [corpId, puller] of this.pullers) {
      if (!enabled.has(corpId)) {
        this.pullers.delete(corpId);
        await puller.stop();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.scanning;
    await Promise.all([...this.pullers.values()].map((p) => p.stop()));
    this.pullers.clear();
  }

  async status(): Promise<PullerCorpStatus[]> {
    const enabled = new Set(await listEnabledCorps(this.db));
    const corps = new Set([...enabled, ...this.pullers.keys()]);
    const result: PullerCorpStatus[] = [];
    for (const corpId of [...corps].sort()) {
      const puller = this.pullers.get(corpId);
      result.push({
        corpId,
        enabled: enabled.has(corpId),
        checkpointSeq: await readCheckpoint(this.db, corpId),
        state: puller?.state ?? 'idle',
        childPid: puller?.childPid ?? null,
        childRestarts: puller?.childRestarts ?? 0,
        keyVersions: await keyVersionsOf(this.db, corpId),
        lastError: puller?.lastError ?? null,
        ...(await corpCounters(this.db, corpId)),
      });
    }
    return result;
  }
}
