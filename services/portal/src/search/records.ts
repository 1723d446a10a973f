import type { DataSource } from 'typeorm';
import type { ArchivedCallV1, ArchivedMessageV1 } from '@cz/contracts';
import type { KeyProvider, SealBinding } from '@cz/common/crypto';
import {
  callBinding,
  isIntegrityError,
  messageBinding,
  openCallRecord,
  openMessageRecord,
  openTranscript,
  reportIntegrityFailure,
  transcriptBinding,
} from '../integrity';
import { canonicalText, textMatches, type ParsedQuery } from '@cz/common/search';
import { KIND_CALL, KIND_MESSAGE, sqlList } from './plan';

/*
 * The archived records a search returns: their database rows, and the exact check. A candidate
 * that passed every index and metadata condition is opened and kept only when its own unsealed
 * text matches the query, so a hit never is a false positive.
 */

export interface MessageDbRow {
  id: string;
  corp_id: string;
  msgid: string;
  action: string;
  msgtype: string | null;
  sender: string;
  room_id: string | null;
  conversation_id: string;
  msgtime: Date;
  sealed_record: Buffer;
  recalled: number | string;
}

/**
 * The columns of a {@link MessageDbRow} from `message m`; `recalled`: a recall record points at its
 * original by archive id, whichever arrived first.
 */
export const MESSAGE_COLUMNS =
  'm.id, m.corp_id, m.msgid, m.action, m.msgtype, m.sender, m.room_id, m.conversation_id, m.msgtime, ' +
  'm.sealed_record, EXISTS (SELECT 1 FROM message_recall rc WHERE rc.message_id = m.id) AS recalled';

export interface CallDbRow {
  id: string;
  corp_id: string;
  call_id: string;
  agent_id: string;
  direction: string;
  business_type: string;
  start_time: Date;
  end_time: Date;
  recording_id: string | null;
  sealed_record: Buffer;
}

export interface FoundMessage {
  kind: typeof KIND_MESSAGE;
  t: number;
  id: string;
  row: MessageDbRow;
  record: ArchivedMessageV1;
}

export interface FoundCall {
  kind: typeof KIND_CALL;
  t: number;
  id: string;
  row: CallDbRow;
  record: ArchivedCallV1;
  transcript: string;
}

export type Found = FoundMessage | FoundCall;

/** A driver row that passed the SQL conditions: the record still to open. */
export interface Candidate {
  t: Date;
  id: string;
  kind: number;
}

/** What of a call is searchable: the call centre's transcript and every stored transcript. */
export function callSearchText(record: ArchivedCallV1, stored: readonly string[]): string {
  const parts = [record.transcript?.text ?? '', ...stored].filter((t) => t.length > 0);
  return [...new Set(parts)].join('\n');
}

/**
 * Opens one sealed value against its row; one that fails its integrity check (moved from another
 * row, altered) is left out of the results and recorded in the audit trail.
 */
async function unlessMoved<T>(
  db: DataSource,
  binding: SealBinding,
  open: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await open();
  } catch (err) {
    if (!isIntegrityError(err)) throw err;
    await reportIntegrityFailure({ db, actor: 'portal.search' }, binding, err);
    return undefined;
  }
}

/** Opens candidates (in order) and keeps those matching the query exactly. */
export async function openCandidates(
  db: DataSource,
  keys: KeyProvider,
  candidates: readonly Candidate[],
  query: ParsedQuery | undefined,
): Promise<Found[]> {
  const messages = candidates.filter((c) => Number(c.kind) === KIND_MESSAGE);
  const calls = candidates.filter((c) => Number(c.kind) === KIND_CALL);
  const byKey = new Map<string, Found>();
  if (messages.length > 0) {
    const rows = await db.query<MessageDbRow[]>(
      `SELECT ${MESSAGE_COLUMNS}
         FROM message m WHERE ${messages.map(() => '(m.msgtime = ? AND m.id = ?)').join(' OR ')}`,
      messages.flatMap((c) => [c.t, c.id]),
    );
    for (const row of rows) {
      const record = await unlessMoved(db, messageBinding(row), () => openMessageRecord(keys, row));
      if (!record) continue;
      if (query && !textMatches(query, canonicalText(record.text))) continue;
      const t = new Date(row.msgtime).getTime();
      byKey.set(`${KIND_MESSAGE}:${row.id}`, { kind: KIND_MESSAGE, t, id: row.id, row, record });
    }
  }
  if (calls.length > 0) {
    const ids = calls.map((c) => c.id);
    const rows = await db.query<CallDbRow[]>(
      `SELECT id, corp_id, call_id, agent_id, direction, business_type, start_time, end_time, recording_id, sealed_record
         FROM call_record WHERE id IN (${sqlList(ids)})`,
      ids,
    );
    const transcripts = await db.query<
      { call_pk: string; corp_id: string; source: string; sealed_text: Buffer }[]
    >(
      `SELECT call_pk, corp_id, source, sealed_text FROM call_transcript WHERE call_pk IN (${sqlList(ids)}) ORDER BY call_pk, source`,
      ids,
    );
    const texts = new Map<string, string[]>();
    for (const t of transcripts) {
      const text = await unlessMoved(db, transcriptBinding(t), () => openTranscript(keys, t));
      if (text === undefined) continue;
      texts.set(t.call_pk, [...(texts.get(t.call_pk) ?? []), text]);
    }
    for (const row of rows) {
      const record = await unlessMoved(db, callBinding(row), () => openCallRecord(keys, row));
      if (!record) continue;
      const transcript = callSearchText(record, texts.get(row.id) ?? []);
      if (query && !textMatches(query, canonicalText(transcript))) continue;
      const t = new Date(row.start_time).getTime();
      byKey.set(`${KIND_CALL}:${row.id}`, { kind: KIND_CALL, t, id: row.id, row, record, transcript });
    }
  }
  return candidates.flatMap((c) => {
    const hit = byKey.get(`${Number(c.kind)}:${c.id}`);
    return hit ? [hit] : [];
  });
}
