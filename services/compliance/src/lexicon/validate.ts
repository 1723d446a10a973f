import { Value } from '@sinclair/typebox/value';
import { LexiconEntry } from '@cz/contracts';
import { validateEntry } from '../engine';

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
  try {
    return validateEntry(entry);
  } catch (err) {
    // an engine that throws on an entry has rejected it too
    return err instanceof Error ? err.message : 'rejected by the engine';
  }
}
