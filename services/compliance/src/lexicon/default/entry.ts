import type { AlertSeverity, LexiconCategory, LexiconEntry } from '@cz/contracts';

/**
 * Entry builders for one category of the default lexicon: the category and the REG ids it serves
 * are said once per file. Ids are stable across versions (a new entry takes the next number at the
 * end of its file, a retired one is disabled, never renumbered).
 */
export function entriesOf(category: LexiconCategory, reg: string[]) {
  const base = { category, reg, enabled: true } as const;
  return {
    term: (
      id: string,
      pattern: string,
      severity: AlertSeverity,
      explanation: string,
      options: { negatable?: boolean } = {},
    ): LexiconEntry => ({
      id,
      kind: 'term',
      pattern,
      severity,
      explanation,
      ...options,
      ...base,
      reg: [...reg],
    }),
    regex: (id: string, pattern: string, severity: AlertSeverity, explanation: string): LexiconEntry => ({
      id,
      kind: 'regex',
      pattern,
      severity,
      explanation,
      ...base,
      reg: [...reg],
    }),
    near: (
      id: string,
      pattern: string,
      near: string,
      within: number,
      severity: AlertSeverity,
      explanation: string,
    ): LexiconEntry => ({
      id,
      kind: 'proximity',
      pattern,
      near,
      within,
      severity,
      explanation,
      ...base,
      reg: [...reg],
    }),
    /** an allow phrase: a hit inside it is not an alert (its severity is never shown) */
    allow: (id: string, pattern: string, explanation: string): LexiconEntry => ({
      id,
      kind: 'allow',
      pattern,
      severity: 'info',
      explanation,
      ...base,
      reg: [...reg],
    }),
  };
}
