import type { ArchivedMessageV1 } from '@cz/contracts';
import { externalUserIndex, indexKeyFor, IndexPurposes } from '@cz/common';
import {
  blindIndex,
  CryptoError,
  openSealed,
  sealBuffer,
  sealedKeyInfo,
  type KeyProvider,
  type SealBinding,
} from '@cz/common/crypto';

/*
 * Re-seals format-v1 values as v2, bound to the row they sit in, table by table in primary-key
 * order and in chunks. Each value keeps its data class and goes through the normal key rules (a
 * new data key of the day from the key source). A v1 value whose content does not belong to its
 * row (another record's id, corp or conversation: moved) is left as it is and counted, never bound
 * to the row it was moved into. Updates are compare-and-set on the old bytes, so a row rewritten
 * meanwhile is not overwritten; readers open both versions throughout. Resumable (a checkpoint
 * after every chunk) and idempotent (only values still starting with "CZS1" are touched).
 *
 * Not re-sealed: audit_event.sealed_detail (the audit hash chain covers its bytes; re-sealing would
 * break the chain) and recordings in MinIO (the v1 stream format, under COMPLIANCE retention).
 */

export interface ResealDb {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

type Row = Record<string, unknown>;

interface TableSpec {
  table: string;
  column: string;
  /** primary key columns, in index order */
  key: string[];
  /** further columns the binding and the content check need */
  columns: string[];
  /** the table keeps kek_id / kek_version next to the value */
  kekColumns: boolean;
  binding: (row: Row) => SealBinding;
  /** whether a v1 value's opened content belongs to this row */
  belongs: (row: Row, plaintext: Buffer, keys: KeyProvider) => Promise<boolean>;
}

const str = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));

