import fp from 'fastify-plugin';
import { notFound } from '@cz/common';
import { compileLexicon, type CompiledLexicon } from '../../engine';
import { DEFAULT_LEXICON } from '../../lexicon/default-lexicon';
import { lexiconDefaults, type LexiconSettings } from '../../lexicon/settings';
import { getVersion, loadEntries, seedDefaults, versionWithStatus } from '../../lexicon/store';

/** The compiled lexicon as the rest of the service uses it (live scan, rescans, tester). */
export interface LexiconRuntime {
  /** the live version, compiled; null only before the first load */
  published(): CompiledLexicon | null;
  /** any version (published and superseded ones cached in a small LRU; the draft by its digest) */
  compiled(version: number): Promise<CompiledLexicon>;
  /** the draft compiled, or null when there is none */
  draft(): Promise<CompiledLexicon | null>;
  /** looks for a newly published version now (after a publication on this replica) */
  refresh(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    lexicon: LexiconRuntime;
  }
}

/**
 * The lexicon store at run time: on start-up the defaults become version 1 if the database has no
 * version; then the published version is compiled and swapped in whole, and every `refreshMs` the
 * replica asks which version is published, so a publication on any replica reaches all within
 * seconds. Versions other than the published one are compiled on demand: superseded ones never
 * change (LRU by number), the draft changes with every edit (cached by its digest).
 */
export default fp<{ settings: Partial<LexiconSettings> }>(
  async (app, options) => {
    const settings: LexiconSettings = { ...lexiconDefaults, ...options.settings };
    let live: { compiled: CompiledLexicon; digest: string } | null = null;
    let draftCache: { key: string; compiled: CompiledLexicon } | null = null;
    const older = new Map<number, CompiledLexicon>();
    const inflight = new Map<string, Promise<CompiledLexicon>>();

    /** one compilation per key at a time, however many callers ask */
    const once = (key: string, make: () => Promise<CompiledLexicon>): Promise<CompiledLexicon> => {
      let pending = inflight.get(key);
      if (!pending) {
        pending = make().finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      return pending;
    };

    const compileVersion = async (version: number) =>
      compileLexicon(await loadEntries(app.db, version), version);

    const refresh = async () => {
      const published = await versionWithStatus(app.db, 'published');
      if (!published) return;
      if (live && live.compiled.version === published.version && live.digest === published.digest) return;
      const started = Date.now();
      // a draft just published here was compiled for the tester already: same entries, same digest
      const fromDraft =
        draftCache?.key === `d${published.version}:${published.digest}` ? draftCache.compiled : null;
      const compiled =
        fromDraft ?? (await once(`v${published.version}`, () => compileVersion(published.version)));
      if (fromDraft) draftCache = null;
      // versions only grow: a slower, older refresh never replaces a newer one
      if (live && live.compiled.version > published.version) return;
      const previous = live;
      live = { compiled, digest: published.digest };
      app.log.info(
        { version: published.version, entries: compiled.size, ms: Date.now() - started },
        'lexicon version in use',
      );
      // the version it replaces may still serve a retroactive scan
      if (previous) remember(previous.compiled);
    };

    const remember = (compiled: CompiledLexicon) => {
      older.delete(compiled.version);
      older.set(compiled.version, compiled);
      while (older.size > settings.compiledCacheSize) {
        const oldest = older.keys().next().value;
        if (oldest === undefined) break;
        older.delete(oldest);
      }
    };

    const draft = async (): Promise<CompiledLexicon | null> => {
      const view = await versionWithStatus(app.db, 'draft');
      if (!view) {
        // published or discarded: its compiled form is no longer needed
        draftCache = null;
        return null;
      }
      const key = `d${view.version}:${view.digest}`;
      if (draftCache?.key === key) return draftCache.compiled;
      const compiled = await once(key, () => compileVersion(view.version));
      draftCache = { key, compiled };
      return compiled;
    };

    const compiled = async (version: number): Promise<CompiledLexicon> => {
      if (live?.compiled.version === version) return live.compiled;
      const cached = older.get(version);
      if (cached) {
        remember(cached);
        return cached;
      }
      const view = await getVersion(app.db, version);
      if (!view) throw notFound(`lexicon version ${version} does not exist`);
      if (view.status === 'draft') {
        const current = await draft();
        if (current?.version === version) return current;
        throw notFound(`lexicon version ${version} does not exist`);
      }
      const made = await once(`v${version}`, () => compileVersion(version));
      remember(made);
      return made;
    };

    const seeded = await seedDefaults(app.db, DEFAULT_LEXICON);
    if (seeded) {
      app.log.info({ entries: seeded.seeded }, 'default lexicon loaded as version 1');
      if (seeded.refused.length > 0)
        app.log.error(
          { refused: seeded.refused },
          'default lexicon entries refused by the validator, left out',
        );
    }
    await refresh();

    let timer: NodeJS.Timeout | undefined;
    let closing = false;
    const tick = () => {
      timer = setTimeout(() => {
        refresh()
          .catch((err: unknown) =>
            app.log.warn({ err }, 'lexicon refresh failed; the previous version stays in use'),
          )
          .finally(() => {
            if (!closing) tick();
          });
      }, settings.refreshMs);
      timer.unref();
    };
    tick();
    app.addHook('onClose', async () => {
      closing = true;
      if (timer) clearTimeout(timer);
    });

    app.decorate('lexicon', {
      published: () => live?.compiled ?? null,
      compiled,
      draft,
      refresh,
    } satisfies LexiconRuntime);
  },
  { name: 'compliance-lexicon', dependencies: ['cz-database'] },
);
