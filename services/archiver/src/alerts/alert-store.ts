import { randomBytes } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { AlertV1, type AlertSeverity } from '@cz/contracts';
import { callArchiveId, messageArchiveId, type PoisonRecord } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { SearchDocKinds, type SearchDocKind } from '@cz/common/search';
import { hex32, hexIds, inChunks } from '../sql';
import { contractViolation, decodeRecords, type Reading } from '../records/open-record';
import { addToRecords, type LinkedTarget } from './alert-links';

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

/** A cz.alert.v1 value checked against the contract and the columns, with the records it names. */
function readAlert(value: unknown): Reading<{ alert: AlertV1; targets: AlertTargetRef[] }> {
  const violation = contractViolation(checkAlert, value, 'cz.alert.v1');
  if (violation) return { error: violation };
  const alert = value as AlertV1;
  if (alert.corpId.length === 0 || alert.corpId.length > MAX_CORP) {
    return { error: `contract cz.alert.v1 violated at /corpId: length must be 1 to ${MAX_CORP}` };
  }
  const targets: AlertTargetRef[] = [];
  if (alert.msgid !== undefined)
    targets.push({ id: messageArchiveId(alert.corpId, alert.msgid), kind: SearchDocKinds.message });
  // a call is the search's record kind 2 (its transcript is what the keyword index holds)
  if (alert.callId !== undefined)
    targets.push({ id: callArchiveId(alert.corpId, alert.callId), kind: SearchDocKinds.callTranscript });
  return { value: { alert, targets } };
}

/** Opens each `cz.alert.v1` record and checks it; unreadable or off-contract records are poison. */
export async function decodeAlerts(
  messages: KafkaMessage[],
  keys: KeyProvider,
): Promise<{ alerts: DecodedAlert[]; poison: PoisonRecord[] }> {
  const { records, poison } = await decodeRecords(messages, keys, readAlert);
  const alerts = records.map(({ message, value, sealed, kekId, kekVersion }): DecodedAlert => ({
    message,
    ...value,
    sealed,
    kekId,
    kekVersion,
  }));
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
  for (const chunk of inChunks(messages.sort(), IN_CHUNK)) {
    const rows = await tx.query<{ id: string; msgtime: Date }[]>(
      `SELECT LOWER(HEX(id)) AS id, msgtime FROM message_key WHERE id IN (${hexIds(chunk)}) FOR UPDATE NOWAIT`,
    );
    for (const row of rows) times.set(row.id, new Date(row.msgtime));
  }
  for (const chunk of inChunks(calls.sort(), IN_CHUNK)) {
    const rows = await tx.query<{ id: string; start_time: Date }[]>(
      `SELECT id, start_time FROM call_record WHERE id IN (${chunk.map(() => '?').join(', ')}) FOR UPDATE NOWAIT`,
      chunk,
    );
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
    for (const chunk of inChunks(ids, 500)) {
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
      for (const chunk of inChunks(ids, IN_CHUNK)) {
        const rows = await tx.query<{ id: string }[]>(
          `SELECT id FROM alert WHERE claim = ? AND id IN (${chunk.map(() => '?').join(', ')})`,
          [claim, ...chunk],
        );
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
    for (const chunk of inChunks(targets, 500)) {
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
