/** Builds sealed archive rows the way the archiver's decoder does, for tests and benchmarks. */
import type { ArchivedMessageV1 } from '@cz/contracts';
import { conversationIdOf, messageArchiveId } from '@cz/common';
import { parseSealedHeader, sealBuffer, type KeyProvider } from '@cz/common/crypto';
import type { MessageRow } from '@cz/archiver';

export interface ChatSpec {
  corpId: string;
  msgid: string;
  from: string;
  tolist: string[];
  roomid?: string;
  msgtime: number;
  text: string;
  msgtype?: string;
}

export function archivedMessage(spec: ChatSpec): ArchivedMessageV1 {
  const message: ArchivedMessageV1 = {
    schema: 'cz.msg.v1',
    id: messageArchiveId(spec.corpId, spec.msgid),
    corpId: spec.corpId,
    msgid: spec.msgid,
    action: 'send',
    msgtype: spec.msgtype ?? 'text',
    from: spec.from,
    tolist: spec.tolist,
    conversationId: conversationIdOf(spec),
    msgtime: spec.msgtime,
    text: spec.text,
    raw: { msgid: spec.msgid, msgtype: spec.msgtype ?? 'text', text: { content: spec.text } },
    receivedAt: Date.now(),
  };
  if (spec.roomid) message.roomid = spec.roomid;
  return message;
}

export async function sealedRow(keys: KeyProvider, message: ArchivedMessageV1): Promise<MessageRow> {
  const sealedRecord = await sealBuffer(Buffer.from(JSON.stringify(message)), keys, 'chat');
  const header = parseSealedHeader(sealedRecord);
  return { message, sealedRecord, kekId: header.kekId, kekVersion: header.kekVersion };
}

export async function chatRows(keys: KeyProvider, specs: ChatSpec[]): Promise<MessageRow[]> {
  const rows: MessageRow[] = [];
  for (const spec of specs) rows.push(await sealedRow(keys, archivedMessage(spec)));
  return rows;
}
