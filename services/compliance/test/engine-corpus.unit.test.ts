import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { LEXICON_CATEGORIES, LexiconEntry } from '@cz/contracts';
import { compileLexicon, validateEntry } from '../src/engine';
import { DEFAULT_LEXICON, defaultLexiconSize } from '../src/lexicon/default-lexicon';
import { EVASIONS, NEGATIONS, NEUTRAL, type CorpusCase } from './corpus/lexicon-corpus';

const lexicon = compileLexicon(DEFAULT_LEXICON, 1);

const PREFIX: Record<string, string> = {
  guaranteed_return: 'gr-',
  private_dealing: 'pd-',
  kickback: 'kb-',
  illegal_lending: 'il-',
  collection_abuse: 'ca-',
  outside_platform: 'op-',
  impersonation: 'im-',
  complaint: 'cp-',
  personal_data: 'pi-',
};

/** What the engine raised for a case: rule id → the original characters it covers. */
function raised(text: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const hit of lexicon.scan(text)) {
    assert.ok(
      !(hit.ruleId in found) || found[hit.ruleId] === text.slice(hit.start, hit.end),
      `${hit.ruleId} twice`,
    );
    found[hit.ruleId] = text.slice(hit.start, hit.end);
  }
  return found;
}

function check(cases: CorpusCase[]): void {
  const wrong = cases
    .map((c) => ({ c, got: raised(c.text) }))
    .filter(({ c, got }) => JSON.stringify(sorted(got)) !== JSON.stringify(sorted(c.hits)))
    .map(
      ({ c, got }) =>
        `${c.name}: ${JSON.stringify(c.text)} expected ${JSON.stringify(c.hits)}, got ${JSON.stringify(got)}`,
    );
  assert.deepEqual(wrong, [], 'misses or false alerts');
}

const sorted = (hits: Record<string, string>) => Object.entries(hits).sort(([a], [b]) => a.localeCompare(b));

describe('default finance lexicon', () => {
  it('[REG-03] has at least 200 enabled entries over every category, each valid with an explanation and REG ids', () => {
    const enabled = DEFAULT_LEXICON.filter((e) => e.enabled);
    assert.ok(enabled.length >= 200, `${enabled.length} entries`);
    const ids = new Set<string>();
    for (const entry of DEFAULT_LEXICON) {
      assert.ok(Value.Check(LexiconEntry, entry), `${entry.id} does not match the contract`);
      assert.equal(validateEntry(entry), null, `${entry.id} is rejected by the engine`);
      assert.ok(!ids.has(entry.id), `${entry.id} twice`);
      ids.add(entry.id);
      assert.ok(
        entry.id.startsWith(PREFIX[entry.category]!),
        `${entry.id} has the prefix of ${entry.category}`,
      );
      assert.ok(entry.explanation.length >= 4, `${entry.id} explains itself`);
      assert.ok(entry.reg.length > 0, `${entry.id} names its REG`);
    }
    const size = defaultLexiconSize();
    for (const category of LEXICON_CATEGORIES.filter((c) => c !== 'custom')) {
      assert.ok((size[category]?.term ?? 0) >= 10, `${category} has terms`);
    }
    assert.ok(enabled.some((e) => e.kind === 'regex') && enabled.some((e) => e.kind === 'proximity'));
    assert.ok(enabled.filter((e) => e.kind === 'allow').length >= 20);
    assert.equal(lexicon.size, enabled.length);
  });

  it('[REG-11] complaint cues carry REG-11, personal data REG-04', () => {
    for (const entry of DEFAULT_LEXICON.filter((e) => e.category === 'complaint'))
      assert.ok(entry.reg.includes('REG-11'));
    for (const entry of DEFAULT_LEXICON.filter((e) => e.category === 'personal_data'))
      assert.ok(entry.reg.includes('REG-04'));
  });
});

describe('acceptance corpus against the default lexicon', () => {
  it('[REG-03] evasion variants (spacing, punctuation, emoji, full width, pinyin, initials, traditional, homophones): zero misses', () => {
    check(EVASIONS);
  });

  it('[REG-03] allow-listed negations (不保本, 不承诺保本, 请勿私下转账, 我们不收取任何加急费): zero alerts', () => {
    check(NEGATIONS);
  });

  it('neutral banking chat and English: zero false alerts', () => {
    check(NEUTRAL);
  });

  it('every hit explains itself: category, severity, explanation, REG ids and how it was found', () => {
    const hits = lexicon.scan('加 薇 信，保本保息，bao ben bao xi');
    assert.deepEqual(
      hits.map((h) => [h.ruleId, h.via, h.category]),
      [
        ['op-001', 'homophone', 'outside_platform'],
        ['gr-001', 'exact', 'guaranteed_return'],
        ['gr-001', 'pinyin', 'guaranteed_return'],
      ],
    );
    for (const hit of hits) {
      assert.ok(hit.explanation.length > 0 && hit.reg.length > 0 && hit.term.length > 0);
      assert.ok(['info', 'warning', 'critical'].includes(hit.severity));
    }
  });
});
