import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { ArchivedCallV1, CallRecordingAttachedV1, CallTranscriptV1, type CallEventV1 } from '@cz/contracts';
import type { PoisonRecord } from '@cz/common';
import { sealBuffer, sealedKeyInfo, type KeyProvider } from '@cz/common/crypto';
import { SearchDocKinds, type TokenHasher } from '@cz/common/search';
import { writeSearchTokens } from '../search/search-index';
import { linkArchivedRecords } from '../alerts/alert-links';
import { contractViolation, decodeRecords, type OpenedRecord, type Reading } from '../records/open-record';

const checks = {
  cdr: TypeCompiler.Compile(ArchivedCallV1),
  recording: TypeCompiler.Compile(CallRecordingAttachedV1),
  transcript: TypeCompiler.Compile(CallTranscriptV1),
};

interface Decoded<T extends CallEventV1> {
  message: KafkaMessage;
  event: T;
  sealed: Buffer;
  kekId: string;
  kekVersion: number;
}

export interface DecodedCallBatch {
  cdrs: Decoded<ArchivedCallV1>[];
  recordings: Decoded<CallRecordingAttachedV1>[];
  transcripts: Decoded<CallTranscriptV1>[];
  poison: PoisonRecord[];
}

/** A cz.call.v1 value checked against the contract of its kind. */
function readCallEvent(value: unknown): Reading<CallEventV1> {
  const kind = (value as { kind?: unknown } | null)?.kind;
  let violation: string | undefined;
  if (kind === 'cdr') violation = contractViolation(checks.cdr, value, 'cz.call.v1/cdr');
  else if (kind === 'recording')
    violation = contractViolation(checks.recording, value, 'cz.call.v1/recording');
  else if (kind === 'transcript')
    violation = contractViolation(checks.transcript, value, 'cz.call.v1/transcript');
  else violation = `contract cz.call.v1 violated at /kind: unknown kind ${JSON.stringify(kind ?? null)}`;
  return violation ? { error: violation } : { value: value as CallEventV1 };
}

const decoded = <T extends CallEventV1>({
  message,
  value,
  sealed,
  kekId,
  kekVersion,
}: OpenedRecord<T>): Decoded<T> => ({
  message,
  event: value,
  sealed,
  kekId,
  kekVersion,
});

/** Opens each `cz.call.v1` record and sorts it by kind; unreadable or off-contract records are poison. */
export async function decodeCallBatch(
  messages: KafkaMessage[],
  keys: KeyProvider,
): Promise<DecodedCallBatch> {
  const { records, poison } = await decodeRecords(messages, keys, readCallEvent);
  const batch: DecodedCallBatch = { cdrs: [], recordings: [], transcripts: [], poison };
  for (const record of records) {
    const { value: event } = record;
    if (event.kind === 'cdr') batch.cdrs.push(decoded({ ...record, value: event }));
    else if (event.kind === 'recording') batch.recordings.push(decoded({ ...record, value: event }));
    else batch.transcripts.push(decoded({ ...record, value: event }));
  }
  return batch;
}

export interface CallBatchResult {
  stored: number;
  duplicates: number;
  recordingsLinked: number;
  transcriptsStored: number;
  /** alerts that arrived before their call, linked now */
  alertsLinked: number;
  poison: PoisonRecord[];
}

interface SealedTranscript {
  callPk: string;
  source: 'call_centre' | 'asr';
  corpId: string;
  language: string | null;
  model: string | null;
  recordingId: string | null;
  createdAt: Date;
  sealed: Buffer;
  /** in memory only, for the keyword index */
  text: string;
}

async function sealTranscript(
  keys: KeyProvider,
  text: string,
  fields: Omit<SealedTranscript, 'sealed' | 'text'>,
): Promise<SealedTranscript> {
  const binding = {
    kind: 'transcript',
    corp: fields.corpId,
    id: `${fields.callPk}/${fields.source}`,
  } as const;
  return { ...fields, text, sealed: await sealBuffer(Buffer.from(text, 'utf8'), keys, 'chat', binding) };
}

/**
 * Stores transcripts (one per call and source; one already stored is kept as it is) and indexes
 * the new ones for keyword search under their call: doc = the call's archive id at its start
 * time, like every other search record of the call, so a transcript made long after the call
 * (ASR) finds it in the same query as chats.
 */
