import type { Static, TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import type { KafkaMessage } from 'kafkajs';
import type { PoisonRecord } from '@cz/common';
import { CryptoError, openBuffer, parseSealedHeader, type KeyProvider } from '@cz/common/crypto';

/*
 * The one way the archiver reads a sealed Kafka record, for every topic (chat, calls, events,
 * alerts): open it (which verifies its integrity), parse its JSON, check it against its contract.
 */

export interface OpenedRecord<T = unknown> {
  message: KafkaMessage;
  value: T;
  /** the record's bytes as they travelled (stored as they are) */
  sealed: Buffer;
  kekId: string;
  kekVersion: number;
}

/**
 * Opens one sealed Kafka value and parses its JSON. A record that can never be read (empty,
 * tampered, not JSON) becomes a poison record for the DLQ with the reason; a key-source outage is
 * transient and is thrown, so the batch is retried.
 */
async function openRecord(message: KafkaMessage, keys: KeyProvider): Promise<OpenedRecord | PoisonRecord> {
  if (!message.value || message.value.length === 0) return { message, error: 'empty record value' };
  try {
    const header = parseSealedHeader(message.value);
    const plaintext = await openBuffer(message.value, keys);
    return {
      message,
      value: JSON.parse(plaintext.toString('utf8')) as unknown,
      sealed: message.value,
      kekId: header.kekId,
      kekVersion: header.kekVersion,
    };
  } catch (err) {
    if (err instanceof CryptoError) return { message, error: `crypto:${err.code}: ${err.message}` };
    if (err instanceof SyntaxError) return { message, error: `json: ${err.message}` };
    throw err;
  }
}

const isPoison = (record: OpenedRecord | PoisonRecord): record is PoisonRecord => 'error' in record;

/**
 * The first contract violation of `value` as a DLQ reason, or undefined when it conforms.
 * `rootPath` names a violation of the value as a whole (cz.msg.v1's reasons have always said '').
 */
export function contractViolation<T extends TSchema>(
  check: TypeCheck<T>,
  value: unknown,
  contract: string,
  rootPath = '/',
): string | undefined {
  if (check.Check(value)) return undefined;
  const first = check.Errors(value).First();
  return `contract ${contract} violated at ${first?.path || rootPath}: ${first?.message ?? 'invalid'}`;
}

/** What a topic makes of an opened value: its typed form, or the reason it goes to the DLQ. */
export type Reading<T> = { value: T } | { error: string };

/** Reads a value that only has to conform to `check`. */
export const conformingTo =
  <S extends TSchema>(check: TypeCheck<S>, contract: string, rootPath?: string) =>
  (value: unknown): Reading<Static<S>> => {
    const violation = contractViolation(check, value, contract, rootPath);
    return violation ? { error: violation } : { value: value as Static<S> };
  };

/**
 * Opens every record of a batch and reads it with `read`. Records that cannot be opened or read
 * are poison (in delivery order); a key-source outage is thrown so the whole batch is retried.
 */
export async function decodeRecords<T>(
  messages: readonly KafkaMessage[],
  keys: KeyProvider,
  read: (value: unknown) => Reading<T>,
): Promise<{ records: OpenedRecord<T>[]; poison: PoisonRecord[] }> {
  const records: OpenedRecord<T>[] = [];
  const poison: PoisonRecord[] = [];
  for (const message of messages) {
    const opened = await openRecord(message, keys);
    if (isPoison(opened)) {
      poison.push(opened);
      continue;
    }
    const reading = read(opened.value);
    if ('error' in reading) poison.push({ message, error: reading.error });
    else records.push({ ...opened, value: reading.value });
  }
  return { records, poison };
}
