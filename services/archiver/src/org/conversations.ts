import type { EntityManager } from 'typeorm';
import type { ArchiveHook, MessageRow } from '../rows';
import { toSqlTime } from '../sql';

/*
 * Conversations and their participants, normalised out of the messages: a conversation is
 * one-to-one ("single", keyed by the sorted pair of participants) or a group ("group", keyed by
 * WeCom's roomid); every sender and recipient of a message is a participant, classified as
 * employee, customer (WeCom external contact) or bot by WeCom's id conventions. Counters only ever
 * grow by the records a batch archived first, so redelivery cannot double them.
 */

export type Party = 'employee' | 'customer' | 'bot';

/** WeCom: external contacts' ids start with wm / wo, robots' with wb; everything else is staff. */
export function partyOf(userId: string): Party {
  if (/^w[mo]/.test(userId)) return 'customer';
  if (userId.startsWith('wb')) return 'bot';
  return 'employee';
}

interface ConversationAgg {
  corpId: string;
  conversationId: string;
  kind: 'single' | 'group';
  roomId: string | null;
  first: number;
  last: number;
  count: number;
}

interface ParticipantAgg {
  corpId: string;
  conversationId: string;
  participant: string;
  first: number;
  last: number;
  sent: number;
}

export async function upsertConversations(tx: EntityManager, fresh: readonly MessageRow[]): Promise<void> {
  const conversations = new Map<string, ConversationAgg>();
  const participants = new Map<string, ParticipantAgg>();
  for (const { message: m } of fresh) {
    const key = `${m.corpId}\u0000${m.conversationId}`;
    const conv = conversations.get(key);
    if (conv) {
      conv.first = Math.min(conv.first, m.msgtime);
      conv.last = Math.max(conv.last, m.msgtime);
      conv.count += 1;
    } else {
      conversations.set(key, {
        corpId: m.corpId,
        conversationId: m.conversationId,
        kind: m.roomid ? 'group' : 'single',
        roomId: m.roomid ?? null,
        first: m.msgtime,
        last: m.msgtime,
        count: 1,
      });
    }
    for (const person of new Set([m.from, ...m.tolist])) {
      const pkey = `${key}\u0000${person}`;
      const sent = person === m.from ? 1 : 0;
      const p = participants.get(pkey);
      if (p) {
        p.first = Math.min(p.first, m.msgtime);
        p.last = Math.max(p.last, m.msgtime);
        p.sent += sent;
      } else {
        participants.set(pkey, {
          corpId: m.corpId,
          conversationId: m.conversationId,
          participant: person,
          first: m.msgtime,
          last: m.msgtime,
          sent,
        });
      }
    }
  }
  // key order, so concurrent batches lock rows in the same order
  const convRows = [...conversations.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, c]) => c);
  for (let start = 0; start < convRows.length; start += 1000) {
    const chunk = convRows.slice(start, start + 1000);
    await tx.query(
      `INSERT INTO conversation (corp_id, conversation_id, kind, room_id, first_msgtime, last_msgtime, message_count)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}
       ON DUPLICATE KEY UPDATE first_msgtime = LEAST(first_msgtime, VALUES(first_msgtime)),
         last_msgtime = GREATEST(last_msgtime, VALUES(last_msgtime)),
         message_count = message_count + VALUES(message_count)`,
      chunk.flatMap((c) => [
        c.corpId,
        c.conversationId,
        c.kind,
        c.roomId,
        toSqlTime(c.first),
        toSqlTime(c.last),
        c.count,
      ]),
    );
  }
  const partRows = [...participants.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, p]) => p);
  for (let start = 0; start < partRows.length; start += 1000) {
    const chunk = partRows.slice(start, start + 1000);
    await tx.query(
      `INSERT INTO conversation_participant (corp_id, conversation_id, participant, party, first_msgtime, last_msgtime, sent_count)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}
       ON DUPLICATE KEY UPDATE first_msgtime = LEAST(first_msgtime, VALUES(first_msgtime)),
         last_msgtime = GREATEST(last_msgtime, VALUES(last_msgtime)),
         sent_count = sent_count + VALUES(sent_count)`,
      chunk.flatMap((p) => [
        p.corpId,
        p.conversationId,
        p.participant,
        partyOf(p.participant),
        toSqlTime(p.first),
        toSqlTime(p.last),
        p.sent,
      ]),
    );
  }
}

export const conversationHook: ArchiveHook = {
  name: 'conversations',
  apply: (tx, fresh) => upsertConversations(tx, fresh),
};
