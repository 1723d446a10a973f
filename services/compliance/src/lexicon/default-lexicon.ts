import type { LexiconCategory, LexiconEntry } from '@cz/contracts';
import { COLLECTION_ABUSE } from './default/collection-abuse';
import { COMPLAINT } from './default/complaint';
import { GUARANTEED_RETURN } from './default/guaranteed-return';
import { ILLEGAL_LENDING } from './default/illegal-lending';
import { IMPERSONATION } from './default/impersonation';
import { KICKBACK } from './default/kickback';
import { OUTSIDE_PLATFORM } from './default/outside-platform';
import { PERSONAL_DATA } from './default/personal-data';
import { PRIVATE_DEALING } from './default/private-dealing';

/**
 * The default finance lexicon (version 1 when a corp's lexicon is first seeded): terms, regular
 * expressions, proximity rules and allow phrases by category, each with its severity, why it is a
 * problem (zh-CN, shown with every hit) and the requirement it serves. Written from the regulations
 * (REG-03 mis-selling, REG-04 personal data, REG-10 impersonation, REG-11 complaints, REG-13
 * customer-resource theft) and common Chinese financial-conduct rules; one file per category under
 * default/.
 */
export const DEFAULT_LEXICON: readonly LexiconEntry[] = Object.freeze([
  ...GUARANTEED_RETURN,
  ...PRIVATE_DEALING,
  ...KICKBACK,
  ...ILLEGAL_LENDING,
  ...COLLECTION_ABUSE,
  ...OUTSIDE_PLATFORM,
  ...IMPERSONATION,
  ...COMPLAINT,
  ...PERSONAL_DATA,
]);

/** Entries of the default lexicon by category and kind (the README's table, the tests). */
export function defaultLexiconSize(): Record<LexiconCategory, Record<LexiconEntry['kind'], number>> {
  const size = {} as Record<LexiconCategory, Record<LexiconEntry['kind'], number>>;
  for (const entry of DEFAULT_LEXICON) {
    size[entry.category] ??= { term: 0, regex: 0, proximity: 0, allow: 0 };
    size[entry.category][entry.kind]++;
  }
  return size;
}
