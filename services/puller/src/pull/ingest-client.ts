import type { IngestBatchReply, RejectedRecord } from '@cz/contracts';
import { MAX_BATCH_RECORDS } from '@cz/contracts';
import { secureFetchFor, type ClientTls } from '@cz/common';

/** Ingest did not acknowledge (unreachable, 5xx, 503 from Kafka): nothing may advance. */
export class IngestUnavailableError extends Error {}

/** Ingest's body limit is 8 MiB; stay well under it and split further on a 413. */
const MAX_CHUNK_BYTES = 4 * 1024 * 1024;

export interface PostResult {
  /** indexes into the posted array that ingest rejected, with its reasons */
  rejected: RejectedRecord[];
}

/** Where ingest is and the credential this puller presents to it (its own, bound to its corps). */
export interface IngestTarget {
  url: string;
  callerToken: string;
  /** the CA ingest's certificate must chain to, and this puller's client certificate */
  tls?: ClientTls;
}

async function postOnce(
  ingest: IngestTarget,
  corpId: string,
  messages: unknown[],
): Promise<PostResult | 'too_large'> {
  let response: Response;
  try {
    response = await secureFetchFor(ingest.tls)(new URL('/v1/wecom/messages', ingest.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ingest.callerToken}` },
      body: JSON.stringify({ corpId, messages }),
      signal: AbortSignal.timeout(60000),
    });
  } catch (err) {
    throw new IngestUnavailableError(`ingest unreachable: ${(err as Error).message}`);
  }
  if (response.status === 413) return 'too_large';
  const body = (await response.json().catch(() => undefined)) as
    (Partial<IngestBatchReply> & { code?: string; message?: string }) | undefined;
  if (response.status === 202) return { rejected: [] };
  if (response.status === 400 && body && Array.isArray(body.rejected) && Array.isArray(body.accepted)) {
    // the per-record reply: accepted records are stored, rejected ones come back with reasons
    if (body.accepted.length + body.rejected.length !== messages.length) {
      throw new IngestUnavailableError('ingest reply does not account for every record');
    }
    return { rejected: body.rejected };
  }
  // a whole-request error (or 5xx/503; 401/403 until the credential or its corps are fixed):
  // nothing of this request is known to be stored
  throw new IngestUnavailableError(
    `ingest answered ${response.status}${body?.code ? ` ${body.code}` : ''}${body?.message ? `: ${body.message}` : ''}`,
  );
}

/**
 * Posts decrypted records to ingest, in chunks under its body and record limits. Resolves only
 * when ingest acknowledged every chunk (202, or 400 with a reason per rejected record); rejected
 * indexes refer to `messages`.
 */
export async function postToIngest(
  ingest: IngestTarget,
  corpId: string,
  messages: unknown[],
): Promise<PostResult> {
  const rejected: RejectedRecord[] = [];
  const sizes = messages.map((m) => Buffer.byteLength(JSON.stringify(m)));
  const post = async (from: number, to: number): Promise<void> => {
    const result = await postOnce(ingest, corpId, messages.slice(from, to));
    if (result === 'too_large') {
      if (to - from === 1) {
        rejected.push({
          index: from,
          errors: [{ path: '', message: 'record larger than the ingest body limit' }],
        });
        return;
      }
      const middle = from + Math.floor((to - from) / 2);
      await post(from, middle);
      await post(middle, to);
      return;
    }
    for (const r of result.rejected) rejected.push({ ...r, index: r.index + from });
  };
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const size = sizes[i]!;
    if (i > start && (bytes + size > MAX_CHUNK_BYTES || i - start >= MAX_BATCH_RECORDS)) {
      await post(start, i);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < messages.length) await post(start, messages.length);
  return { rejected };
}
