import type { AlertSummary, CallHitView, MessageView, SearchHit } from '@cz/contracts';
import { maskPersonalData, wecomMediaId } from '@cz/common';
import type { Found, FoundCall, MessageDbRow } from './records';
import type { ArchivedMessageV1 } from '@cz/contracts';

/** A message as staff see it: personal data masked, media referenced, recall flagged. */
export function messageView(row: MessageDbRow, record: ArchivedMessageV1): MessageView {
  return {
    id: row.id,
    corpId: row.corp_id,
    msgid: row.msgid,
    action: row.action,
    msgtype: row.msgtype,
    from: row.sender,
    tolist: record.tolist,
    roomid: row.room_id,
    conversationId: row.conversation_id,
    msgtime: new Date(row.msgtime).toISOString(),
    text: maskPersonalData(record.text),
    media: (record.media ?? []).map((ref) => ({
      ...ref,
      ...(ref.filename === undefined ? {} : { filename: maskPersonalData(ref.filename) }),
      mediaId: wecomMediaId(ref.sdkfileid),
    })),
    recalled: Number(row.recalled) === 1,
    recallOf: record.recallOf ?? null,
    unknownType: record.unknownType === true,
  };
}

export function callView(found: FoundCall): CallHitView {
  const { row, record } = found;
  return {
    id: row.id,
    corpId: row.corp_id,
    callId: row.call_id,
    agentId: row.agent_id,
    direction: row.direction,
    businessType: row.business_type,
    startTime: new Date(row.start_time).toISOString(),
    endTime: new Date(row.end_time).toISOString(),
    customerNumber: maskPersonalData(record.customerNumber),
    recordingId: row.recording_id,
    transcript: maskPersonalData(found.transcript),
  };
}

export function hitView(found: Found, alerts: AlertSummary | null = null): SearchHit {
  const time = new Date(found.t).toISOString();
  if (found.kind === 1) {
    const m = found;
    return { kind: 'message', time, message: messageView(m.row, m.record), alerts };
  }
  return { kind: 'call', time, call: callView(found), alerts };
}
