import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KafkaHeaders } from '@cz/contracts';
import { sendDurably, type OutgoingRecord } from '@cz/common';
import { sealBuffer, type KeyProvider } from '@cz/common/crypto';

/** An archived record sealed for Kafka, tagged with its contract schema and corp. */
export async function sealedRecord(
  keys: KeyProvider,
  key: string,
  archived: unknown,
  schema: string,
  corpId: string,
): Promise<OutgoingRecord> {
  return {
    key,
    value: await sealBuffer(Buffer.from(JSON.stringify(archived)), keys, 'chat'),
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
