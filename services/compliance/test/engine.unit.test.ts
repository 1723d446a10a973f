import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { LexiconEntry } from '@cz/contracts';
import { compileLexicon, validateEntry } from '../src/engine';
import { seededRandom } from '@cz/testkit';

/** An ad-hoc entry: one rule at a time, so each test shows one rule type. */
function entry(
  id: string,
  kind: LexiconEntry['kind'],
  pattern: string,
  extra: Partial<LexiconEntry> = {},
): LexiconEntry {
  return {
    id,
    kind,
    pattern,
    category: 'guaranteed_return',
    severity: 'critical',
    explanation: '测试词条',
    reg: ['REG-03'],
    enabled: true,
    ...extra,
  };
}

const covered = (text: string, entries: LexiconEntry[]) =>
  compileLexicon(entries, 0)
    .scan(text)
    .map((h) => `${h.ruleId}:${text.slice(h.start, h.end)}`);

describe('rule types', () => {
  it('[REG-03] term: matched in the normalised text, reported on the original characters', () => {
    const entries = [entry('t-1', 'term', '加微信', { category: 'outside_platform' })];
    assert.deepEqual(covered('请加 微 信', entries), ['t-1:加 微 信']);
    assert.deepEqual(covered('加-微-信，加😀微😀信', entries), ['t-1:加-微-信', 't-1:加😀微😀信']);
    assert.deepEqual(covered('微信加我', entries), []);
  });

  it('[REG-03] term with pinyin: full pinyin and initials as whole words only; pinyin: false turns it off', () => {
    const entries = [entry('t-1', 'term', '保本理财')];
    assert.deepEqual(covered('baoben licai, bblc, bb理财', entries), [
      't-1:baoben licai',
      't-1:bblc',
      't-1:bb理财',
    ]);
    assert.deepEqual(covered('bbl cabbblcx baobenlicaix', entries), []);
    assert.deepEqual(covered('baobenlicai', [entry('t-1', 'term', '保本理财', { pinyin: false })]), []);
  });

  it('[REG-03] regex: runs on the normalised view, numbers only as whole numbers', () => {
    const entries = [entry('r-1', 'regex', '1[3-9][0-9]{9}', { category: 'personal_data', reg: ['REG-04'] })];
    assert.deepEqual(covered('电话 138-1234-5678 找我', entries), ['r-1:138-1234-5678']);
    assert.deepEqual(covered('单号 913812345678', entries), [], 'not inside a longer number');
    assert.deepEqual(covered('一三八一二三四五六七八', entries), ['r-1:一三八一二三四五六七八']);
  });

  it('[REG-04] regex: gated patterns (a literal start, digits in a row) and ungated ones (alternation) all match', () => {
    const entries = [
      entry('r-1', 'regex', '年化[0-9]{1,2}%'),
      entry('r-2', 'regex', '[0-9]{6}(19|20)[0-9]{9}[0-9x]', { category: 'personal_data', reg: ['REG-04'] }),
      entry('r-3', 'regex', 'cvv[0-9]{3}|安全码[0-9]{3}', { category: 'personal_data', reg: ['REG-04'] }),
    ];
    assert.deepEqual(covered('年化 12%，身份证 11010119900307451X，CVV 123', entries), [
      'r-1:年化 12%',
      'r-2:11010119900307451X',
      'r-3:CVV 123',
    ]);
    assert.deepEqual(covered('年 化 3.5%，1101011990', entries), []);
  });

  it('[REG-03] proximity: both phrases within N characters, either order', () => {
    const entries = [entry('p-1', 'proximity', '保证', { near: '收益', within: 5 })];
    assert.deepEqual(covered('我保证你的收益', entries), ['p-1:保证你的收益']);
    assert.deepEqual(covered('收益方面我保证', entries), ['p-1:收益方面我保证']);
    assert.deepEqual(covered('我保证今天下午三点之前把收益表发给您', entries), [], 'too far apart');
  });

  it('[REG-03] allow: a hit inside an allow phrase is dropped, outside it is not', () => {
    const entries = [entry('t-1', 'term', '保本'), entry('a-1', 'allow', '保本点')];
    assert.deepEqual(covered('计算保本点', entries), []);
    assert.deepEqual(covered('计算保本点，而且保本', entries), ['t-1:保本']);
  });

  it('[REG-03] negation: a cue just before drops a hit (不保本, 请勿私下转账, 我们不收取任何加急费) unless negatable: false', () => {
    const entries = [
      entry('t-1', 'term', '保本'),
      entry('t-2', 'term', '私下转账', { category: 'private_dealing' }),
      entry('t-3', 'term', '加急费', { category: 'private_dealing' }),
    ];
    assert.deepEqual(covered('不保本。请勿私下转账。我们不收取任何加急费。', entries), []);
    assert.deepEqual(covered('不过保本', entries), ['t-1:保本'], '不过 is not a negation of what follows');
    assert.deepEqual(covered('不会吧，保本的', entries), ['t-1:保本'], 'a clause break ends the negation');
    assert.deepEqual(covered('不保本', [entry('t-1', 'term', '保本', { negatable: false })]), ['t-1:保本']);
  });

  it('disabled entries are not compiled', () => {
    assert.deepEqual(covered('保本', [entry('t-1', 'term', '保本', { enabled: false })]), []);
  });
});

