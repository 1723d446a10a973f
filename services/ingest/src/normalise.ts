import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ArchivedMessageV1, type ConsentDecision, type RecordProblem } from '@cz/contracts';
import { conversationIdOf, messageArchiveId } from '@cz/common';
import { extractContent } from './wecom/extract';
import type { ValidRecord } from './wecom/validate';

export { validateRecord, type ValidRecord } from './wecom/validate';

const objectAt = (raw: Record<string, unknown>, key: string): Record<string, unknown> | undefined => {
  const value = raw[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
};

function consentOf(record: ValidRecord): ConsentDecision | undefined {
  const { msgtype, msgtime } = record.envelope;
  if (msgtype !== 'agree' && msgtype !== 'disagree') return undefined;
  const payload = objectAt(record.raw, msgtype);
  const userid = payload?.userid;
  if (typeof userid !== 'string' || userid.length === 0) return undefined;
  const at = payload?.[`${msgtype}_time`];
  return {
    decision: msgtype,
    userid,
    at: typeof at === 'number' && Number.isSafeInteger(at) && at >= 0 ? at : msgtime,
  };
}

const checkArchived = TypeCompiler.Compile(ArchivedMessageV1);

/**
 * Problems of a normalised record against the cz.msg.v1 contract. Ingest checks what it is about
 * to acknowledge, so that a record the archiver would dead-letter is refused here, with a reason.
 */
export function archivedContractProblems(archived: ArchivedMessageV1): RecordProblem[] {
  if (checkArchived.Check(archived)) return [];
  return [...checkArchived.Errors(archived)]
    .slice(0, 5)
    .map((e) => ({ path: '', message: `normalised record violates cz.msg.v1 at ${e.path}: ${e.message}` }));
}

/**
 * The normalised archive form of a validated record: envelope fields, searchable text and media
 * references per msgtype, recall target, consent decision, and the record itself, whole.
 */
export function toArchivedMessage(
  corpId: string,
  record: ValidRecord,
  receivedAt: number,
  contentMac?: string,
): ArchivedMessageV1 {
  const { envelope, raw } = record;
  const { text, media } = extractContent(envelope.msgtype, raw);
  const archived: ArchivedMessageV1 = {
    schema: 'cz.msg.v1',
    id: messageArchiveId(corpId, envelope.msgid),
    corpId,
    msgid: envelope.msgid,
    action: envelope.action,
    from: envelope.from,
    tolist: envelope.tolist,
    // a corp switch is a log line of one member, not part of a conversation
    conversationId: envelope.action === 'switch' ? `switch:${envelope.from}` : conversationIdOf(envelope),
    msgtime: envelope.msgtime,
    text,
    raw,
    receivedAt,
    media,
  };
  if (envelope.seq !== undefined) archived.seq = envelope.seq;
  if (envelope.msgtype !== undefined) archived.msgtype = envelope.msgtype;
  if (envelope.roomid) archived.roomid = envelope.roomid;
  if (!record.known) archived.unknownType = true;
  const recalled = envelope.msgtype === 'revoke' ? objectAt(raw, 'revoke')?.pre_msgid : undefined;
  if (typeof recalled === 'string' && recalled.length > 0) archived.recallOf = recalled;
  const consent = consentOf(record);
  if (consent) archived.consent = consent;
  if (contentMac) archived.contentMac = contentMac;
  return archived;
}
