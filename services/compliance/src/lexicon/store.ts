import type { DataSource, EntityManager } from 'typeorm';
import type {
  LexiconDiffReply,
  LexiconEntry,
  LexiconEntryListReply,
  LexiconEntryQuery,
  LexiconImportReply,
  LexiconVersionListReply,
  LexiconVersionStatus,
  LexiconVersionView,
} from '@cz/contracts';
import { AppError, badRequest, notFound } from '@cz/common';
import { compileLexicon } from '../engine';
import { lexiconDigest, sameEntry } from './canonical';
import { entryProblem } from './validate';

/*
 * The lexicon's versions in the database (tables lexicon_version / lexicon_entry). Published and
 * superseded versions never change; all editing happens in the one draft, which the first edit
 * creates as a copy of the published version. Every change to the draft is one transaction that
 * first locks the draft and published rows (so replicas editing at once queue up) and ends by
 * recomputing the draft's digest and entry count: a reader sees the old draft or the new one,
 * never half an import.
 */

type Queryable = Pick<DataSource, 'query'> | Pick<EntityManager, 'query'>;

interface VersionRow {
  version: number;
  status: LexiconVersionStatus;
  entry_count: number;
  digest: string;
  note: string;
  created_by: string;
  created_at: Date;
  published_by: string | null;
  published_at: Date | null;
}

const VERSION_COLUMNS =
  'version, status, entry_count, digest, note, created_by, created_at, published_by, published_at';

/** the system's own name as an actor (seeding the defaults) */
const SYSTEM_ACTOR = 'system';

function versionView(row: VersionRow): LexiconVersionView {
  return {
    version: Number(row.version),
    status: row.status,
    entryCount: Number(row.entry_count),
    digest: row.digest,
    note: row.note,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    publishedBy: row.published_by,
    publishedAt: row.published_at === null ? null : new Date(row.published_at).toISOString(),
  };
}

const parseBody = (body: unknown): LexiconEntry =>
  (typeof body === 'string' ? JSON.parse(body) : body) as LexiconEntry;

export async function getVersion(db: Queryable, version: number): Promise<LexiconVersionView | undefined> {
  const rows: VersionRow[] = await db.query(
    `SELECT ${VERSION_COLUMNS} FROM lexicon_version WHERE version = ?`,
    [version],
  );
  return rows[0] ? versionView(rows[0]) : undefined;
}

export async function requireVersion(db: Queryable, version: number): Promise<LexiconVersionView> {
  const view = await getVersion(db, version);
  if (!view) throw notFound(`lexicon version ${version} does not exist`);
  return view;
}

/** The version with `status` (published or draft), if any. */
export async function versionWithStatus(
  db: Queryable,
  status: 'published' | 'draft',
): Promise<LexiconVersionView | undefined> {
  const rows: VersionRow[] = await db.query(
    `SELECT ${VERSION_COLUMNS} FROM lexicon_version WHERE status = ? ORDER BY version DESC LIMIT 1`,
    [status],
  );
  return rows[0] ? versionView(rows[0]) : undefined;
}

/** Every entry of `version`, sorted by id. */
export async function loadEntries(db: Queryable, version: number): Promise<LexiconEntry[]> {
  const rows: { body: unknown }[] = await db.query(
    'SELECT body FROM lexicon_entry WHERE version = ? ORDER BY entry_id',
    [version],
  );
  return rows.map((row) => parseBody(row.body));
}

export async function listVersions(db: Queryable): Promise<LexiconVersionListReply> {
  const rows: VersionRow[] = await db.query(
    `SELECT ${VERSION_COLUMNS} FROM lexicon_version ORDER BY version DESC`,
  );
  const items = rows.map(versionView);
  const published = items.find((item) => item.status === 'published')?.version ?? null;
  const draft = items.find((item) => item.status === 'draft')?.version ?? null;
  const byCategory: Record<string, number> = {};
  if (published !== null) {
    const counts: { category: string; n: string | number }[] = await db.query(
      'SELECT category, COUNT(*) AS n FROM lexicon_entry WHERE version = ? GROUP BY category ORDER BY category',
      [published],
    );
    for (const row of counts) byCategory[row.category] = Number(row.n);
  }
  return { items, published, draft, byCategory };
}

