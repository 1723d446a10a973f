import type { ConversationQuery, ConversationReply } from '@cz/contracts';
import { request } from './client';

/** A conversation's messages around a message (`around`), a time (`at`), or from a page cursor. */
export function getConversation(
  corpId: string,
  conversationId: string,
  query: ConversationQuery,
  signal?: AbortSignal,
): Promise<ConversationReply> {
  const path = `/v1/conversations/${encodeURIComponent(corpId)}/${encodeURIComponent(conversationId)}`;
  return request<ConversationReply>('GET', path, { query, silent: true, ...(signal ? { signal } : {}) });
}
