import type { EntityManager } from 'typeorm';
import { SearchDocKinds, indexTokens, type SearchDocKind, type TokenHasher } from '@cz/common/search';
import type { ArchiveHook } from '../rows';
import { hex32, toSqlTime } from '../sql';

/*
 * The keyword index: one `search_token` row per (token, document), token = HMAC-SM3(search key,
 * token text) truncated to 64 bits (services/common/src/search). Rows are written in the batch
 * transaction of the documents they index, so a document is searchable exactly when it is
 * archived and never indexed twice.
 *
 * What the index reveals to someone holding the database but not the keys (README "Search"):
 * for every document, how many distinct tokens it has (≈ its length) and which documents share a
 * token (co-occurrence); across the archive, how often each token occurs (frequency). With a
 * reference corpus, frequency and co-occurrence analysis can guess the most common tokens (的, 您好,
 * 理财 …). It does not reveal token text without the key, the order of tokens inside a document,
 * or anything of the sealed body; the token key is separate per purpose, so it cannot be joined
 * with phone or name indexes.
 */

export interface IndexDoc {
  /** archive id, 32 hex digits */
  id: string;
  /** ms since the epoch: the partition and sort key */
  time: number;
  kind: SearchDocKind;
  text: string;
}

const ROWS_PER_INSERT = 5000;

/** Decimal BIGINT UNSIGNED strings compare by length first, then lexically. */
const byToken = (a: { token: string }, b: { token: string }) =>
  a.token.length - b.token.length || (a.token < b.token ? -1 : a.token > b.token ? 1 : 0);

/** Writes the token rows of `docs` (which must not be indexed yet). Returns the number of rows. */
export async function writeSearchTokens(
  tx: EntityManager,
  hasher: TokenHasher,
  docs: readonly IndexDoc[],
  /** backfill only: rows that exist already are fine */
  options: { ignoreExisting?: boolean } = {},
): Promise<number> {
  const rows: { token: string; tuple: string }[] = [];
  for (const doc of docs) {
    const tail = `,'${toSqlTime(doc.time)}',X'${hex32(doc.id)}',${doc.kind})`;
    for (const token of indexTokens(doc.text)) {
      const value = hasher.hash(token);
      rows.push({ token: value, tuple: `(${value}${tail}` });
    }
  }
  // in key order: neighbouring rows land in the same B-tree pages
  rows.sort(byToken);
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const values = rows
      .slice(start, start + ROWS_PER_INSERT)
      .map((r) => r.tuple)
      .join(',');
    const verb = options.ignoreExisting ? 'INSERT IGNORE' : 'INSERT';
    await tx.query(`${verb} INTO search_token (token, doc_time, doc_id, doc_kind) VALUES ${values}`);
  }
  return rows.length;
}

/** The archiver's hook: index the searchable text of every newly archived message. */
export function searchIndexHook(hasher: TokenHasher): ArchiveHook {
  return {
    name: 'search-index',
    apply: async (tx, fresh) => {
      await writeSearchTokens(
        tx,
        hasher,
        fresh.map(({ message: m }) => ({
          id: m.id,
          time: m.msgtime,
          kind: SearchDocKinds.message,
          text: m.text,
        })),
      );
    },
  };
}
