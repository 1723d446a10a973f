import { randomBytes } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { AlertV1, type AlertSeverity } from '@cz/contracts';
import { callArchiveId, messageArchiveId, type PoisonRecord } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { SearchDocKinds, type SearchDocKind } from '@cz/common/search';
import { contractViolation, isPoison, openRecord } from '../calls/open-record';
import { hex32, type ArchiveHook } from '../batch/archive-batch';

/*
 * Alerts attached to archived records (tables in migration RecordAlerts1795609700000).
 *
 * An alert that names a msgid (or a call id) targets the record whose archive id derives from
 * (corp, msgid) — known before the record is archived. Each side first writes its own row, then
 * looks for the other's with a locking read (which sees the latest committed row):
 * - the transaction that archives a record writes its key row (message_key / call_record), then
 *   reads the pending targets of its records, waiting for any not committed yet, and links them
 *   (linkArchivedRecords);
 * - the alert transaction writes its targets as pending (`doc_time` NULL), then reads the key
 *   rows of their records with NOWAIT and links the targets whose record is there. A key row not
 *   committed yet (its batch is still running) fails the read at once: the alert transaction is
 *   rolled back and tried again a moment later, so it never waits for a chat or call batch and
 *   the two can never deadlock.
 * Whichever reads second sees the other's row, so no order leaves a target pending; a target is
 * linked only while it is pending, under its row lock, so it is counted once. READ COMMITTED on
 * both sides: no gap locks, so alerts never hold back inserts into the large message_key.
 */

const checkAlert = TypeCompiler.Compile(AlertV1);

export const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 1, warning: 2, critical: 3 };

export interface AlertTargetRef {
  /** archive id of the record (32 hex) */
  id: string;
  kind: SearchDocKind;
}

export interface DecodedAlert {
  message: KafkaMessage;
  alert: AlertV1;
  sealed: Buffer;
  kekId: string;
  kekVersion: number;
  targets: AlertTargetRef[];
}

/** Column widths the contract leaves open; a longer value cannot be stored and is refused. */
const MAX_CORP = 64;

/** Opens each `cz.alert.v1` record and checks it; unreadable or off-contract records are poison. */
export async function decodeAlerts(
  messages: KafkaMessage[],
  keys: KeyProvider,
): Promise<{ alerts: DecodedAlert[]; poison: PoisonRecord[] }> {
  const alerts: DecodedAlert[] = [];
  const poison: PoisonRecord[] = [];
  for (const message of messages) {
    const opened = await openRecord(message, keys);
    if (isPoison(opened)) {
      poison.push(opened);
      continue;
    }
    const violation = contractViolation(checkAlert, opened.value, 'cz.alert.v1');
    if (violation) {
      poison.push({ message, error: violation });
      continue;
    }
    const alert = opened.value as AlertV1;
    if (alert.corpId.length === 0 || alert.corpId.length > MAX_CORP) {
      poison.push({
        message,
        error: `contract cz.alert.v1 violated at /corpId: length must be 1 to ${MAX_CORP}`,
      });
      continue;
    }
    const targets: AlertTargetRef[] = [];
    if (alert.msgid !== undefined)
      targets.push({ id: messageArchiveId(alert.corpId, alert.msgid), kind: SearchDocKinds.message });
    // a call is the search's record kind 2 (its transcript is what the keyword index holds)
    if (alert.callId !== undefined)
      targets.push({ id: callArchiveId(alert.corpId, alert.callId), kind: SearchDocKinds.callTranscript });
    alerts.push({
      message,
      alert,
      sealed: message.value!,
      kekId: opened.kekId,
      kekVersion: opened.kekVersion,
      targets,
    });
  }
  return { alerts, poison };
}

export interface AlertBatchResult {
  stored: number;
  duplicates: number;
  /** targets linked to an archived record by this batch */
  linked: number;
  /** targets whose record is not archived yet */
  pending: number;
}

const IN_CHUNK = 1000;

const chunks = <T>(items: readonly T[], size = IN_CHUNK): T[][] => {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
};

const hexList = (ids: readonly string[]) => ids.map((id) => `X'${hex32(id)}'`).join(', ');

interface LinkedTarget {
  id: string;
  kind: SearchDocKind;
  time: Date;
  rank: number;
}

