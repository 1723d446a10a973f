import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Consumer, KafkaMessage } from 'kafkajs';
import {
  CallRecordingAttachedV1,
  KafkaHeaders,
  Topics,
  dlqTopic,
  type CallTranscriptV1,
} from '@cz/contracts';
import { sendDurably } from '@cz/common';
import { CryptoError, openBuffer, sealBuffer } from '@cz/common/crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { AsrSettings } from '../config';
import { objectRef } from '../serve';
import { findObjectById, type CompleteObject } from '../storage/objects';
import { openPlaintextRange } from '../storage/range-reader';
import { AsrError, transcribe } from './asr-client';

const checkRecording = TypeCompiler.Compile(CallRecordingAttachedV1);
const GROUP = 'cz-transcriber';

class Poison extends Error {}

/**
 * Transcribes one announced recording unless the call already has a transcript (the call centre
 * sent one, or an earlier run made one), then publishes the transcript, sealed, on `cz.call.v1`
 * for the archiver. Throws AsrError(retriable) to be retried; Poison for records that never will.
 */
async function transcribeRecording(
  app: FastifyInstance,
  asr: AsrSettings,
  message: KafkaMessage,
): Promise<'skipped' | 'transcribed'> {
  if (!message.value) throw new Poison('empty record value');
  let event: unknown;
  try {
    event = JSON.parse((await openBuffer(message.value, app.keys)).toString('utf8'));
  } catch (err) {
    if (err instanceof CryptoError || err instanceof SyntaxError)
      throw new Poison(`unreadable record: ${err.message}`);
    throw err;
  }
  if ((event as { kind?: unknown }).kind !== 'recording') return 'skipped';
  if (!checkRecording.Check(event)) throw new Poison('contract cz.call.v1/recording violated');
  const [done] = await app.db.query<unknown[]>(
    'SELECT 1 AS x FROM call_transcript WHERE call_pk = ? LIMIT 1',
    [event.callPk],
  );
  if (done) return 'skipped';
  const row = await findObjectById(app.db, event.recordingId);
  if (row?.status !== 'complete') throw new Poison(`recording ${event.recordingId} is not stored`);
  const recording = row as CompleteObject;
  const transcript = await transcribe(asr, {
    body: await openPlaintextRange(
      app.minio,
      app.keys,
      objectRef(recording),
      0,
      Number(recording.plaintext_size),
    ),
    filename: `${event.callId}.${recording.content_type.split('/')[1] ?? 'audio'}`,
    contentType: recording.content_type,
  });
  const out: CallTranscriptV1 = {
    schema: 'cz.call.v1',
    kind: 'transcript',
    corpId: event.corpId,
    callId: event.callId,
    callPk: event.callPk,
    customerIndex: event.customerIndex,
    recordingId: event.recordingId,
    source: 'asr',
    model: asr.model,
    text: transcript.text,
    createdAt: Date.now(),
  };
  if (transcript.language) out.language = transcript.language;
  await sendDurably(await app.callEventsProducer(), Topics.calls, [
    {
      key: event.customerIndex,
      value: await sealBuffer(Buffer.from(JSON.stringify(out)), app.keys, 'chat'),
      headers: { [KafkaHeaders.schema]: 'cz.call.v1', [KafkaHeaders.corpId]: event.corpId },
    },
  ]);
  return 'transcribed';
}

/**
 * When CZ_ASR_URL is set: consumes `cz.call.v1` in its own group and transcribes each new
 * recording with the on-prem ASR engine. A transcription can take minutes, so this consumer
 * heartbeats while it waits (the shared batch consumer would be evicted from its group); records
 * that can never be transcribed go to `cz.call.v1.dlq` with the reason.
 */
export default fp<{ asr: AsrSettings }>(
  async (app, { asr }) => {
    let consumer: Consumer | undefined;
    app.addHook('onReady', async () => {
      const dlq = await app.callEventsProducer();
      consumer = app.kafka.consumer({ groupId: GROUP, sessionTimeout: 60000, heartbeatInterval: 5000 });
      await consumer.connect();
      await consumer.subscribe({ topic: Topics.calls, fromBeginning: false });
      await consumer.run({
        // kafkajs hands heartbeat in as a bound closure, though its typings declare it as a method
        // eslint-disable-next-line @typescript-eslint/unbound-method
        eachMessage: async ({ message, partition, heartbeat }) => {
          const beat = setInterval(() => void heartbeat().catch(() => undefined), 5000);
          try {
            const outcome = await transcribeRecording(app, asr, message);
            if (outcome === 'transcribed')
              app.log.info({ partition, offset: message.offset }, 'recording transcribed');
          } catch (err) {
            if (err instanceof AsrError && err.retriable) throw err;
            if (!(err instanceof Poison || err instanceof AsrError)) throw err;
            await sendDurably(dlq, dlqTopic(Topics.calls), [
              {
                key: message.key?.toString() ?? '',
                value: message.value ?? Buffer.alloc(0),
                headers: {
                  ...(message.headers ?? {}),
                  [KafkaHeaders.sourceTopic]: Topics.calls,
                  [KafkaHeaders.sourcePartition]: String(partition),
                  [KafkaHeaders.sourceOffset]: message.offset,
                  [KafkaHeaders.error]: `transcriber: ${err.message}`.slice(0, 1000),
                },
              },
            ]);
            app.log.warn(
              { partition, offset: message.offset, reason: err.message },
              'recording not transcribable',
            );
          } finally {
            clearInterval(beat);
          }
        },
      });
    });
    app.addHook('onClose', async () => {
      await consumer?.disconnect();
    });
  },
  { name: 'cz-transcriber', dependencies: ['cz-recordings-kafka', 'cz-recordings-storage'] },
);
