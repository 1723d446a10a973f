import type { SearchQuery, SearchReply } from '@cz/contracts';
import { request } from './client';

/**
 * `GET /v1/search`: keyword search over chats and calls. Failures are not toasted: the search page
 * shows the server's reason in place (a query too long, nothing searchable, a bad range, …).
 */
export function search(query: SearchQuery, signal?: AbortSignal): Promise<SearchReply> {
  return request<SearchReply>('GET', '/v1/search', { query, silent: true, ...(signal ? { signal } : {}) });
}
