import type { MessageListQuery, MessageListReply } from '@cz/contracts';
import { request } from './client';

/** One keyset page of archived messages; pass `nextCursor` of the previous page as `cursor`. */
export function listMessages(query: MessageListQuery, signal?: AbortSignal): Promise<MessageListReply> {
  return request<MessageListReply>('GET', '/v1/messages', { query, ...(signal ? { signal } : {}) });
}
