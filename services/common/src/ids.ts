import { createHash } from 'node:crypto';

/**
 * Archive id of a chat record: derived from (corp, msgid) so that a record retried by the puller
 * or re-posted by a client maps to the same id at every layer.
 */
export function messageArchiveId(corpId: string, msgid: string): string {
  return createHash('sm3').update(`${corpId}\u0000${msgid}`).digest('hex').slice(0, 32);
}

/**
 * Id of a WeCom media object in the recordings service (`/v1/media/{corpId}/{mediaId}`): SM3 hex of
 * its sdkfileid. Deterministic, so the puller stores and the portal finds media from the message's
 * media references alone; one object however many messages forward it.
 */
export function wecomMediaId(sdkfileid: string): string {
  return createHash('sm3').update(sdkfileid, 'utf8').digest('hex');
}

/** One-to-one chats are keyed by the sorted pair of participants; group chats by room id. */
export function conversationIdOf(record: {
  from: string;
  tolist: string[];
  roomid?: string | undefined;
}): string {
  if (record.roomid) return `g:${record.roomid}`;
  const other = record.tolist[0] ?? '';
  return `p:${[record.from, other].sort().join('|')}`;
}
