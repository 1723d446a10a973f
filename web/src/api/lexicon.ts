import type {
  LexiconDiffReply,
  LexiconEntry,
  LexiconEntryListReply,
  LexiconEntryQuery,
  LexiconImportReply,
  LexiconImportRequest,
  LexiconPublishRequest,
  LexiconTestReply,
  LexiconVersionListReply,
  LexiconVersionView,
  RescanJobListReply,
  RescanJobView,
  RescanRequest,
} from '@cz/contracts';
import { ApiError, request, requestRaw } from './client';

/*
 * 词库管理: the lexicon's versions and entries, the draft being edited, CSV import / export, diff,
 * publish (admin), the live tester and retroactive scans. The portal relays these to the compliance
 * service and audits every change.
 */

const PREFIX = '/v1/lexicon';

export function listVersions(): Promise<LexiconVersionListReply> {
  return request<LexiconVersionListReply>('GET', `${PREFIX}/versions`);
}

export function listEntries(
  version: number,
  query: LexiconEntryQuery,
  signal?: AbortSignal,
): Promise<LexiconEntryListReply> {
  return request<LexiconEntryListReply>('GET', `${PREFIX}/versions/${version}/entries`, {
    query: { ...query },
    ...(signal ? { signal } : {}),
  });
}

/** Adds or replaces one entry of the draft (the draft is created from the published version if none). */
export function putDraftEntry(entry: LexiconEntry): Promise<LexiconEntry> {
  return request<LexiconEntry>('PUT', `${PREFIX}/draft/entries/${encodeURIComponent(entry.id)}`, {
    body: entry,
    // the dialog shows the server's reason (a rejected regular expression) next to the field
    silent: true,
  });
}

export function deleteDraftEntry(id: string): Promise<void> {
  return request<void>('DELETE', `${PREFIX}/draft/entries/${encodeURIComponent(id)}`);
}

export function discardDraft(): Promise<void> {
  return request<void>('DELETE', `${PREFIX}/draft`);
}

/** 200 when applied; a 400 with per-line errors comes back as a reply too (nothing was applied). */
export async function importDraft(body: LexiconImportRequest): Promise<LexiconImportReply> {
  try {
    return await request<LexiconImportReply>('POST', `${PREFIX}/draft/import`, { body, silent: true });
  } catch (error) {
    const reply = error instanceof ApiError ? (error.body as Partial<LexiconImportReply> | null) : null;
    if (reply && Array.isArray(reply.errors) && reply.errors.length > 0) {
      return { applied: 0, added: 0, changed: 0, removed: 0, errors: reply.errors };
    }
    throw error;
  }
}

/** The version's entries as CSV (the columns of LEXICON_CSV_COLUMNS). */
export async function exportVersion(version: number): Promise<Blob> {
  const response = await requestRaw(`${PREFIX}/versions/${version}/export`);
  return response.blob();
}

export function diffVersions(from: number, to: number): Promise<LexiconDiffReply> {
  return request<LexiconDiffReply>('GET', `${PREFIX}/diff`, { query: { from, to } });
}

export function publishDraft(body: LexiconPublishRequest): Promise<LexiconVersionView> {
  return request<LexiconVersionView>('POST', `${PREFIX}/draft/publish`, { body });
}

export function testText(text: string, draft: boolean, signal?: AbortSignal): Promise<LexiconTestReply> {
  return request<LexiconTestReply>('POST', `${PREFIX}/test`, {
    body: { text, draft },
    silent: true,
    ...(signal ? { signal } : {}),
  });
}

export function listRescans(): Promise<RescanJobListReply> {
  return request<RescanJobListReply>('GET', `${PREFIX}/rescans`, { silent: true });
}

export function startRescan(body: RescanRequest): Promise<RescanJobView> {
  return request<RescanJobView>('POST', `${PREFIX}/rescans`, { body });
}

export function cancelRescan(id: string): Promise<RescanJobView> {
  return request<RescanJobView>('POST', `${PREFIX}/rescans/${encodeURIComponent(id)}/cancel`);
}