async function insertTranscripts(
  tx: EntityManager,
  hasher: TokenHasher,
  transcripts: SealedTranscript[],
  callTimes: ReadonlyMap<string, Date>,
): Promise<number> {
  if (transcripts.length === 0) return 0;
  const pks = [...new Set(transcripts.map((t) => t.callPk))];
  // not locked: a racing transaction's copy at worst indexes the same tokens twice (ignored)
  const stored = new Set(
    (
      await tx.query<{ call_pk: string; source: string }[]>(
        `SELECT call_pk, source FROM call_transcript WHERE call_pk IN (${pks.map(() => '?').join(',')})`,
        pks,
      )
    ).map((row) => `${row.call_pk}:${row.source}`),
  );
  const fresh = new Map<string, SealedTranscript>();
  for (const t of transcripts) {
    const key = `${t.callPk}:${t.source}`;
    if (!stored.has(key) && !fresh.has(key)) fresh.set(key, t);
  }
  await writeSearchTokens(
    tx,
    hasher,
    [...fresh.values()].map((t) => ({
      id: t.callPk,
      time: callTimes.get(t.callPk)!.getTime(),
      kind: SearchDocKinds.callTranscript,
      text: t.text,
    })),
    // a call's transcripts share tokens (and so may a racing transaction's copy)
    { ignoreExisting: true },
  );
  const result = await tx
    .createQueryBuilder()
    .insert()
    .orIgnore()
    .into('call_transcript', [
      'call_pk',
      'source',
      'corp_id',
      'language',
      'model',
      'recording_id',
      'created_at',
      'kek_id',
      'kek_version',
      'sealed_text',
    ])
    .values(
      transcripts.map((t) => {
        const header = sealedKeyInfo(t.sealed);
        return {
          call_pk: t.callPk,
          source: t.source,
          corp_id: t.corpId,
          language: t.language,
          model: t.model,
          recording_id: t.recordingId,
          created_at: t.createdAt,
          kek_id: header.kekId,
          kek_version: header.kekVersion,
          sealed_text: t.sealed,
        };
      }),
    )
    .execute();
  await tx.query(
    `UPDATE call_record SET has_transcript = 1 WHERE id IN (${transcripts.map(() => '?').join(',')})`,
    transcripts.map((t) => t.callPk),
  );
  return (result.raw as { affectedRows?: number }).affectedRows ?? 0;
}

/**
 * Stores one batch of `cz.call.v1` in one transaction. Idempotent: a CDR already archived under
 * (corp, callId) with the same content fingerprint is a redelivery and changes nothing; one with a
 * different fingerprint is a conflicting CDR and goes to the DLQ (the first stays the record).
 * Transcripts are sealed again on their own (plain UTF-8 text) so search can open them alone.
 */
