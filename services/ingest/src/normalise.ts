import { TypeCompiler } from '@sinclair/typebox/compiler';
import { WeComMessage, type ArchivedMessageV1, type RecordProblem } from '@cz/contracts';
import { conversationIdOf, messageArchiveId } from '@cz/common';

const checkWeComMessage = TypeCompiler.Compile(WeComMessage);

export type Validation =
  { ok: true; record: WeComMessage } | { ok: false; msgid?: string; errors: RecordProblem[] };

/** Validates one record of a batch on its own, so one bad record never sinks its neighbours. */
export function validateRecord(candidate: unknown): Validation {
  const msgid =
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof (candidate as { msgid?: unknown }).msgid === 'string'
      ? (candidate as { msgid: string }).msgid
      : undefined;
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    return { ok: false, errors: [{ path: '', message: 'record must be a JSON object' }] };
  }
  const errors: RecordProblem[] = [];
  for (const error of checkWeComMessage.Errors(candidate)) {
    // TypeBox reports a union failure once per branch; one line per path is enough for a caller.
    if (!errors.some((e) => e.path === error.path)) errors.push({ path: error.path, message: error.message });
    if (errors.length >= 20) break;
  }
  const record = candidate as WeComMessage;
  if (errors.length === 0 && record.action !== 'switch' && !record.msgtype) {
    errors.push({ path: '/msgtype', message: `msgtype is required when action is ${record.action}` });
  }
  if (errors.length === 0 && record.msgtype === 'text' && typeof record.text?.content !== 'string') {
    errors.push({ path: '/text/content', message: 'a text message needs text.content' });
  }
  if (errors.length > 0) return msgid === undefined ? { ok: false, errors } : { ok: false, msgid, errors };
  return { ok: true, record };
}

/**
 * Searchable text of a record. The ingest issue extends this to every WeCom msgtype; unknown types
 * are archived whole with empty searchable text.
 */
export function searchableText(record: WeComMessage): string {
  const payload = record.msgtype ? (record as Record<string, unknown>)[record.msgtype] : undefined;
  if (record.msgtype === 'text') return record.text?.content ?? '';
  if (typeof payload === 'object' && payload !== null) {
    const p = payload as Record<string, unknown>;
    const parts = ['title', 'filename', 'description', 'content', 'name', 'address']
      .map((k) => p[k])
      .filter((v): v is string => typeof v === 'string' && v.length > 0);
    return parts.join(' ');
  }
  return '';
}

export function toArchivedMessage(
  corpId: string,
  record: WeComMessage,
  receivedAt: number,
): ArchivedMessageV1 {
  const archived: ArchivedMessageV1 = {
    schema: 'cz.msg.v1',
    id: messageArchiveId(corpId, record.msgid),
    corpId,
    msgid: record.msgid,
    action: record.action,
    from: record.from,
    tolist: record.tolist,
    conversationId: conversationIdOf(record),
    msgtime: record.msgtime,
    text: searchableText(record),
    raw: record as Record<string, unknown>,
    receivedAt,
  };
  if (record.seq !== undefined) archived.seq = record.seq;
  if (record.msgtype !== undefined) archived.msgtype = record.msgtype;
  if (record.roomid) archived.roomid = record.roomid;
  return archived;
}
