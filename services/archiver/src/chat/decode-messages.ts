import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { KafkaMessage } from 'kafkajs';
import { ArchivedMessageV1 } from '@cz/contracts';
import type { PoisonRecord } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import type { MessageRow } from '../rows';
import { conformingTo, decodeRecords } from '../records/open-record';

const readMessage = conformingTo(TypeCompiler.Compile(ArchivedMessageV1), 'cz.msg.v1', '');

interface DecodedMessages {
  rows: MessageRow[];
  poison: PoisonRecord[];
}

/**
 * Opens each sealed cz.msg.v1 record and checks it against the contract. A record that fails
 * either can never succeed and goes to the DLQ; a key-source outage is thrown so the batch is
 * retried.
 */
export async function decodeMessages(
  messages: readonly KafkaMessage[],
  keys: KeyProvider,
): Promise<DecodedMessages> {
  const { records, poison } = await decodeRecords(messages, keys, readMessage);
  const rows = records.map(({ value, sealed, kekId, kekVersion }): MessageRow => ({
    message: value,
    sealedRecord: sealed,
    kekId,
    kekVersion,
  }));
  return { rows, poison };
}