export async function storeCallBatch(
  db: DataSource,
  keys: KeyProvider,
  hasher: TokenHasher,
  batch: DecodedCallBatch,
): Promise<CallBatchResult> {
  const poison = [...batch.poison];
  const result: CallBatchResult = {
    stored: 0,
    duplicates: 0,
    recordingsLinked: 0,
    transcriptsStored: 0,
    alertsLinked: 0,
    poison,
  };
  const cdrTranscripts = new Map<string, SealedTranscript>();
  for (const { event } of batch.cdrs) {
    if (event.transcript && !cdrTranscripts.has(event.id)) {
      cdrTranscripts.set(
        event.id,
        await sealTranscript(keys, event.transcript.text, {
          callPk: event.id,
          source: 'call_centre',
          corpId: event.corpId,
          language: event.transcript.language ?? null,
          model: null,
          recordingId: null,
          createdAt: new Date(event.receivedAt),
        }),
      );
    }
  }
  const asrTranscripts: { decoded: Decoded<CallTranscriptV1>; sealed: SealedTranscript }[] = [];
  for (const decoded of batch.transcripts) {
    const { event } = decoded;
    const sealed = await sealTranscript(keys, event.text, {
      callPk: event.callPk,
      source: 'asr',
      corpId: event.corpId,
      language: event.language ?? null,
      model: event.model,
      recordingId: event.recordingId,
      createdAt: new Date(event.createdAt),
    });
    asrTranscripts.push({ decoded, sealed });
  }

  // READ COMMITTED: no gap locks, so alerts naming these calls never wait for this batch (alerts/alert-store.ts)
  await db.transaction('READ COMMITTED', async (tx) => {
    if (batch.cdrs.length > 0) {
      const insert = await tx
        .createQueryBuilder()
        .insert()
        .orIgnore()
        .into('call_record', [
          'id',
          'corp_id',
          'call_id',
          'agent_id',
          'direction',
          'customer_index',
          'start_time',
          'end_time',
          'business_type',
          'case_id',
          'campaign',
          'received_at',
          'content_mac',
          'kek_id',
          'kek_version',
          'sealed_record',
        ])
        .values(
          batch.cdrs.map(({ event: c, sealed, kekId, kekVersion }) => ({
            id: c.id,
            corp_id: c.corpId,
            call_id: c.callId,
            agent_id: c.agentId,
            direction: c.direction,
            customer_index: c.customerIndex,
            start_time: new Date(c.startTime),
            end_time: new Date(c.endTime),
            business_type: c.businessType,
            case_id: c.caseId ?? null,
            campaign: c.campaign ?? null,
            received_at: new Date(c.receivedAt),
            content_mac: c.contentMac,
            kek_id: kekId,
            kek_version: kekVersion,
            sealed_record: sealed,
          })),
        )
        .execute();
      result.stored = (insert.raw as { affectedRows?: number }).affectedRows ?? 0;
      const ids = [...new Set(batch.cdrs.map((c) => c.event.id))];
      const archived: { id: string; content_mac: string }[] = await tx.query(
        `SELECT id, content_mac FROM call_record WHERE id IN (${ids.map(() => '?').join(',')})`,
        ids,
      );
      const macOf = new Map(archived.map((row) => [row.id, row.content_mac]));
      const kept: string[] = [];
      for (const { message, event } of batch.cdrs) {
        if (macOf.get(event.id) === event.contentMac) {
          kept.push(event.id);
          continue;
        }
        poison.push({
          message,
          error: `conflict: call ${event.callId} of ${event.corpId} is already archived with different content; the first CDR is kept`,
        });
      }
      result.duplicates = kept.length - result.stored;
      const startOf = new Map(batch.cdrs.map(({ event }) => [event.id, new Date(event.startTime)]));
      const keptIds = [...new Set(kept)];
      result.alertsLinked += await linkArchivedRecords(
        tx,
        keptIds.map((id) => ({ id, kind: SearchDocKinds.callTranscript, time: startOf.get(id)! })),
      );
      const transcripts = keptIds
        .map((id) => cdrTranscripts.get(id))
        .filter((t): t is SealedTranscript => t !== undefined);
      result.transcriptsStored += await insertTranscripts(tx, hasher, transcripts, startOf);
    }

    for (const { message, event } of batch.recordings) {
      const [call] = await tx.query<
        {
          id: string;
        }[]
      >('SELECT id FROM call_record WHERE id = ? FOR UPDATE', [event.callPk]);
      if (!call) {
        poison.push({
          message,
          error: `recording ${event.recordingId} refers to call ${event.callPk}, which is not archived`,
        });
        continue;
      }
      await tx.query('UPDATE call_record SET recording_id = ? WHERE id = ?', [
        event.recordingId,
        event.callPk,
      ]);
      result.recordingsLinked += 1;
    }

    const known = asrTranscripts.length
      ? new Map(
          (
            await tx.query<{ id: string; start_time: Date }[]>(
              `SELECT id, start_time FROM call_record WHERE id IN (${asrTranscripts.map(() => '?').join(',')})`,
              asrTranscripts.map((t) => t.sealed.callPk),
            )
          ).map((row) => [row.id, new Date(row.start_time)]),
        )
      : new Map<string, Date>();
    const storable: SealedTranscript[] = [];
    for (const { decoded, sealed } of asrTranscripts) {
      if (known.has(sealed.callPk)) storable.push(sealed);
      else
        poison.push({
          message: decoded.message,
          error: `transcript refers to call ${sealed.callPk}, which is not archived`,
        });
    }
    result.transcriptsStored += await insertTranscripts(tx, hasher, storable, known);
  });
  return result;
}
