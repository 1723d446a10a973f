import type { LexiconEntry } from '@cz/contracts';

// PLACEHOLDER until the default finance lexicon lands (issue 11): a handful of entries.
export const DEFAULT_LEXICON: readonly LexiconEntry[] = [
  {
    id: 'gr-001',
    kind: 'term',
    pattern: '保本保息',
    category: 'guaranteed_return',
    severity: 'critical',
    explanation: '承诺保本保息，违反资管新规打破刚性兑付的要求',
    reg: ['REG-03'],
    enabled: true,
  },
];
