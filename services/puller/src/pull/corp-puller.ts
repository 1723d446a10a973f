import type { FastifyBaseLogger } from 'fastify';
import type { DataSource } from 'typeorm';
import type { AlertV1 } from '@cz/contracts';
import { completenessAlert } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { ChildGoneError, SdkChild } from '../sdk/sdk-child';
import type { PullerSettings } from '../config';
import { postToIngest } from './ingest-client';
import { UploadError, discardSink, fetchMedia, mediaRefsOf, recordingsSink } from './media';
import {
  LeaseLostError,
  acquireLease,
  beginMediaAttempt,
  commitBatch,
  dueMediaJobs,
  finishMediaJob,
  loadCorpConfig,
  readCheckpoint,
  recordPullError,
  releaseLease,
  replayableQuarantine,
  settleQuarantine,
  type MediaJobInput,
  type QuarantinedRecord,
} from './pull-state-store';

export type CorpPullerState =
  'idle' | 'starting' | 'pulling' | 'backoff' | 'stopped' | 'lease_held_elsewhere';

export interface CorpPullerDeps {
  corpId: string;
  owner: string;
  db: DataSource;
  keys: KeyProvider;
  settings: PullerSettings & { sdkPath: string };
  log: FastifyBaseLogger;
}

const SOURCE = 'puller';

/**
 * Pulls one corp: a loop around a supervised SDK child. Every iteration starts from the durable
 * checkpoint, so whatever happened before — a segfault in the library, a kill, a lost ingest
 * reply — the next iteration re-pulls what was not acknowledged, and ingest/archiver are
 * idempotent on (corp, msgid), so the archive gets every record exactly once.
 */
