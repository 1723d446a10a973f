import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { KafkaMessage } from 'kafkajs';
import { ArchivedMessageV1 } from '@cz/contracts';
import type { PoisonRecord } from '@cz/common';
import { CryptoError, openBuffer, parseSealedHeader, type KeyProvider } from '@cz/common/crypto';
import type { MessageRow } from './store';
import { prepareConsent } from './wecom-store';

const checkArchived = TypeCompiler.Compile(ArchivedMessageV1);

export interface DecodedBatch {
  rows: MessageRow[];
  poison: PoisonRecord[];
}

/**
 * Opens each sealed record (which verifies its integrity) and checks it against the contract.
 * A record that fails either can never succeed and goes to the DLQ; a key-source outage is
 * transient and is thrown so the batch is retried.
 */
export async function decodeBatch(messages: KafkaMessage[], keys: KeyProvider): Promise<DecodedBatch> {
  const rows: MessageRow[] = [];
  const poison: PoisonRecord[] = [];
  for (const message of messages) {
    if (!message.value || message.value.length === 0) {
      poison.push({ message, error: 'empty record value' });
      continue;
    }
    try {
      const header = parseSealedHeader(message.value);
      const plaintext = await openBuffer(message.value, keys);
      const parsed: unknown = JSON.parse(plaintext.toString('utf8'));
      if (!checkArchived.Check(parsed)) {
        const first = checkArchived.Errors(parsed).First();
        poison.push({
          message,
          error: `contract cz.msg.v1 violated at ${first?.path ?? '?'}: ${first?.message ?? 'invalid'}`,
        });
        continue;
      }
      rows.push({
        message: parsed,
        sealedRecord: message.value,
        kekId: header.kekId,
        kekVersion: header.kekVersion,
      });
    } catch (err) {
      if (err instanceof CryptoError) {
        poison.push({ message, error: `crypto:${err.code}: ${err.message}` });
        continue;
      }
      if (err instanceof SyntaxError) {
        poison.push({ message, error: `json: ${err.message}` });
        continue;
      }
      throw err;
    }
  }
  // outside the try: a key-source failure here is transient and must retry the batch, not DLQ it
  for (const row of rows) {
    if (row.message.consent) row.consent = await prepareConsent(row.message, keys);
  }
  return { rows, poison };
}