function json<T>(plaintext: Buffer): T | undefined {
  try {
    return JSON.parse(plaintext.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

const sameRecord = (row: Row, idColumn: string) => async (_row: Row, plaintext: Buffer) => {
  const record = json<{ id?: unknown; corpId?: unknown }>(plaintext);
  return record !== undefined && record.id === str(row[idColumn]) && record.corpId === str(row.corp_id);
};

export const RESEAL_TABLES: readonly TableSpec[] = [
  {
    table: 'message',
    column: 'sealed_record',
    key: ['msgtime', 'id'],
    columns: ['corp_id', 'msgid', 'conversation_id'],
    kekColumns: true,
    binding: (r) => ({ kind: 'msg', corp: str(r.corp_id), id: str(r.id) }),
    belongs: async (r, plaintext) => {
      const m = json<ArchivedMessageV1>(plaintext);
      return (
        m !== undefined &&
        m.id === r.id &&
        m.corpId === r.corp_id &&
        m.msgid === r.msgid &&
        m.conversationId === r.conversation_id
      );
    },
  },
  {
    table: 'message_variant',
    column: 'sealed_record',
    key: ['message_id', 'content_mac'],
    columns: ['corp_id', 'msgid'],
    kekColumns: true,
    binding: (r) => ({ kind: 'msg', corp: str(r.corp_id), id: str(r.message_id) }),
    belongs: async (r, plaintext) => {
      const m = json<ArchivedMessageV1>(plaintext);
      return m !== undefined && m.id === r.message_id && m.corpId === r.corp_id && m.msgid === r.msgid;
    },
  },
  {
    table: 'call_record',
    column: 'sealed_record',
    key: ['id'],
    columns: ['corp_id', 'call_id'],
    kekColumns: true,
    binding: (r) => ({ kind: 'call', corp: str(r.corp_id), id: str(r.id) }),
    belongs: async (r, plaintext) => {
      const c = json<{ id?: unknown; corpId?: unknown; callId?: unknown }>(plaintext);
      return c !== undefined && c.id === r.id && c.corpId === r.corp_id && c.callId === r.call_id;
    },
  },
  {
    // plain text: nothing inside to compare with the row
    table: 'call_transcript',
    column: 'sealed_text',
    key: ['call_pk', 'source'],
    columns: ['corp_id'],
    kekColumns: true,
    binding: (r) => ({ kind: 'transcript', corp: str(r.corp_id), id: `${str(r.call_pk)}/${str(r.source)}` }),
    belongs: async () => true,
  },
  {
    table: 'behaviour_event',
    column: 'sealed_record',
    key: ['id'],
    columns: ['corp_id'],
    kekColumns: true,
    binding: (r) => ({ kind: 'event', corp: str(r.corp_id), id: str(r.id) }),
    belongs: (r, p) => sameRecord(r, 'id')(r, p),
  },
  {
    table: 'alert',
    column: 'sealed_record',
    key: ['id'],
    columns: ['corp_id'],
    kekColumns: true,
    binding: (r) => ({ kind: 'alert', corp: str(r.corp_id), id: str(r.id) }),
    belongs: (r, p) => sameRecord(r, 'id')(r, p),
  },
  {
    table: 'customer',
    column: 'sealed_profile',
    key: ['id'],
    columns: ['corp_id', 'CAST(external_index AS CHAR) AS external_index'],
    kekColumns: true,
    binding: (r) => ({ kind: 'profile', corp: str(r.corp_id), id: `customer/${str(r.external_index)}` }),
    belongs: async (r, plaintext, keys) => {
      const p = json<{ externalUserId?: unknown }>(plaintext);
      return (
        typeof p?.externalUserId === 'string' &&
        (await externalUserIndex(keys, p.externalUserId)) === str(r.external_index)
      );
    },
  },
  {
    table: 'employee',
    column: 'sealed_profile',
    key: ['corp_id', 'userid'],
    columns: [],
    kekColumns: true,
    binding: (r) => ({ kind: 'profile', corp: str(r.corp_id), id: `employee/${str(r.userid)}` }),
    belongs: async (r, plaintext) => json<{ userid?: unknown }>(plaintext)?.userid === r.userid,
  },
  {
    table: 'consent_event',
    column: 'subject_sealed',
    key: ['corp_id', 'msgid'],
    columns: ['CAST(subject_index AS CHAR) AS subject_index'],
    kekColumns: true,
    binding: (r) => ({ kind: 'consent', corp: str(r.corp_id), id: str(r.msgid) }),
    belongs: async (r, plaintext, keys) =>
      blindIndex(await indexKeyFor(keys, IndexPurposes.consent), plaintext.toString('utf8')) ===
      str(r.subject_index),
  },
  {
    // a secret is opaque: the corp is the row's key, nothing inside to compare
    table: 'wecom_corp_source',
    column: 'sealed_secret',
    key: ['corp_id'],
    columns: [],
    kekColumns: false,
    binding: (r) => ({ kind: 'secret', corp: str(r.corp_id), id: 'corp-secret' }),
    belongs: async () => true,
  },
  {
    table: 'wecom_corp_key',
    column: 'sealed_private_key',
    key: ['corp_id', 'publickey_ver'],
    columns: [],
    kekColumns: false,
    binding: (r) => ({ kind: 'secret', corp: str(r.corp_id), id: `private-key/${str(r.publickey_ver)}` }),
    belongs: async (_r, plaintext) => plaintext.toString('utf8').includes('PRIVATE KEY'),
  },
  {
    table: 'wecom_pull_quarantine',
    column: 'sealed_envelope',
    key: ['id'],
    columns: ['corp_id', 'seq', 'msgid'],
    kekColumns: false,
    binding: (r) => ({ kind: 'quarantine', corp: str(r.corp_id), id: `${str(r.seq)}/${str(r.msgid)}` }),
    belongs: async (r, plaintext) => {
      const e = json<{ seq?: unknown; msgid?: unknown }>(plaintext);
      return e !== undefined && String(e.seq) === str(r.seq) && e.msgid === r.msgid;
    },
  },
];

/** Where a pass stopped: the table and the primary key of the last row handled. */
export interface ResealCheckpoint {
  table: string;
  /** key values; dates as { date: ISO } */
  after: unknown[];
}

export interface ResealOptions {
  batchSize?: number;
  /** resume here (from a previous, interrupted pass) */
  checkpoint?: ResealCheckpoint;
  /** called after every chunk: persist it to resume after a crash */
  saveCheckpoint?: (checkpoint: ResealCheckpoint) => Promise<void> | void;
  log?: (line: string) => void;
  tables?: readonly TableSpec[];
}

export interface ResealCounts {
  resealed: number;
  /** v1 content that does not belong to its row (moved): left as it is */
  misplaced: number;
  /** does not open (tampered, key destroyed): left as it is */
  unreadable: number;
}

const encodeKey = (values: unknown[]) =>
  values.map((v) => (v instanceof Date ? { date: v.toISOString() } : v));
const decodeKey = (values: unknown[]) =>
  values.map((v) =>
    typeof v === 'object' && v !== null && 'date' in v ? new Date(String((v as { date: string }).date)) : v,
  );

const V1_MAGIC = 'CZS1';

/** One pass over every table; returns the counts per table. */
export async function resealV1(
  db: ResealDb,
  keys: KeyProvider,
  options: ResealOptions = {},
): Promise<Record<string, ResealCounts>> {
  const batchSize = options.batchSize ?? 500;
  const tables = options.tables ?? RESEAL_TABLES;
  const log = options.log ?? (() => undefined);
  const counts: Record<string, ResealCounts> = {};
  let resumeAt = options.checkpoint ? tables.findIndex((t) => t.table === options.checkpoint!.table) : 0;
  if (resumeAt < 0) resumeAt = 0;
  for (const [index, spec] of tables.entries()) {
    if (index < resumeAt) continue;
    const total: ResealCounts = { resealed: 0, misplaced: 0, unreadable: 0 };
    counts[spec.table] = total;
    let after: unknown[] | undefined =
      index === resumeAt && options.checkpoint ? decodeKey(options.checkpoint.after) : undefined;
    const keyList = spec.key.join(', ');
    for (;;) {
      const where = [`LEFT(${spec.column}, 4) = ?`];
      const params: unknown[] = [V1_MAGIC];
      if (after) {
        where.push(`(${keyList}) > (${spec.key.map(() => '?').join(', ')})`);
        params.push(...after);
      }
      const rows = await db.query<Row>(
        `SELECT ${[...spec.key, ...spec.columns, spec.column].join(', ')} FROM ${spec.table}
          WHERE ${where.join(' AND ')} ORDER BY ${keyList} LIMIT ${Math.floor(batchSize)}`,
        params,
      );
      if (rows.length === 0) break;
      for (const row of rows) await resealRow(db, keys, spec, row, total);
      after = spec.key.map((k) => rows[rows.length - 1]![k]);
      await options.saveCheckpoint?.({ table: spec.table, after: encodeKey(after) });
      log(
        `${spec.table}: ${total.resealed} re-sealed, ${total.misplaced} misplaced, ${total.unreadable} unreadable so far`,
      );
      if (rows.length < batchSize) break;
    }
    log(
      `${spec.table}: done (${total.resealed} re-sealed, ${total.misplaced} misplaced, ${total.unreadable} unreadable)`,
    );
  }
  return counts;
}

async function resealRow(db: ResealDb, keys: KeyProvider, spec: TableSpec, row: Row, total: ResealCounts) {
  const old = row[spec.column] as Buffer;
  let plaintext: Buffer;
  try {
    const opened = await openSealed(old, keys);
    if (opened.version !== 1) return;
    plaintext = opened.plaintext;
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err; // a key-source outage stops the pass (resumable)
    total.unreadable++;
    return;
  }
  if (!(await spec.belongs(row, plaintext, keys))) {
    total.misplaced++;
    return;
  }
  const sealed = await sealBuffer(plaintext, keys, sealedKeyInfo(old).dataClass, spec.binding(row));
  const info = sealedKeyInfo(sealed);
  const sets = [`${spec.column} = ?`, ...(spec.kekColumns ? ['kek_id = ?', 'kek_version = ?'] : [])];
  const setParams: unknown[] = [sealed, ...(spec.kekColumns ? [info.kekId, info.kekVersion] : [])];
  await db.query(
    `UPDATE ${spec.table} SET ${sets.join(', ')} WHERE ${spec.key.map((k) => `${k} = ?`).join(' AND ')} AND ${spec.column} = ?`,
    [...setParams, ...spec.key.map((k) => row[k]), old],
  );
  total.resealed++;
}
