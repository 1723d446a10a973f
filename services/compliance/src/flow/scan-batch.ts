import type { FastifyInstance } from 'fastify';
import type { KafkaMessage } from 'kafkajs';
import type { SlaPolicyRule, Topic } from '@cz/contracts';
import type { PoisonRecord } from '@cz/common';
import type { CompiledLexicon } from '../engine';
import { draftAlerts, insertAlerts, sealDrafts, type AlertDraft } from './alerts';
import { recordScanFailures } from './failures';
import { publishedLexicon } from './lexicon-access';
import { completeCallRecords, resolveSubjects } from './people';
import { decodeBatch, type ScanRecord } from './records';

export interface ScanBatchContext {
  app: FastifyInstance;
  slaRules: () => Promise<readonly SlaPolicyRule[]>;
  /** after a transaction that raised alerts */
  raised: () => void;
}

export interface ScanBatchResult {
  scanned: number;
  skipped: number;
  alerts: number;
  poison: PoisonRecord[];
}

const LEXICON_WAIT_MS = 20000;

/** Runs a transaction again when the database chose it as a deadlock victim (it was rolled back whole). */
export async function withDeadlockRetry<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const code =
        (err as { code?: string; driverError?: { code?: string } }).driverError?.code ??
        (err as { code?: string }).code;
      if (code !== 'ER_LOCK_DEADLOCK' || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 50));
    }
  }
}

/** The published version; waits a little for the store to seed it, then lets the batch be retried. */
async function lexiconForBatch(app: FastifyInstance): Promise<CompiledLexicon> {
  const deadline = Date.now() + LEXICON_WAIT_MS;
  for (;;) {
    const lexicon = publishedLexicon(app);
    if (lexicon) return lexicon;
    if (Date.now() > deadline) throw new Error('no published lexicon yet: batch left for a retry');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Scans already-read records with `lexicon` and drafts their alerts (subjects from the directory). */
export async function draftsOf(
  app: FastifyInstance,
  records: ScanRecord[],
  lexicon: CompiledLexicon,
  options: { retroactive: boolean; slaRules: readonly SlaPolicyRule[]; raisedAt: Date },
): Promise<AlertDraft[]> {
  const scanned = records.map((record) => ({ record, hits: lexicon.scan(record.text) }));
  const hitRecords = scanned.filter((s) => s.hits.length > 0).map((s) => s.record);
  if (hitRecords.length === 0) return [];
  await completeCallRecords(app.db, hitRecords);
  const subjects = await resolveSubjects(app.db, hitRecords);
  return scanned.flatMap(({ record, hits }) => {
    if (hits.length === 0) return [];
    const subject = subjects.get(record) ?? { employee: null, orgUnitId: null };
    return draftAlerts(record, hits, {
      lexiconVersion: lexicon.version,
      retroactive: options.retroactive,
      slaRules: options.slaRules,
      employee: subject.employee,
      orgUnitId: subject.orgUnitId,
      raisedAt: options.raisedAt,
    });
  });
}

/**
 * One batch of one partition: open, scan with the published version, and in ONE transaction insert
 * its alerts (ignored when they exist) and its failures; the consumer commits the offsets after
 * this returns, so a crash anywhere before re-delivers the batch and inserts nothing twice.
 */
export async function scanBatch(
  context: ScanBatchContext,
  topic: Topic,
  messages: readonly KafkaMessage[],
  partition: number,
): Promise<ScanBatchResult> {
  const { app } = context;
  const decoded = await decodeBatch(topic, messages, app.keys);
  const lexicon = decoded.records.length > 0 ? await lexiconForBatch(app) : null;
  const drafts = lexicon
    ? await draftsOf(app, decoded.records, lexicon, {
        retroactive: false,
        slaRules: await context.slaRules(),
        raisedAt: new Date(),
      })
    : [];
  const sealed = await sealDrafts(app.keys, drafts);
  let alerts = 0;
  if (sealed.length > 0 || decoded.poison.length > 0) {
    alerts = await withDeadlockRetry(() =>
      // READ COMMITTED: no gap locks, so batches of other partitions (and replicas) do not deadlock
      app.db.transaction('READ COMMITTED', async (manager) => {
        const raised = await insertAlerts(manager, sealed);
        await recordScanFailures(manager, topic, partition, decoded.poison);
        return raised;
      }),
    );
  }
  if (alerts > 0) context.raised();
  return { scanned: decoded.records.length, skipped: decoded.skipped, alerts, poison: decoded.poison };
}
