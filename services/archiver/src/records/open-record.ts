import type { Static, TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import type { KafkaMessage } from 'kafkajs';
import type { PoisonRecord } from '@cz/common';
import { KafkaHeaders, type ArchivedMessageV1 } from '@cz/contracts';
import {
  CryptoError,
  openSealed,
  sealedKeyInfo,
  type BindingKind,
  type KeyProvider,
  type SealBinding,
} from '@cz/common/crypto';

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
  /** the verified binding of a v2 value (v1 values have none) */
  binding?: SealBinding;
}

/**
 * Opens one sealed Kafka value and parses its JSON. A record that can never be read (empty,
 * tampered, not JSON) becomes a poison record for the DLQ with the reason; a key-source outage is
 * transient and is thrown, so the batch is retried.
 */
async function openRecord(message: KafkaMessage, keys: KeyProvider): Promise<OpenedRecord | PoisonRecord> {
  if (!message.value || message.value.length === 0) return { message, error: 'empty record value' };
  try {
    const header = sealedKeyInfo(message.value);
    const { plaintext, binding } = await openSealed(message.value, keys);
    const value = JSON.parse(plaintext.toString('utf8')) as unknown;
    return {
      message,
      value,
      ...(binding ? { binding } : {}),
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

/** The record kind each topic's values are bound to (sealed format v2). */
const KIND_OF_SCHEMA: Readonly<Record<string, BindingKind>> = {
  'cz.msg.v1': 'msg',
  'cz.call.v1': 'call',
  'cz.event.v1': 'event',
  'cz.alert.v1': 'alert',
};

function headerText(message: KafkaMessage, name: string): string | undefined {
  const raw = message.headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : first.toString();
}

/**
 * The archiver stores a value's bytes in the row of the record inside it, so the value must belong
 * there: a v2 value's binding (verified under its tag) must name the topic's kind, the corp of the
 * Kafka header and the id of the record it holds; a v1 value (no binding) must at least hold a
 * record of the header's corp. Returns what disagrees, or undefined.
 */
function bindingProblem(
  message: KafkaMessage,
  binding: SealBinding | undefined,
  value: unknown,
): string | undefined {
  const corpHeader = headerText(message, KafkaHeaders.corpId);
  const schema = headerText(message, KafkaHeaders.schema);
  const record = (typeof value === 'object' && value !== null ? value : {}) as {
    id?: unknown;
    corpId?: unknown;
  };
  if (corpHeader !== undefined && record.corpId !== undefined && record.corpId !== corpHeader)
    return `the record's corp differs from the ${KafkaHeaders.corpId} header`;
  if (!binding) return undefined;
  const kind = schema === undefined ? undefined : KIND_OF_SCHEMA[schema];
  if (kind !== undefined && binding.kind !== kind) return `bound to a ${binding.kind} record, not ${kind}`;
  if (corpHeader !== undefined && binding.corp !== corpHeader) return 'bound to another corp than its header';
  if (record.corpId !== undefined && binding.corp !== record.corpId)
    return "bound to another corp than its record's";
  if (typeof record.id === 'string' && binding.id !== record.id)
    return "bound to another id than its record's";
  return undefined;
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
    if ('error' in reading) {
      poison.push({ message, error: reading.error });
      continue;
    }
    // checked on a well-formed record: it must belong where it travelled (topic, corp, id)
    const misplaced = bindingProblem(message, opened.binding, reading.value);
    if (misplaced) poison.push({ message, error: `crypto:binding_mismatch: ${misplaced}` });
    else records.push({ ...opened, value: reading.value });
  }
  return { records, poison };
}

/**
 * Opens a chat record as stored in `message` (backfills): its v2 binding and its content's ids
 * must be the row's. Returns undefined for a value that does not belong to its row (moved or
 * altered): it is not indexed. A key-source outage is thrown.
 */
export async function openStoredMessage(
  keys: KeyProvider,
  row: { id: string; corp_id: string; msgid: string; conversation_id: string; sealed_record: Buffer },
): Promise<ArchivedMessageV1 | undefined> {
  try {
    const binding: SealBinding = { kind: 'msg', corp: row.corp_id, id: row.id };
    const message = JSON.parse(
      (await openSealed(row.sealed_record, keys, binding)).plaintext.toString('utf8'),
    ) as ArchivedMessageV1;
    const matches =
      message.id === row.id &&
      message.corpId === row.corp_id &&
      message.msgid === row.msgid &&
      message.conversationId === row.conversation_id;
    return matches ? message : undefined;
  } catch (err) {
    if (err instanceof CryptoError || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Opens a stored transcript against its row (v2 binding; a v1 transcript is plain text with nothing to compare). */
export async function openStoredTranscript(
  keys: KeyProvider,
  row: { call_pk: string; source: string; corp_id: string; sealed_text: Buffer },
): Promise<string | undefined> {
  try {
    const binding: SealBinding = {
      kind: 'transcript',
      corp: row.corp_id,
      id: `${row.call_pk}/${row.source}`,
    };
    return (await openSealed(row.sealed_text, keys, binding)).plaintext.toString('utf8');
  } catch (err) {
    if (err instanceof CryptoError) return undefined;
    throw err;
  }
}
