import type { LexiconEntry, LexiconHit } from '@cz/contracts';

/**
 * The lexicon engine's public shape (engine/index.ts implements it). Everything else in the service
 * (live scanning, retroactive scans, the tester) goes through these three functions.
 */
export interface CompiledLexicon {
  /** the lexicon version it was compiled from (0 for an ad-hoc set of entries) */
  readonly version: number;
  /** enabled entries compiled (allow entries included) */
  readonly size: number;
  /**
   * Every hit in `text`, in order of `start`; offsets are UTF-16 offsets into `text` itself, `end`
   * exclusive. Allow-listed and negated hits are already dropped. Bounded time for any input.
   */
  scan(text: string): LexiconHit[];
}

/** Why an entry cannot be saved (bad regex, catastrophic regex, proximity without `near`…), or null. */
export type EntryValidator = (entry: LexiconEntry) => string | null;

export type LexiconCompiler = (entries: readonly LexiconEntry[], version: number) => CompiledLexicon;