/** One page of a version's entries: substring of id, pattern or explanation; category; kind. */
export async function queryEntries(
  db: Queryable,
  version: number,
  query: LexiconEntryQuery,
): Promise<LexiconEntryListReply> {
  const where = ['version = ?'];
  const params: unknown[] = [version];
  if (query.category) {
    where.push('category = ?');
    params.push(query.category);
  }
  if (query.kind) {
    where.push('kind = ?');
    params.push(query.kind);
  }
  const q = query.q?.trim();
  if (q) {
    // LOCATE, not LIKE: % and _ in the search are plain characters
    where.push(
      `(LOCATE(?, CONVERT(entry_id USING utf8mb4)) > 0 OR LOCATE(?, JSON_UNQUOTE(JSON_EXTRACT(body, '$.pattern'))) > 0
        OR LOCATE(?, COALESCE(JSON_UNQUOTE(JSON_EXTRACT(body, '$.near')), '')) > 0
        OR LOCATE(?, JSON_UNQUOTE(JSON_EXTRACT(body, '$.explanation'))) > 0)`,
    );
    params.push(q, q, q, q);
  }
  const clause = where.join(' AND ');
  const counted: { n: string | number }[] = await db.query(
    `SELECT COUNT(*) AS n FROM lexicon_entry WHERE ${clause}`,
    params,
  );
  const count = counted[0];
  const limit = query.limit ?? 100;
  const offset = query.offset ?? 0;
  const rows: { body: unknown }[] = await db.query(
    `SELECT body FROM lexicon_entry WHERE ${clause} ORDER BY entry_id LIMIT ? OFFSET ?`,
    [...params, limit, offset],
  );
  return { version, total: Number(count?.n ?? 0), items: rows.map((row) => parseBody(row.body)) };
}

const isDuplicateKey = (err: unknown) =>
  (err as { code?: string; driverError?: { code?: string } }).code === 'ER_DUP_ENTRY' ||
  (err as { driverError?: { code?: string } }).driverError?.code === 'ER_DUP_ENTRY';

async function insertEntries(tx: Queryable, version: number, entries: readonly LexiconEntry[]) {
  for (let at = 0; at < entries.length; at += 500) {
    const chunk = entries.slice(at, at + 500);
    await tx.query(
      `INSERT INTO lexicon_entry (version, entry_id, kind, category, severity, enabled, body) VALUES ${chunk
        .map(() => '(?, ?, ?, ?, ?, ?, ?)')
        .join(', ')}`,
      chunk.flatMap((entry) => [
        version,
        entry.id,
        entry.kind,
        entry.category,
        entry.severity,
        entry.enabled ? 1 : 0,
        JSON.stringify(entry),
      ]),
    );
  }
}

/**
 * Loads `defaults` as version 1, published by `system`, when the database has no version yet.
 * Replicas starting together race on version 1's primary key: one inserts, the others find it.
 * An entry the contract or the engine refuses is left out (and reported) rather than keeping the
 * service from starting. Returns what this call did.
 */
