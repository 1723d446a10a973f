/** The recordings service in-process, its settings for tests, CDR rows and audio fixtures. */
import { createHash, randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaHeaders, Topics } from '@cz/contracts';
import {
  callArchiveId,
  createServer,
  kafkaConfig,
  kafkaTransport,
  minioConfig,
  phoneIndex,
  type CallerAuthOptions,
  type KafkaConfig,
} from '@cz/common';
import { openBuffer, sealBuffer, type KeyProvider } from '@cz/common/crypto';
import recordings, { type RecordingsSettings } from '@cz/recordings';
import { testCallerAuth } from './callers';
import { eventually, type TestDatabase } from './stack';

export const TEST_BUCKET = 'cz-test-recordings';
export const MiB = 1024 * 1024;

export function testSettings(overrides: Partial<RecordingsSettings> = {}): RecordingsSettings {
  return {
    bucket: TEST_BUCKET,
    maxRecordingBytes: 12 * MiB,
    maxMediaBytes: 4 * MiB,
    partBytes: 5 * MiB,
    recordingRetentionDays: 730,
    mediaRetentionDays: 1827,
    ffmpegPath: 'ffmpeg',
    staleUploadMs: 10 * 60 * 1000,
    ...overrides,
  };
}

export async function buildRecordings(
  db: TestDatabase,
  keys: KeyProvider,
  settings: RecordingsSettings,
  kafka: KafkaConfig = kafkaConfig('cz-recordings-test'),
  announce: { everyMs: number; graceMs: number } = { everyMs: 0, graceMs: 10000 },
  /** caller auth (default: the stack's key service, asked with the dev credential) */
  callers: CallerAuthOptions = testCallerAuth(),
) {
  const app = createServer('recordings', { logger: false });
  await app.register(recordings, {
    minio: minioConfig(),
    database: db.config,
    kafka,
    keys,
    callers,
    settings,
    kafkaConnectionTimeoutMs: 1000,
    kafkaRetries: kafka.brokers[0] === '127.0.0.1:9' ? 0 : 5,
    announceEveryMs: announce.everyMs,
    announceGraceMs: announce.graceMs,
  });
  await app.ready();
  return app;
}

/** A CDR row as the archiver would have stored it (the recordings tests start after ingest). */
export async function archiveCall(db: TestDatabase, keys: KeyProvider, corpId: string, callId: string) {
  const id = callArchiveId(corpId, callId);
  const sealed = await sealBuffer(Buffer.from(JSON.stringify({ corpId, callId })), keys, 'chat');
  await db.query(
    `INSERT INTO call_record (id, corp_id, call_id, agent_id, direction, customer_index, start_time, end_time,
       business_type, received_at, content_mac, kek_id, kek_version, sealed_record)
     VALUES (?, ?, ?, 'agent-1', 'outbound', ?, ?, ?, 'wealth', ?, ?, 'test', 1, ?)`,
    [
      id,
      corpId,
      callId,
      await phoneIndex(keys, '13800138000'),
      new Date(Date.UTC(2026, 10, 1, 2)),
      new Date(Date.UTC(2026, 10, 1, 2, 10)),
      new Date(),
      createHash('sm3').update(id).digest('hex'),
      sealed,
    ],
  );
  return id;
}

/** A WAV file: 44-byte RIFF header, then `pcmBytes` of (random) 8 kHz 16-bit mono PCM. */
export function wav(pcmBytes: number): Buffer {
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(36 + pcmBytes, 4);
  head.write('WAVEfmt ', 8, 'latin1');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20);
  head.writeUInt16LE(1, 22);
  head.writeUInt32LE(8000, 24);
  head.writeUInt32LE(16000, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'latin1');
  head.writeUInt32LE(pcmBytes, 40);
  return Buffer.concat([head, randomBytes(pcmBytes)]);
}

/**
 * An AMR-NB file in storage format: "#!AMR\n" then 12.2 kbit/s frames (header byte 0x3c + 31
 * bytes). Any payload bits decode (to noise); 50 frames are one second.
 */
export function amr(seconds: number): Buffer {
  const frames = [Buffer.from('#!AMR\n', 'latin1')];
  for (let i = 0; i < seconds * 50; i++) frames.push(Buffer.from([0x3c]), randomBytes(31));
  return Buffer.concat(frames);
}

export const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
export const sm3 = (data: Buffer) => createHash('sm3').update(data).digest('hex');

/** Reads the `cz.call.v1` events of one corp (opened). */
export async function callEventsOf(keys: KeyProvider, corpId: string, expected: number) {
  const kafka = new Kafka({
    clientId: 'cz-test-reader',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `cz-test-rec-${corpId}-${randomBytes(3).toString('hex')}` });
  const found: { key: string; raw: Buffer; value: Record<string, unknown> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: Topics.calls, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.headers?.[KafkaHeaders.corpId]?.toString() !== corpId || !message.value) return;
      found.push({
        key: message.key?.toString() ?? '',
        raw: message.value,
        value: JSON.parse((await openBuffer(message.value, keys)).toString()) as Record<string, unknown>,
      });
    },
  });
  try {
    await eventually(`${expected} cz.call.v1 records of ${corpId}`, async () =>
      found.length >= expected ? true : undefined,
    );
    return found;
  } finally {
    await consumer.disconnect();
  }
}
