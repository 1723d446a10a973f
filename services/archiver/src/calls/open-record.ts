import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import type { KafkaMessage } from 'kafkajs';
import type { PoisonRecord } from '@cz/common';
import { CryptoError, openBuffer, parseSealedHeader, type KeyProvider } from '@cz/common/crypto';

export interface OpenedRecord {
  message: KafkaMessage;
  value: unknown;
  kekId: string;
  kekVersion: number;
}

/**
 * Opens one sealed Kafka value (which verifies its integrity) and parses its JSON. A record that
 * can never be read (empty, tampered, not JSON) becomes a poison record for the DLQ with the
 * reason; a key-source outage is transient and is thrown, so the batch is retried.
 */
export async function openRecord(
  message: KafkaMessage,
  keys: KeyProvider,
): Promise<OpenedRecord | PoisonRecord> {
  if (!message.value || message.value.length === 0) return { message, error: 'empty record value' };
  try {
    const header = parseSealedHeader(message.value);
    const plaintext = await openBuffer(message.value, keys);
    return {
      message,
      value: JSON.parse(plaintext.toString('utf8')) as unknown,
      kekId: header.kekId,
      kekVersion: header.kekVersion,
    };
  } catch (err) {
    if (err instanceof CryptoError) return { message, error: `crypto:${err.code}: ${err.message}` };
    if (err instanceof SyntaxError) return { message, error: `json: ${err.message}` };
    throw err;
  }
}

export const isPoison = (record: OpenedRecord | PoisonRecord): record is PoisonRecord => 'error' in record;

/** The first contract violation of `value` as a DLQ reason, or undefined when it conforms. */
export function contractViolation<T extends TSchema>(
  check: TypeCheck<T>,
  value: unknown,
  contract: string,
): string | undefined {
  if (check.Check(value)) return undefined;
  const first = check.Errors(value).First();
  return `contract ${contract} violated at ${first?.path || '/'}: ${first?.message ?? 'invalid'}`;
}
