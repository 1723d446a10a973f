import type { DataSource } from 'typeorm';
import type { KeyProvider } from '@cz/common/crypto';
import { openStoredTranscript } from '../records/open-record';
import { SearchDocKinds, type TokenHasher } from '@cz/common/search';
import { writeSearchTokens, type IndexDoc } from './search-index';

/*
 * Indexes call transcripts stored before transcripts were keyword-indexed (queued in
 * `call_transcript_backfill` by migration TranscriptBackfill1795609710000) under their call, at
 * the call's start time. Idempotent and safe with several replicas: the queue rows are locked and
 * deleted in the transaction that writes the tokens, and tokens already there are ignored.
 */

interface Queued {
  call_pk: string;
  source: string;
  corp_id: string | null;
  start_time: Date;
  sealed_text: Buffer | null;
}

/** One step; returns how many queued transcripts it handled (0: the queue is empty). */
export async function transcriptBackfillStep(
  db: DataSource,
  keys: KeyProvider,
  hasher: TokenHasher,
  batchSize = 50,
): Promise<number> {
  const queued = await db.query<Queued[]>(
    `SELECT q.call_pk, q.source, t.corp_id, c.start_time, t.sealed_text FROM call_transcript_backfill q
     LEFT JOIN call_transcript t ON t.call_pk = q.call_pk AND t.source = q.source
     LEFT JOIN call_record c ON c.id = q.call_pk
     ORDER BY q.call_pk, q.source LIMIT ${Math.floor(batchSize)}`,
  );
  if (queued.length === 0) return 0;
  const docs: { key: string; doc: IndexDoc }[] = [];
  for (const row of queued) {
    // a queued transcript whose rows are gone has nothing to index; its queue row is removed
    if (!row.sealed_text || !row.start_time || row.corp_id === null) continue;
    const text = await openStoredTranscript(keys, {
      ...row,
      corp_id: row.corp_id,
      sealed_text: row.sealed_text,
    });
    if (text === undefined) continue; // does not belong to its row: not indexed
    docs.push({
      key: `${row.call_pk}:${row.source}`,
      doc: {
        id: row.call_pk,
        time: new Date(row.start_time).getTime(),
        kind: SearchDocKinds.callTranscript,
        text,
      },
    });
  }
  await db.transaction('READ COMMITTED', async (tx) => {
    const keysOf = queued.map(() => '(call_pk = ? AND source = ?)').join(' OR ');
    const params = queued.flatMap((q) => [q.call_pk, q.source]);
    const still = await tx.query<{ call_pk: string; source: string }[]>(
      `SELECT call_pk, source FROM call_transcript_backfill WHERE ${keysOf} FOR UPDATE`,
      params,
    );
    if (still.length === 0) return;
    const mine = new Set(still.map((r) => `${r.call_pk}:${r.source}`));
    await writeSearchTokens(
      tx,
      hasher,
      docs.filter((d) => mine.has(d.key)).map((d) => d.doc),
      { ignoreExisting: true },
    );
    await tx.query(`DELETE FROM call_transcript_backfill WHERE ${keysOf}`, params);
  });
  return queued.length;
}
