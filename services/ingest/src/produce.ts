import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KafkaHeaders } from '@cz/contracts';
import { sendDurably, type OutgoingRecord } from '@cz/common';
import { sealBuffer, type BindingKind, type KeyProvider } from '@cz/common/crypto';

/** The record kind a topic's values are bound to (sealed format v2). */
const KIND_OF_SCHEMA: Readonly<Record<string, BindingKind>> = {
  'cz.msg.v1': 'msg',
  'cz.call.v1': 'call',
  'cz.event.v1': 'event',
};

/**
 * An archived record sealed for Kafka, tagged with its contract schema and corp, and bound to its
 * kind, corp and archive id: the archiver stores these bytes as they are in the row of that id.
 */
export async function sealedRecord(
  keys: KeyProvider,
  key: string,
  archived: { id: string },
  schema: string,
  corpId: string,
): Promise<OutgoingRecord> {
  const kind = KIND_OF_SCHEMA[schema];
  if (!kind) throw new Error(`no binding kind for schema ${schema}`);
  return {
    key,
    value: await sealBuffer(Buffer.from(JSON.stringify(archived)), keys, 'chat', {
      kind,
      corp: corpId,
      id: archived.id,
    }),
    headers: { [KafkaHeaders.schema]: schema, [KafkaHeaders.corpId]: corpId },
  };
}

/** The 503 answer when Kafka did not acknowledge what a request would have accepted. */
export interface KafkaRefusal {
  code: 'kafka_unavailable';
  message: string;
}

/**
 * Writes `records` to `topic` with acks from all in-sync replicas before anything is acknowledged
 * to the client. Returns the 503 body to answer with (`message` says what was not accepted) when
 * the bus did not acknowledge them, or undefined once they are durable. A producer that cannot
 * connect throws its own 503.
 */
export async function produceDurably(
  app: FastifyInstance,
  request: FastifyRequest,
  topic: string,
  records: OutgoingRecord[],
  message: string,
): Promise<KafkaRefusal | undefined> {
  if (records.length === 0) return undefined;
  const producer = await app.producer();
  try {
    await sendDurably(producer, topic, records);
    return undefined;
  } catch (err) {
    request.log.warn({ err, records: records.length }, 'kafka send failed');
    return { code: 'kafka_unavailable', message };
  }
}