describe('offsets map back to the original text', () => {
  const entries = [
    entry('t-1', 'term', '稳赚不赔'),
    entry('t-2', 'term', 'qq群', { category: 'outside_platform' }),
  ];

  it('across emoji (surrogate pairs) before and inside the hit', () => {
    const text = '😀😀稳😀赚不赔😀';
    const [hit] = compileLexicon(entries, 0).scan(text);
    assert.deepEqual([hit!.start, hit!.end], [4, 10]);
    assert.equal(text.slice(hit!.start, hit!.end), '稳😀赚不赔');
  });

  it('across full-width letters and traditional script', () => {
    const text = 'ａ　ＱＱ群，穩賺不賠';
    assert.deepEqual(covered(text, entries), ['t-2:ＱＱ群', 't-1:穩賺不賠']);
  });

  it('across characters NFKC folds (①, math letters) and combining marks', () => {
    const text = '𝐪𝐪群 and 稳\u0301赚不赔';
    assert.deepEqual(covered(text, entries), ['t-2:𝐪𝐪群', 't-1:稳\u0301赚不赔']);
  });
});

describe('bad input', () => {
  const lexicon = compileLexicon(
    [entry('t-1', 'term', '保本保息'), entry('r-1', 'regex', '1[3-9][0-9]{9}')],
    0,
  );

  it('empty text: no hits', () => {
    assert.deepEqual(lexicon.scan(''), []);
    assert.deepEqual(lexicon.scan('   \n\t 😀'), []);
  });

  it('a 1 MB text is scanned in bounded time and hits stay bounded', () => {
    const random = seededRandom(7);
    const words = ['您好', '账单', '还款', '利率', '理财', '，', '。', ' ', 'ok'];
    let text = '';
    while (text.length < 1_000_000) text += words[Math.floor(random() * words.length)];
    text += '保本保息';
    let started = performance.now();
    const hits = lexicon.scan(text);
    assert.ok(performance.now() - started < 5000, 'seconds, not minutes');
    assert.deepEqual(
      hits.map((h) => text.slice(h.start, h.end)),
      ['保本保息'],
    );
    const flooded = '保本保息'.repeat(250_000);
    started = performance.now();
    const many = lexicon.scan(flooded);
    assert.ok(performance.now() - started < 5000);
    assert.ok(many.length <= 100, `${many.length} hits for one rule`);
  });

  it('binary-looking text (random bytes, NUL, lone surrogates) is scanned without error', () => {
    const bytes = randomBytes(1 << 20);
    const started = performance.now();
    assert.ok(Array.isArray(lexicon.scan(bytes.toString('latin1'))));
    assert.ok(Array.isArray(lexicon.scan(bytes.toString('utf8'))));
    assert.ok(Array.isArray(lexicon.scan('\u0000\ud800保\udc00本保\u0000息\ud83d')));
    assert.ok(performance.now() - started < 10_000);
  });

  it('an invalid regular expression is rejected at save time with the reason', () => {
    assert.match(validateEntry(entry('r-1', 'regex', '([0-9]'))!, /invalid regular expression/);
    assert.match(validateEntry(entry('r-1', 'regex', '(a)\\1'))!, /back-references/);
    assert.match(validateEntry(entry('r-1', 'regex', '(?<=a)b'))!, /look-ahead and look-behind/);
    assert.match(validateEntry(entry('r-1', 'regex', 'a|'))!, /matches the empty text/);
    assert.match(validateEntry(entry('r-1', 'regex', '[0-9]{20}'))!, /counted repetition above 16/);
    assert.match(validateEntry(entry('p-1', 'proximity', '保证'))!, /needs `near` and `within`/);
    assert.match(validateEntry(entry('t-1', 'term', ' ，。😀'))!, /no letters or digits/);
    assert.equal(validateEntry(entry('r-1', 'regex', '年化(收益率?)?[0-9]{1,2}%')), null);
  });

  it('a catastrophic regular expression is rejected at save time', () => {
    for (const pattern of ['(a+)+$', '(\\d*)*x', '([a-z]+)*@', '(x+x+)+y']) {
      assert.match(validateEntry(entry('r-1', 'regex', pattern))!, /nested unbounded quantifiers/, pattern);
    }
  });

  it('matching time is bounded even for an accepted polynomial pattern on a pathological input', () => {
    const pattern = '[0-9]*[0-9]*[0-9]*x';
    assert.equal(validateEntry(entry('r-1', 'regex', pattern)), null);
    const slow = compileLexicon([entry('r-1', 'regex', pattern)], 0);
    const started = performance.now();
    assert.deepEqual(slow.scan('1'.repeat(200_000)), []);
    assert.ok(performance.now() - started < 5000, `${performance.now() - started} ms`);
  });
});
