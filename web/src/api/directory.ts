import type { OrgTreeReply } from '@cz/contracts';
import { request } from './client';

/** The org tree of one corp (flat, with parent ids), for the org-unit filter. */
export function getOrgTree(corpId: string, signal?: AbortSignal): Promise<OrgTreeReply> {
  return request<OrgTreeReply>('GET', `/v1/org/${encodeURIComponent(corpId)}`, {
    silent: true,
    ...(signal ? { signal } : {}),
  });
}
