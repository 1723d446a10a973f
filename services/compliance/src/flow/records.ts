import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { KafkaMessage } from 'kafkajs';
import {
  ArchivedBehaviourEventV1,
  ArchivedCallV1,
  ArchivedMessageV1,
  CallRecordingAttachedV1,
  CallTranscriptV1,
  KafkaHeaders,
  Topics,
  type AlertRecordKind,
  type Topic,
} from '@cz/contracts';
import { callArchiveId, eventArchiveId, messageArchiveId, type PoisonRecord } from '@cz/common';
import {
  CryptoError,
  openSealed,
  type BindingKind,
  type KeyProvider,
  type SealBinding,
} from '@cz/common/crypto';

/*
 * What the compliance service reads of a sealed Kafka record: open it with the service's own
 * credential (which verifies its integrity), check it against its contract and that it belongs
 * where it travelled (as the archiver checks it), and keep only what a scan needs: the text and
 * the identifiers an alert carries. Records that can never be read are poison (DLQ + failure row +
 * security alert); a key-source outage is thrown so the batch is retried.
 */

/** One text to scan and the record it belongs to. */
export interface ScanRecord {
  kind: AlertRecordKind;
  corpId: string;
  /** what the alert id derives from: the msgid, `<callId>/<transcript source>`, the eventId */
  recordId: string;
  msgid: string | null;
  callId: string | null;
  eventId: string | null;
  /** archive id of the message / call / event (32 hex) */
  docId: string;
  /** message time, call start, event time */
  docTime: Date | null;
  conversationId: string | null;
  /**
   * who the alert is about, in order of preference: a message's sender then its recipients (the
   * first employee among them wins); a call's agent; an event's staff member
   */
  people: string[];
  /** people[0] is the employee whatever the directory says (call agent, event staff) */
  employeeKnown: boolean;
  text: string;
  /** calls: the transcript is split in segments (lines); hits carry the segment they start in */
  segmented: boolean;
}

export interface DecodedBatch {
  /** records with text to scan */
  records: ScanRecord[];
  /** records read fine with nothing to scan (recalls, consent records, empty text, recordings…) */
  skipped: number;
  poison: PoisonRecord[];
}

const checks = {
  message: TypeCompiler.Compile(ArchivedMessageV1),
  cdr: TypeCompiler.Compile(ArchivedCallV1),
  recording: TypeCompiler.Compile(CallRecordingAttachedV1),
  transcript: TypeCompiler.Compile(CallTranscriptV1),
  event: TypeCompiler.Compile(ArchivedBehaviourEventV1),
};

const KIND_OF_TOPIC: Readonly<Record<Topic, BindingKind>> = {
  [Topics.messages]: 'msg',
  [Topics.calls]: 'call',
  [Topics.events]: 'event',
  [Topics.alerts]: 'alert',
};

export function headerText(message: KafkaMessage, name: string): string | undefined {
  const raw = message.headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : first.toString();
}

function violation(
  check: { Check(v: unknown): boolean; Errors(v: unknown): { First(): unknown } },
  value: unknown,
  contract: string,
): string | undefined {
  if (check.Check(value)) return undefined;
  const first = check.Errors(value).First() as { path?: string; message?: string } | undefined;
  return `contract ${contract} violated at ${first?.path || '/'}: ${first?.message ?? 'invalid'}`;
}

/** A v2 value must be bound to the topic's kind, the header's corp and the id of the record inside it. */
function bindingProblem(
  topic: Topic,
  message: KafkaMessage,
  binding: SealBinding | undefined,
  record: { id?: unknown; corpId?: unknown },
): string | undefined {
  const corpHeader = headerText(message, KafkaHeaders.corpId);
  if (corpHeader !== undefined && record.corpId !== corpHeader)
    return `the record's corp differs from the ${KafkaHeaders.corpId} header`;
  if (!binding) return undefined;
  if (binding.kind !== KIND_OF_TOPIC[topic])
    return `bound to a ${binding.kind} record, not ${KIND_OF_TOPIC[topic]}`;
  if (binding.corp !== record.corpId) return "bound to another corp than its record's";
  if (typeof record.id === 'string' && binding.id !== record.id)
    return "bound to another id than its record's";
  return undefined;
}

/** Line index of every offset: segment i starts at starts[i]. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
  return starts;
}

/** The segment (line) an offset of a transcript falls in. */
export function segmentOf(text: string): (offset: number) => number {
  let starts: number[] | undefined;
  return (offset) => {
    starts ??= lineStarts(text);
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  };
}

/** The scan record of an archived chat message, or null when there is nothing to scan. */
export function messageScanRecord(m: ArchivedMessageV1): ScanRecord | null {
  if (m.recallOf !== undefined || m.consent !== undefined || m.action !== 'send') return null;
  if (m.text.trim().length === 0) return null;
  return {
    kind: 'message',
    corpId: m.corpId,
    recordId: m.msgid,
    msgid: m.msgid,
    callId: null,
    eventId: null,
    docId: messageArchiveId(m.corpId, m.msgid),
    docTime: new Date(m.msgtime),
    conversationId: m.conversationId,
    people: [m.from, ...m.tolist],
    employeeKnown: false,
    text: m.text,
    segmented: false,
  };
}