/** Adds linked targets to `alert_record` (count and highest severity per record), in a fixed order. */
async function addToRecords(tx: EntityManager, linked: LinkedTarget[]): Promise<void> {
  const perRecord = new Map<
    string,
    { id: string; kind: SearchDocKind; time: Date; count: number; rank: number }
  >();
  for (const t of linked) {
    const key = `${t.time.getTime()}:${t.id}`;
    const record = perRecord.get(key);
    if (record) {
      record.count += 1;
      record.rank = Math.max(record.rank, t.rank);
    } else perRecord.set(key, { id: t.id, kind: t.kind, time: t.time, count: 1, rank: t.rank });
  }
  const records = [...perRecord.values()].sort(
    (a, b) => a.time.getTime() - b.time.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  for (const chunk of chunks(records)) {
    await tx.query(
      `INSERT INTO alert_record (doc_time, doc_id, doc_kind, alert_count, max_severity)
       VALUES ${chunk.map((r) => `(?, X'${hex32(r.id)}', ${r.kind}, ${r.count}, ${r.rank})`).join(', ')}
       ON DUPLICATE KEY UPDATE alert_count = alert_count + VALUES(alert_count),
         max_severity = GREATEST(max_severity, VALUES(max_severity))`,
      chunk.map((r) => r.time),
    );
  }
}

/**
 * Links the alerts waiting for records that this transaction archives (messages: the chat batch
 * hook; calls: the call batch). Only targets still pending are taken, under a lock, so a record
 * archived again (or by two racing transactions) links each alert once. Returns the links made.
 */
export async function linkArchivedRecords(
  tx: EntityManager,
  records: readonly { id: string; kind: SearchDocKind; time: Date }[],
): Promise<number> {
  if (records.length === 0) return 0;
  const byId = new Map(records.map((r) => [r.id, r]));
  const waiting: { doc_id: string; alert_id: string; severity_rank: number | string }[] = [];
  for (const chunk of chunks([...byId.keys()].sort())) {
    waiting.push(
      ...((await tx.query(
        `SELECT LOWER(HEX(doc_id)) AS doc_id, alert_id, severity_rank FROM alert_target
         WHERE doc_id IN (${hexList(chunk)}) AND doc_time IS NULL FOR UPDATE`,
      )) as typeof waiting),
    );
  }
  if (waiting.length === 0) return 0;
  const linked: LinkedTarget[] = [];
  for (const id of [...new Set(waiting.map((w) => w.doc_id))].sort()) {
    const record = byId.get(id)!;
    await tx.query(
      `UPDATE alert_target SET doc_time = ? WHERE doc_id = X'${hex32(id)}' AND doc_time IS NULL`,
      [record.time],
    );
  }
  for (const w of waiting) {
    const record = byId.get(w.doc_id)!;
    linked.push({ id: w.doc_id, kind: record.kind, time: record.time, rank: Number(w.severity_rank) });
  }
  await addToRecords(tx, linked);
  return linked.length;
}

/** A record of the batch is being archived right now (its key row is locked): try again shortly. */
class RecordBusy extends Error {}

const isLockBusy = (err: unknown) => {
  // MariaDB answers NOWAIT with ER_LOCK_WAIT_TIMEOUT, MySQL 8 with ER_LOCK_NOWAIT
  const errno = (err as { errno?: number; driverError?: { errno?: number } }).driverError?.errno;
  return errno === 1205 || errno === 3572 || (err as { errno?: number }).errno === 1205;
};

/**
 * Archive times of the targets that are archived, read with a lock that never waits (see the note
 * at the top): throws RecordBusy while one of them is being archived.
 */
async function archivedTimes(tx: EntityManager, targets: AlertTargetRef[]): Promise<Map<string, Date>> {
  try {
    return await lockedTimes(tx, targets);
  } catch (err) {
    if (isLockBusy(err)) throw new RecordBusy('a record of the batch is being archived');
    throw err;
  }
}

async function lockedTimes(tx: EntityManager, targets: AlertTargetRef[]): Promise<Map<string, Date>> {
  const times = new Map<string, Date>();
  const messages = [...new Set(targets.filter((t) => t.kind === SearchDocKinds.message).map((t) => t.id))];
  const calls = [...new Set(targets.filter((t) => t.kind !== SearchDocKinds.message).map((t) => t.id))];
  for (const chunk of chunks(messages.sort())) {
    const rows = (await tx.query(
      `SELECT LOWER(HEX(id)) AS id, msgtime FROM message_key WHERE id IN (${hexList(chunk)}) FOR UPDATE NOWAIT`,
    )) as { id: string; msgtime: Date }[];
    for (const row of rows) times.set(row.id, new Date(row.msgtime));
  }
  for (const chunk of chunks(calls.sort())) {
    const rows = (await tx.query(
      `SELECT id, start_time FROM call_record WHERE id IN (${chunk.map(() => '?').join(', ')}) FOR UPDATE NOWAIT`,
      chunk,
    )) as { id: string; start_time: Date }[];
    for (const row of rows) times.set(row.id, new Date(row.start_time));
  }
  return times;
}

/** Pauses between the tries of an alert batch whose records are being archived (ms). */
const BUSY_BACKOFF_MS = [50, 100, 200, 400, 800, 1600, 3200];

/**
 * Stores one batch of alerts in one transaction. Idempotent on the alert id: the first delivery
 * is kept, and only the transaction that stored an alert first writes and links its targets.
 * While a record it names is being archived the whole transaction is tried again a moment later;
 * after the last try the error is thrown and the consumer retries the batch.
 */
export async function storeAlertBatch(db: DataSource, alerts: DecodedAlert[]): Promise<AlertBatchResult> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await storeAlertsOnce(db, alerts);
    } catch (err) {
      const pause = BUSY_BACKOFF_MS[attempt];
      if (!(err instanceof RecordBusy) || pause === undefined) throw err;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

async function storeAlertsOnce(db: DataSource, alerts: DecodedAlert[]): Promise<AlertBatchResult> {
  const result: AlertBatchResult = { stored: 0, duplicates: 0, linked: 0, pending: 0 };
  if (alerts.length === 0) return result;
  const firstOfId = new Map<string, DecodedAlert>();
  for (const a of alerts) if (!firstOfId.has(a.alert.id)) firstOfId.set(a.alert.id, a);
  const ids = [...firstOfId.keys()].sort();
  await db.transaction('READ COMMITTED', async (tx) => {
    const claim = randomBytes(8).readBigUInt64BE(0).toString();
    let inserted = 0;
    for (const chunk of chunks(ids, 500)) {
      const insert = await tx
        .createQueryBuilder()
        .insert()
        .orIgnore()
        .into('alert', [
          'id',
          'corp_id',
          'kind',
          'severity',
          'source',
          'raised_at',
          'claim',
          'kek_id',
          'kek_version',
          'sealed_record',
        ])
        .values(
          chunk.map((id) => {
            const { alert: a, sealed, kekId, kekVersion } = firstOfId.get(id)!;
            return {
              id: a.id,
              corp_id: a.corpId,
              kind: a.kind,
              severity: a.severity,
              // the whole value stays in the sealed record
              source: a.source.slice(0, 64),
              raised_at: new Date(a.raisedAt),
              claim,
              kek_id: kekId,
              kek_version: kekVersion,
              sealed_record: sealed,
            };
          }),
        )
        .execute();
      inserted += (insert.raw as { affectedRows?: number }).affectedRows ?? 0;
    }
    result.stored = inserted;
    result.duplicates = alerts.length - inserted;
    if (inserted === 0) return;
    let mine = ids;
    if (inserted < ids.length) {
      mine = [];
      for (const chunk of chunks(ids)) {
        const rows = (await tx.query(
          `SELECT id FROM alert WHERE claim = ? AND id IN (${chunk.map(() => '?').join(', ')})`,
          [claim, ...chunk],
        )) as { id: string }[];
        mine.push(...rows.map((r) => r.id));
      }
    }
    const fresh = mine.map((id) => firstOfId.get(id)!).filter((a) => a.targets.length > 0);
    if (fresh.length === 0) return;

    // 1. the targets, pending
    const targets = fresh.flatMap(({ alert, targets: refs }) =>
      refs.map((ref) => ({
        id: ref.id,
        docKind: ref.kind,
        alertId: alert.id,
        kind: alert.kind,
        rank: SEVERITY_RANK[alert.severity],
      })),
    );
    targets.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.alertId < b.alertId ? -1 : 1));
    for (const chunk of chunks(targets, 500)) {
      await tx.query(
        `INSERT IGNORE INTO alert_target (doc_id, alert_id, doc_kind, doc_time, kind, severity_rank)
         VALUES ${chunk.map((t) => `(X'${hex32(t.id)}', ?, ${t.docKind}, NULL, ?, ${t.rank})`).join(', ')}`,
        chunk.flatMap((t) => [t.alertId, t.kind]),
      );
    }
    // 2. the records already archived (or being archived: waited for), linked
    const times = await archivedTimes(
      tx,
      targets.map((t) => ({ id: t.id, kind: t.docKind })),
    );
    const linked: LinkedTarget[] = [];
    const perDoc = new Map<string, string[]>();
    for (const t of targets) {
      const time = times.get(t.id);
      if (!time) continue;
      linked.push({ id: t.id, kind: t.docKind, time, rank: t.rank });
      perDoc.set(t.id, [...(perDoc.get(t.id) ?? []), t.alertId]);
    }
    for (const [docId, alertIds] of perDoc) {
      await tx.query(
        `UPDATE alert_target SET doc_time = ? WHERE doc_id = X'${hex32(docId)}' AND alert_id IN (${alertIds.map(() => '?').join(', ')})`,
        [times.get(docId), ...alertIds],
      );
    }
    await addToRecords(tx, linked);
    result.linked = linked.length;
    result.pending = targets.length - linked.length;
  });
  return result;
}

/** The chat batch's hook: links alerts that arrived before the messages this batch archives. */
export const alertLinkHook: ArchiveHook = {
  name: 'alert-link',
  apply: async (tx, fresh) => {
    await linkArchivedRecords(
      tx,
      fresh.map(({ message: m }) => ({ id: m.id, kind: SearchDocKinds.message, time: new Date(m.msgtime) })),
    );
  },
};