export async function seedDefaults(
  db: DataSource,
  candidates: readonly LexiconEntry[],
): Promise<{ seeded: number; refused: { id: string; problem: string }[] } | null> {
  const counted: { n: string | number }[] = await db.query('SELECT COUNT(*) AS n FROM lexicon_version');
  if (Number(counted[0]?.n ?? 0) > 0) return null;
  const refused: { id: string; problem: string }[] = [];
  const seen = new Set<string>();
  const defaults: LexiconEntry[] = [];
  for (const entry of candidates) {
    const problem = seen.has(entry.id) ? 'duplicate id' : entryProblem(entry);
    if (problem) refused.push({ id: entry.id, problem });
    else defaults.push(entry);
    seen.add(entry.id);
  }
  const now = new Date();
  try {
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO lexicon_version (${VERSION_COLUMNS}) VALUES (1, 'published', ?, ?, ?, ?, ?, ?, ?)`,
        [
          defaults.length,
          lexiconDigest(defaults),
          'default finance lexicon',
          SYSTEM_ACTOR,
          now,
          SYSTEM_ACTOR,
          now,
        ],
      );
      await insertEntries(tx, 1, defaults);
    });
    return { seeded: defaults.length, refused };
  } catch (err) {
    if (isDuplicateKey(err)) return null;
    throw err;
  }
}

/**
 * Locks the draft and published rows for the rest of `tx` (locking reads see the latest
 * committed rows, so a second editor waits and then finds the first one's draft).
 */
async function lockCurrent(tx: Queryable): Promise<{ draft?: VersionRow; published?: VersionRow }> {
  const rows: VersionRow[] = await tx.query(
    `SELECT ${VERSION_COLUMNS} FROM lexicon_version WHERE status IN ('draft', 'published') ORDER BY version FOR UPDATE`,
  );
  return {
    draft: rows.find((row) => row.status === 'draft'),
    published: rows.find((row) => row.status === 'published'),
  };
}

async function refreshDraftSummary(tx: Queryable, draft: number): Promise<LexiconEntry[]> {
  const entries = await loadEntries(tx, draft);
  await tx.query('UPDATE lexicon_version SET digest = ?, entry_count = ? WHERE version = ?', [
    lexiconDigest(entries),
    entries.length,
    draft,
  ]);
  return entries;
}

/**
 * Runs `change` on the draft in one transaction, creating the draft from the published version
 * first if there is none; then updates the draft's digest and count. A throw rolls everything
 * back, including the draft's creation.
 */
async function changeDraft<T>(
  db: DataSource,
  actor: string,
  change: (tx: EntityManager, draft: number) => Promise<T>,
): Promise<{ result: T; draft: number; created: boolean }> {
  return db.transaction(async (tx) => {
    const current = await lockCurrent(tx);
    let draft = current.draft ? Number(current.draft.version) : undefined;
    let created = false;
    if (draft === undefined) {
      const maxRows: { v: string | number }[] = await tx.query(
        'SELECT COALESCE(MAX(version), 0) AS v FROM lexicon_version',
      );
      const max = maxRows[0];
      draft = Number(max?.v ?? 0) + 1;
      await tx.query(
        `INSERT INTO lexicon_version (${VERSION_COLUMNS}) VALUES (?, 'draft', 0, '', '', ?, ?, NULL, NULL)`,
        [draft, actor, new Date()],
      );
      if (current.published) {
        await tx.query(
          `INSERT INTO lexicon_entry (version, entry_id, kind, category, severity, enabled, body)
           SELECT ?, entry_id, kind, category, severity, enabled, body FROM lexicon_entry WHERE version = ?`,
          [draft, current.published.version],
        );
      }
      created = true;
    }
    const result = await change(tx, draft);
    await refreshDraftSummary(tx, draft);
    return { result, draft, created };
  });
}

async function draftEntry(tx: Queryable, draft: number, id: string): Promise<LexiconEntry | undefined> {
  const rows: { body: unknown }[] = await tx.query(
    'SELECT body FROM lexicon_entry WHERE version = ? AND entry_id = ? FOR UPDATE',
    [draft, id],
  );
  return rows[0] ? parseBody(rows[0].body) : undefined;
}

async function upsertEntry(tx: Queryable, draft: number, entry: LexiconEntry, exists: boolean) {
  if (exists) {
    await tx.query(
      'UPDATE lexicon_entry SET kind = ?, category = ?, severity = ?, enabled = ?, body = ? WHERE version = ? AND entry_id = ?',
      [
        entry.kind,
        entry.category,
        entry.severity,
        entry.enabled ? 1 : 0,
        JSON.stringify(entry),
        draft,
        entry.id,
      ],
    );
  } else {
    await insertEntries(tx, draft, [entry]);
  }
}

/** Throws 400 `invalid_entry` with the reason unless `entry` may be saved. */
function assertValidEntry(entry: unknown): asserts entry is LexiconEntry {
  const problem = entryProblem(entry);
  if (problem) throw badRequest('invalid_entry', problem);
}

/** Adds or replaces one entry of the draft. */
export async function saveDraftEntry(
  db: DataSource,
  actor: string,
  entry: LexiconEntry,
): Promise<{ draft: number; created: boolean; before: LexiconEntry | null }> {
  assertValidEntry(entry);
  const { result, draft } = await changeDraft(db, actor, async (tx, draft) => {
    const before = await draftEntry(tx, draft, entry.id);
    await upsertEntry(tx, draft, entry, before !== undefined);
    return before ?? null;
  });
  return { draft, created: result === null, before: result };
}

/** Removes one entry from the draft (404 when the draft, or the published version it copies, lacks it). */
export async function deleteDraftEntry(
  db: DataSource,
  actor: string,
  id: string,
): Promise<{ draft: number; removed: LexiconEntry }> {
  const { result, draft } = await changeDraft(db, actor, async (tx, draft) => {
    const before = await draftEntry(tx, draft, id);
    if (!before) throw notFound(`the draft has no entry ${id}`);
    await tx.query('DELETE FROM lexicon_entry WHERE version = ? AND entry_id = ?', [draft, id]);
    return before;
  });
  return { draft, removed: result };
}

/**
 * Applies already validated entries to the draft: `merge` adds or replaces them, `replace` makes
 * the draft exactly them. All or nothing (one transaction).
 */
export async function importIntoDraft(
  db: DataSource,
  actor: string,
  entries: readonly LexiconEntry[],
  mode: 'merge' | 'replace',
): Promise<LexiconImportReply & { draft: number }> {
  const { result, draft } = await changeDraft(db, actor, async (tx, draft) => {
    const current = new Map((await loadEntries(tx, draft)).map((entry) => [entry.id, entry]));
    const incoming = new Set(entries.map((entry) => entry.id));
    let added = 0;
    let changed = 0;
    let removed = 0;
    const toInsert: LexiconEntry[] = [];
    for (const entry of entries) {
      const before = current.get(entry.id);
      if (!before) {
        added++;
        toInsert.push(entry);
      } else if (!sameEntry(before, entry)) {
        changed++;
        await upsertEntry(tx, draft, entry, true);
      }
    }
    await insertEntries(tx, draft, toInsert);
    if (mode === 'replace') {
      const gone = [...current.keys()].filter((id) => !incoming.has(id));
      for (let at = 0; at < gone.length; at += 500) {
        const chunk = gone.slice(at, at + 500);
        await tx.query(
          `DELETE FROM lexicon_entry WHERE version = ? AND entry_id IN (${chunk.map(() => '?').join(', ')})`,
          [draft, ...chunk],
        );
      }
      removed = gone.length;
    }
    return { applied: entries.length, added, changed, removed, errors: [] };
  });
  return { ...result, draft };
}

/** Drops the draft and its entries; returns its number, null when there was none. */
export async function discardDraft(db: DataSource): Promise<number | null> {
  return db.transaction(async (tx) => {
    const { draft } = await lockCurrent(tx);
    if (!draft) return null;
    await tx.query('DELETE FROM lexicon_entry WHERE version = ?', [draft.version]);
    await tx.query("DELETE FROM lexicon_version WHERE version = ? AND status = 'draft'", [draft.version]);
    return Number(draft.version);
  });
}

/**
 * The draft becomes the published version and the published one superseded, in one transaction;
 * `withinPublish` runs in the same transaction (a retroactive scan queued with the publication).
 * The draft must compile and have at least one enabled entry that can raise an alert.
 */
export async function publishDraft<T>(
  db: DataSource,
  actor: string,
  note: string,
  withinPublish?: (tx: EntityManager, version: number) => Promise<T>,
): Promise<{ view: LexiconVersionView; previous: number | null; extra: T | undefined }> {
  return db.transaction(async (tx) => {
    const { draft, published } = await lockCurrent(tx);
    if (!draft) throw notFound('there is no draft to publish (edit or import entries first)');
    const version = Number(draft.version);
    const entries = await loadEntries(tx, version);
    if (!entries.some((entry) => entry.enabled && entry.kind !== 'allow')) {
      throw badRequest('empty_lexicon', 'the draft has no enabled entry that can raise an alert');
    }
    try {
      compileLexicon(entries, version);
    } catch (err) {
      throw badRequest('compile_failed', `the draft does not compile: ${(err as Error).message}`);
    }
    const now = new Date();
    if (published) {
      await tx.query("UPDATE lexicon_version SET status = 'superseded' WHERE version = ?", [
        published.version,
      ]);
    }
    await tx.query(
      "UPDATE lexicon_version SET status = 'published', note = ?, digest = ?, entry_count = ?, published_by = ?, published_at = ? WHERE version = ?",
      [note, lexiconDigest(entries), entries.length, actor, now, version],
    );
    const extra = withinPublish ? await withinPublish(tx, version) : undefined;
    const view = await getVersion(tx, version);
    if (!view) throw new AppError(500, 'internal_error', 'published version vanished');
    return { view, previous: published ? Number(published.version) : null, extra };
  });
}

/** What changed from version `from` to version `to` (either may be the draft). */
export async function diffVersions(db: Queryable, from: number, to: number): Promise<LexiconDiffReply> {
  await requireVersion(db, from);
  await requireVersion(db, to);
  const before = new Map((await loadEntries(db, from)).map((entry) => [entry.id, entry]));
  const after = await loadEntries(db, to);
  const reply: LexiconDiffReply = { from, to, added: [], removed: [], changed: [] };
  for (const entry of after) {
    const old = before.get(entry.id);
    if (!old) reply.added.push(entry);
    else if (!sameEntry(old, entry)) reply.changed.push({ before: old, after: entry });
    before.delete(entry.id);
  }
  reply.removed = [...before.values()];
  return reply;
}