/** The scan record of a call transcript (call-centre transcript in the CDR, or ASR). */
export function transcriptScanRecord(input: {
  corpId: string;
  callId: string;
  source: 'call_centre' | 'asr';
  agentId: string | null;
  startTime: Date | null;
  text: string;
}): ScanRecord | null {
  if (input.text.trim().length === 0) return null;
  return {
    kind: 'call',
    corpId: input.corpId,
    recordId: `${input.callId}/${input.source}`,
    msgid: null,
    callId: input.callId,
    eventId: null,
    docId: callArchiveId(input.corpId, input.callId),
    docTime: input.startTime,
    conversationId: null,
    people: input.agentId === null ? [] : [input.agentId],
    employeeKnown: input.agentId !== null,
    text: input.text,
    segmented: true,
  };
}

function eventScanRecord(e: ArchivedBehaviourEventV1): ScanRecord | null {
  const event = e.event;
  if (event.type !== 'sms_sent' || !event.content || event.content.trim().length === 0) return null;
  return {
    kind: 'event',
    corpId: e.corpId,
    recordId: event.eventId,
    msgid: null,
    callId: null,
    eventId: event.eventId,
    docId: eventArchiveId(e.corpId, event.eventId),
    docTime: new Date(event.occurredAt),
    conversationId: null,
    people: [event.staffId],
    employeeKnown: true,
    text: event.content,
    segmented: false,
  };
}

type Reading = { record: ScanRecord | null } | { error: string };

function readValue(topic: Topic, value: unknown): Reading {
  if (topic === Topics.messages) {
    const bad = violation(checks.message, value, 'cz.msg.v1');
    return bad ? { error: bad } : { record: messageScanRecord(value as ArchivedMessageV1) };
  }
  if (topic === Topics.events) {
    const bad = violation(checks.event, value, 'cz.event.v1');
    return bad ? { error: bad } : { record: eventScanRecord(value as ArchivedBehaviourEventV1) };
  }
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (kind === 'cdr') {
    const bad = violation(checks.cdr, value, 'cz.call.v1/cdr');
    if (bad) return { error: bad };
    const cdr = value as ArchivedCallV1;
    if (!cdr.transcript) return { record: null };
    return {
      record: transcriptScanRecord({
        corpId: cdr.corpId,
        callId: cdr.callId,
        source: 'call_centre',
        agentId: cdr.agentId,
        startTime: new Date(cdr.startTime),
        text: cdr.transcript.text,
      }),
    };
  }
  if (kind === 'transcript') {
    const bad = violation(checks.transcript, value, 'cz.call.v1/transcript');
    if (bad) return { error: bad };
    const t = value as CallTranscriptV1;
    // the agent and the call's start are the CDR's: looked up in the archive when the alert is raised
    return {
      record: transcriptScanRecord({
        corpId: t.corpId,
        callId: t.callId,
        source: 'asr',
        agentId: null,
        startTime: null,
        text: t.text,
      }),
    };
  }
  if (kind === 'recording') {
    const bad = violation(checks.recording, value, 'cz.call.v1/recording');
    return bad ? { error: bad } : { record: null };
  }
  return { error: `contract cz.call.v1 violated at /kind: unknown kind ${JSON.stringify(kind ?? null)}` };
}

/** Opens and reads every record of a batch of `topic`. */
export async function decodeBatch(
  topic: Topic,
  messages: readonly KafkaMessage[],
  keys: KeyProvider,
): Promise<DecodedBatch> {
  const batch: DecodedBatch = { records: [], skipped: 0, poison: [] };
  for (const message of messages) {
    if (!message.value || message.value.length === 0) {
      batch.poison.push({ message, error: 'empty record value' });
      continue;
    }
    let value: unknown;
    let binding: SealBinding | undefined;
    try {
      const opened = await openSealed(message.value, keys);
      binding = opened.binding;
      value = JSON.parse(opened.plaintext.toString('utf8')) as unknown;
    } catch (err) {
      if (err instanceof CryptoError) {
        batch.poison.push({ message, error: `crypto:${err.code}: ${err.message}` });
        continue;
      }
      if (err instanceof SyntaxError) {
        batch.poison.push({ message, error: `json: ${err.message}` });
        continue;
      }
      throw err;
    }
    const reading = readValue(topic, value);
    if ('error' in reading) {
      batch.poison.push({ message, error: reading.error });
      continue;
    }
    const misplaced = bindingProblem(topic, message, binding, value as { id?: unknown; corpId?: unknown });
    if (misplaced) batch.poison.push({ message, error: `crypto:binding_mismatch: ${misplaced}` });
    else if (reading.record) batch.records.push(reading.record);
    else batch.skipped += 1;
  }
  return batch;
}
