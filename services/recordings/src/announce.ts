import type { FastifyInstance } from 'fastify';
import { KafkaHeaders, Topics, type CallRecordingAttachedV1 } from '@cz/contracts';
import { sendDurably } from '@cz/common';
import { sealBuffer } from '@cz/common/crypto';
import { findObjectById, type CompleteObject } from './storage/objects';

interface CallRow {
  id: string;
  corp_id: string;
  call_id: string;
  customer_index: string;
}

/**
 * Publishes "recording attached" to `cz.call.v1` (sealed, keyed by the customer's blind index like
 * the CDR, so both land in one partition in order) and marks the row announced. Safe to repeat:
 * the archiver's handling is idempotent.
 */
export async function announceRecording(app: FastifyInstance, row: CompleteObject): Promise<void> {
  const [call] = await app.db.query<CallRow[]>(
    'SELECT id, corp_id, call_id, customer_index FROM call_record WHERE id = ?',
    [row.call_pk],
  );
  if (!call) throw new Error(`recording ${row.id} refers to call ${row.call_pk}, which is not archived`);
  const event: CallRecordingAttachedV1 = {
    schema: 'cz.call.v1',
    kind: 'recording',
    corpId: call.corp_id,
    callId: call.call_id,
    callPk: call.id,
    customerIndex: String(call.customer_index),
    recordingId: row.id,
    bucket: row.bucket,
    objectKey: row.object_key,
    versionId: row.version_id,
    contentType: row.content_type,
    plaintextSize: Number(row.plaintext_size),
    sealedSize: Number(row.sealed_size),
    sm3: row.plaintext_sm3,
    retainUntil: new Date(row.retain_until).getTime(),
    completedAt: new Date(row.completed_at).getTime(),
  };
  const producer = await app.callEventsProducer();
  await sendDurably(producer, Topics.calls, [
    {
      key: event.customerIndex,
      value: await sealBuffer(Buffer.from(JSON.stringify(event)), app.keys, 'chat'),
      headers: { [KafkaHeaders.schema]: 'cz.call.v1', [KafkaHeaders.corpId]: event.corpId },
    },
  ]);
  await app.db.query('UPDATE recording_object SET announced_at = ? WHERE id = ?', [new Date(), row.id]);
}

/**
 * Announces recordings whose announcement failed earlier (Kafka was down): an outbox sweep.
 * Conflicting versions are never announced: the call keeps its original.
 */
export async function announcePending(app: FastifyInstance, olderThanMs = 10000): Promise<number> {
  const rows = await app.db.query<{ id: string }[]>(
    `SELECT id FROM recording_object WHERE kind = 'call' AND status = 'complete' AND announced_at IS NULL
       AND conflict_of IS NULL AND completed_at < ? ORDER BY completed_at LIMIT 100`,
    [new Date(Date.now() - olderThanMs)],
  );
  let announced = 0;
  for (const { id } of rows) {
    const row = await findObjectById(app.db, id);
    if (row?.status !== 'complete') continue;
    await announceRecording(app, row as CompleteObject);
    announced += 1;
  }
  return announced;
}