export class CorpPuller {
  state: CorpPullerState = 'idle';
  childRestarts = 0;
  lastError: string | null = null;
  private child: SdkChild | undefined;
  /** key versions the running child holds */
  private heldVersions: number[] = [];
  private keysChanged = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly deps: CorpPullerDeps) {}

  get corpId(): string {
    return this.deps.corpId;
  }

  get childPid(): number | null {
    return this.child?.pid ?? null;
  }

  /** The running child, for tests and operators (e.g. to prove a kill is survived). */
  get sdkChild(): SdkChild | undefined {
    return this.child;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * A key version was added or replaced: the child is restarted with the new keys at the next
   * cycle (the keys are handed over only at start), and quarantined records of that version are
   * decrypted again.
   */
  reloadKeys(): void {
    this.keysChanged = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await this.child?.stop();
    await releaseLease(this.deps.db, this.deps.corpId, this.deps.owner).catch(() => undefined);
    this.state = 'stopped';
  }

  private async sleep(ms: number): Promise<void> {
    if (this.stopping) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  private async run(): Promise<void> {
    const { settings, log, db, corpId, owner } = this.deps;
    let backoff = settings.backoffInitialMs;
    while (!this.stopping) {
      try {
        if (!(await acquireLease(db, corpId, owner, settings.leaseMs))) {
          this.state = 'lease_held_elsewhere';
          await this.child?.stop();
          this.child = undefined;
          await this.sleep(Math.max(1000, settings.leaseMs / 3));
          continue;
        }
        if (this.keysChanged && this.child?.alive) {
          const old = this.child;
          this.child = undefined;
          await old.stop();
        }
        this.keysChanged = false;
        if (!this.child?.alive) await this.startChild();
        this.state = 'pulling';
        const full = await this.pullOnce();
        await this.replayQuarantine();
        await this.processMedia();
        backoff = settings.backoffInitialMs;
        this.lastError = null;
        if (!full) await this.sleep(settings.pollIntervalMs);
      } catch (err) {
        if (this.stopping) break;
        const message = (err as Error).message;
        this.lastError = message;
        if (err instanceof ChildGoneError || !this.child?.alive) {
          this.childRestarts += this.child ? 1 : 0;
          this.child = undefined;
          log.error(
            { corpId, err: message, restarts: this.childRestarts },
            'SDK child gone; restarting with backoff',
          );
        } else if (err instanceof LeaseLostError) {
          log.warn({ corpId }, 'pull lease lost');
        } else {
          log.warn({ corpId, err: message }, 'pull cycle failed; retrying with backoff');
        }
        await recordPullError(db, corpId, message).catch(() => undefined);
        this.state = 'backoff';
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, settings.backoffMaxMs);
      }
    }
  }

  private async startChild(): Promise<void> {
    const { settings, db, keys, corpId } = this.deps;
    this.state = 'starting';
    const config = await loadCorpConfig(db, keys, corpId);
    const child = new SdkChild({
      init: {
        libraryPath: settings.sdkPath,
        corpId,
        secret: config.secret,
        privateKeys: config.privateKeys,
        proxy: settings.proxy,
        passwd: settings.proxyPasswd,
        timeoutSec: settings.sdkTimeoutSec,
      },
      // the SDK's own network timeout plus room for decrypting a full batch
      callTimeoutMs: settings.sdkTimeoutSec * 1000 + 30000,
      env: { ...process.env, ...settings.childEnv },
    });
    this.child = child;
    this.heldVersions = config.privateKeys.map((k) => k.publickeyVer);
    await child.start();
    this.deps.log.info(
      { corpId, pid: child.pid, keyVersions: config.privateKeys.map((k) => k.publickeyVer) },
      'SDK child ready',
    );
  }

  /** One GetChatData batch → ingest → checkpoint. Returns whether the batch was full. */
  private async pullOnce(): Promise<boolean> {
    const { db, keys, corpId, owner, settings, log } = this.deps;
    const checkpoint = await readCheckpoint(db, corpId);
    const records = await this.child!.pull(checkpoint, settings.batchLimit);
    if (records.length === 0) return false;

    const quarantine: QuarantinedRecord[] = [];
    const alerts: AlertV1[] = [];
    const toPost: { record: Record<string, unknown>; envelopeIndex: number; media: MediaJobInput[] }[] = [];
    let highest = checkpoint;
    for (const [i, pulled] of records.entries()) {
      const { seq, msgid } = pulled.envelope;
      // the SDK handed back a seq at or below one we already have: still archived (nothing is
      // dropped), but flagged; the same seq twice in a row is left to the archiver (dup/conflict)
      const previous = i > 0 ? records[i - 1]!.envelope.seq : undefined;
      if (seq <= checkpoint || (seq < highest && seq !== previous)) {
        alerts.push(
          completenessAlert({
            corpId,
            kind: 'seq_regression',
            severity: 'warning',
            source: SOURCE,
            fromSeq: seq,
            toSeq: highest,
            msgid,
            detail: { checkpoint, highestInBatch: highest },
          }),
        );
      }
      highest = Math.max(highest, seq);
      if (!pulled.ok) {
        quarantine.push({ envelope: pulled.envelope, stage: pulled.stage, reason: pulled.reason });
        continue;
      }
      let record: unknown;
      try {
        record = JSON.parse(Buffer.from(pulled.plaintext).toString('utf8'));
      } catch (err) {
        quarantine.push({
          envelope: pulled.envelope,
          stage: 'decode',
          reason: `not JSON: ${(err as Error).message}`,
        });
        continue;
      }
      if (typeof record !== 'object' || record === null || Array.isArray(record)) {
        quarantine.push({
          envelope: pulled.envelope,
          stage: 'decode',
          reason: 'decrypted record is not a JSON object',
        });
        continue;
      }
      const withSeq = { ...(record as Record<string, unknown>), seq };
      toPost.push({ record: withSeq, envelopeIndex: i, media: mediaRefsOf(withSeq, msgid, seq) });
    }

    const { rejected } = await postToIngest(
      { url: settings.ingestUrl, callerToken: settings.callerToken, tls: settings.tls },
      corpId,
      toPost.map((p) => p.record),
    );
    const rejectedIndexes = new Set<number>();
    for (const r of rejected) {
      const posted = toPost[r.index];
      if (!posted) continue;
      rejectedIndexes.add(r.index);
      quarantine.push({
        envelope: records[posted.envelopeIndex]!.envelope,
        stage: 'ingest',
        reason: r.errors.map((e) => `${e.path || '/'}: ${e.message}`).join('; '),
      });
    }
    const media = toPost.filter((_, i) => !rejectedIndexes.has(i)).flatMap((p) => p.media);

    for (const stage of ['key', 'decrypt', 'decode', 'ingest'] as const) {
      const ofStage = quarantine.filter((q) => q.stage === stage);
      if (ofStage.length === 0) continue;
      const seqs = ofStage.map((q) => q.envelope.seq);
      alerts.push(
        completenessAlert({
          corpId,
          kind: 'pull_quarantine',
          severity: 'critical',
          source: SOURCE,
          fromSeq: Math.min(...seqs),
          toSeq: Math.max(...seqs),
          detail: {
            stage,
            count: ofStage.length,
            msgids: ofStage.slice(0, 50).map((q) => q.envelope.msgid),
            publickeyVers: [...new Set(ofStage.map((q) => q.envelope.publickey_ver))],
          },
        }),
      );
    }

    await commitBatch(db, keys, {
      corpId,
      owner,
      seq: highest,
      records: records.length,
      quarantine,
      alerts,
      media,
    });
    log.info(
      {
        corpId,
        from: checkpoint,
        to: highest,
        records: records.length,
        quarantined: quarantine.length,
        media: media.length,
      },
      'batch archived and checkpointed',
    );
    return records.length >= settings.batchLimit;
  }

  /** Quarantined records whose key version is held now: decrypt, post, resolve. */
  private async replayQuarantine(): Promise<void> {
    const { db, keys, corpId, settings, log } = this.deps;
    const open = await replayableQuarantine(db, keys, corpId, this.heldVersions, settings.batchLimit);
    if (open.length === 0) return;
    const pulled = await this.child!.decrypt(open.map((o) => o.envelope));
    const outcomes: Parameters<typeof settleQuarantine>[2] = [];
    const toPost: { record: Record<string, unknown>; id: string; media: MediaJobInput[] }[] = [];
    for (const [i, result] of pulled.entries()) {
      const id = open[i]!.id;
      if (!result.ok) {
        outcomes.push({ id, resolved: false, stage: result.stage, reason: result.reason });
        continue;
      }
      const { seq, msgid } = result.envelope;
      try {
        const record = JSON.parse(Buffer.from(result.plaintext).toString('utf8')) as Record<string, unknown>;
        const withSeq = { ...record, seq };
        toPost.push({ record: withSeq, id, media: mediaRefsOf(withSeq, msgid, seq) });
      } catch (err) {
        outcomes.push({
          id,
          resolved: false,
          stage: 'decode',
          reason: `not JSON: ${(err as Error).message}`,
        });
      }
    }
    const { rejected } = await postToIngest(
      { url: settings.ingestUrl, callerToken: settings.callerToken, tls: settings.tls },
      corpId,
      toPost.map((p) => p.record),
    );
    const rejectedAt = new Map(rejected.map((r) => [r.index, r]));
    for (const [i, posted] of toPost.entries()) {
      const r = rejectedAt.get(i);
      outcomes.push(
        r
          ? {
              id: posted.id,
              resolved: false,
              stage: 'ingest',
              reason: r.errors.map((e) => `${e.path || '/'}: ${e.message}`).join('; '),
            }
          : { id: posted.id, resolved: true },
      );
    }
    const media = toPost.filter((_, i) => !rejectedAt.has(i)).flatMap((p) => p.media);
    await settleQuarantine(db, corpId, outcomes, media);
    log.info(
      { corpId, replayed: open.length, resolved: outcomes.filter((o) => o.resolved).length },
      'quarantined records decrypted again',
    );
  }

  private async processMedia(): Promise<void> {
    const { db, corpId, settings, log } = this.deps;
    const jobs = await dueMediaJobs(db, corpId, settings.mediaPerCycle);
    const started = Date.now();
    for (const job of jobs) {
      // chat records expire at Tencent: a run of large media must not hold up the next pull
      if (this.stopping || Date.now() - started > settings.mediaCycleBudgetMs) return;
      const retryInMs = Math.min(
        settings.backoffMaxMs * 10,
        settings.backoffInitialMs * 2 ** (job.attempts + 2),
      );
      await beginMediaAttempt(db, job.id, retryInMs);
      const attempt = job.attempts + 1;
      try {
        // recordings verifies the md5 it is given: without one from WeCom, learn it in a first pass
        const announced =
          job.expectedMd5 ??
          (
            await fetchMedia({
              source: this.child!,
              sdkfileid: job.sdkfileid,
              expectedMd5: null,
              maxAttempts: 1,
              maxBytes: settings.mediaMaxBytes,
              openSink: discardSink,
            })
          ).md5;
        const result = await fetchMedia({
          source: this.child!,
          sdkfileid: job.sdkfileid,
          expectedMd5: announced,
          maxAttempts: settings.md5Attempts,
          maxBytes: settings.mediaMaxBytes,
          openSink: (attempt) =>
            recordingsSink({
              recordingsUrl: settings.recordingsUrl,
              tls: settings.tls,
              token: settings.callerToken,
              corpId,
              sdkfileid: job.sdkfileid,
              md5: announced,
              // every earlier download disagreed with the md5: keep these bytes, flagged
              keepOnMismatch: attempt === settings.md5Attempts,
            }),
        });
        const outcome: Parameters<typeof finishMediaJob>[2] = {
          status: result.status,
          actualMd5: result.md5,
          bytes: result.bytes,
        };
        if (result.status === 'md5_mismatch') {
          outcome.error = `md5 mismatch after ${result.attempts} downloads: expected ${job.expectedMd5}, got ${result.md5}`;
          outcome.alert = completenessAlert({
            corpId,
            kind: 'media_md5_mismatch',
            severity: 'warning',
            source: SOURCE,
            msgid: job.msgid,
            ...(job.seq !== null ? { fromSeq: job.seq, toSeq: job.seq } : {}),
            detail: {
              mediaJob: job.id,
              expectedMd5: job.expectedMd5,
              actualMd5: result.md5,
              bytes: result.bytes,
            },
          });
        }
        await finishMediaJob(db, job.id, outcome);
      } catch (err) {
        const message = (err as Error).message;
        // 409: recordings holds different bytes under this id already; archived media never change
        const exhausted =
          attempt >= settings.mediaMaxAttempts || (err instanceof UploadError && err.status === 409);
        await finishMediaJob(db, job.id, {
          status: exhausted ? 'failed' : 'pending',
          error: message,
          ...(exhausted
            ? {
                alert: completenessAlert({
                  corpId,
                  kind: 'media_failed',
                  severity: 'critical',
                  source: SOURCE,
                  msgid: job.msgid,
                  detail: { mediaJob: job.id, attempts: attempt, error: message.slice(0, 300) },
                }),
              }
            : {}),
        });
        log.warn({ corpId, mediaJob: job.id, attempt, err: message }, 'media fetch failed');
        // a dead child ends this cycle; the loop restarts it with backoff
        if (err instanceof ChildGoneError) throw err;
      }
    }
  }
}
