import type { LexiconEntry, LexiconHit } from '@cz/contracts';
import type { CompiledLexicon, EntryValidator, LexiconCompiler } from './types';

export type { CompiledLexicon, EntryValidator, LexiconCompiler } from './types';

// PLACEHOLDER (replaced by the engine work of issue 11): exact substring matching only, so that
// the service can be wired before the engine lands. Not the product's engine.
export const compileLexicon: LexiconCompiler = (entries, version) => {
  const terms = entries.filter((e) => e.enabled && e.kind === 'term');
  return {
    version,
    size: terms.length,
    scan(text: string): LexiconHit[] {
      const hits: LexiconHit[] = [];
      for (const e of terms) {
        let at = text.indexOf(e.pattern);
        while (at >= 0) {
          hits.push({
            term: e.pattern,
            category: e.category,
            severity: e.severity,
            start: at,
            end: at + e.pattern.length,
            ruleId: e.id,
            via: 'exact',
            explanation: e.explanation,
            reg: e.reg,
          });
          at = text.indexOf(e.pattern, at + 1);
        }
      }
      return hits.sort((a, b) => a.start - b.start);
    },
  };
};

export const validateEntry: EntryValidator = (entry: LexiconEntry) =>
  entry.kind === 'proximity' && (entry.near === undefined || entry.within === undefined)
    ? 'a proximity entry needs `near` and `within`'
    : null;
