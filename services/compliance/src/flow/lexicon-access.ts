import type { FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import type { LexiconEntry } from '@cz/contracts';
import { compileLexicon, type CompiledLexicon } from '../engine';
import { DEFAULT_LEXICON } from '../lexicon/default-lexicon';

/**
 * The lexicon store as the flow uses it (plugins/app/lexicon.ts decorates `lexicon`): the
 * published version compiled, and any version compiled on demand for retroactive scans.
 */
interface LexiconStore {
  published(): CompiledLexicon | null;
  compiled?(version: number): CompiledLexicon | null | Promise<CompiledLexicon | null>;
}

let fallback: CompiledLexicon | undefined;

function store(app: FastifyInstance): LexiconStore | undefined {
  return (app as unknown as { lexicon?: LexiconStore }).lexicon;
}

/**
 * The version live scanning uses: the store's published one (null until the defaults are seeded).
 * Without a store in the app (a test app without it) the default lexicon as version 1.
 */
export function publishedLexicon(app: FastifyInstance): CompiledLexicon | null {
  const lexicon = store(app);
  if (lexicon) return lexicon.published();
  fallback ??= compileLexicon(DEFAULT_LEXICON, 1);
  return fallback;
}

const byVersion = new Map<number, CompiledLexicon>();

/** Any version (retroactive scans): from the store if it offers it, else compiled from `lexicon_entry`. */
export async function lexiconVersion(app: FastifyInstance, version: number): Promise<CompiledLexicon | null> {
  const published = publishedLexicon(app);
  if (published?.version === version) return published;
  const lexicon = store(app);
  if (lexicon?.compiled) return lexicon.compiled(version);
  const cached = byVersion.get(version);
  if (cached) return cached;
  const compiled = await compileStoredVersion(app.db, version);
  if (compiled) byVersion.set(version, compiled);
  return compiled;
}

async function compileStoredVersion(db: DataSource, version: number): Promise<CompiledLexicon | null> {
  const rows = await db.query<{ body: string | LexiconEntry }[]>(
    'SELECT body FROM lexicon_entry WHERE version = ? ORDER BY entry_id',
    [version],
  );
  if (rows.length === 0) return null;
  return compileLexicon(
    rows.map((r) => (typeof r.body === 'string' ? (JSON.parse(r.body) as LexiconEntry) : r.body)),
    version,
  );
}
