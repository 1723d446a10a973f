import { Value } from '@sinclair/typebox/value';
import safeRegex from 'safe-regex2';
import { LexiconEntry } from '@cz/contracts';
import { validateEntry } from '../engine';

/** back-references and look-around are outside the contract's regex dialect */
const OUTSIDE_DIALECT = /\\[1-9]|\\k<|\(\?<?[=!]/;

/** The store's own regex checks, after the engine's: a saved expression compiles and runs in bounded time. */
function regexProblem(pattern: string): string | null {
  try {
    new RegExp(pattern);
  } catch (err) {
    return `invalid regular expression: ${(err as Error).message}`;
  }
  if (OUTSIDE_DIALECT.test(pattern))
    return 'back-references and look-around are not allowed in a lexicon regex';
  if (!safeRegex(pattern, { limit: 25 }))
    return 'the regular expression could take exponential time (nested or repeated unbounded quantifiers)';
  return null;
}

/**
 * Why `candidate` cannot be saved as a lexicon entry, or null: first the contract (types, lengths,
 * id and REG patterns, known categories and severities), then the engine's own rules (regex dialect
 * and safety, proximity needs `near` and `within`…).
 */
export function entryProblem(candidate: unknown): string | null {
  const first = Value.Errors(LexiconEntry, candidate).First();
  if (first) {
    const field = first.path.replace(/^\//, '') || 'entry';
    return `${field}: ${first.message}`;
  }
  const entry = candidate as LexiconEntry;
  if (entry.kind !== 'proximity' && (entry.near !== undefined || entry.within !== undefined)) {
    return '`near` and `within` belong to proximity entries only';
  }
  let problem: string | null;
  try {
    problem = validateEntry(entry);
  } catch (err) {
    // an engine that throws on an entry has rejected it too
    problem = err instanceof Error ? err.message : 'rejected by the engine';
  }
  if (problem) return problem;
  return entry.kind === 'regex' ? regexProblem(entry.pattern) : null;
}
