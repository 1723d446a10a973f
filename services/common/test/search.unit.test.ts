import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_TOKEN_CHARS,
  QueryError,
  canonicalText,
  indexTokens,
  parseQuery,
  phraseOccursIn,
  phraseTokens,
  selectLookupTokens,
  textMatches,
} from '../src/search';

const matches = (query: string, text: string) => textMatches(parseQuery(query), canonicalText(text));

describe('search text: canonical form', () => {
  test('NFKC folds full-width forms and lower-cases Latin', () => {
    assert.equal(canonicalText('ＥＴＦ基金１５只'), 'etf基金15只');
    assert.equal(canonicalText('保本，保息'), '保本,保息');
  });

  test('whitespace only survives between two letters or two digits', () => {
    assert.equal(canonicalText('  iPhone 15  Pro '), 'iphone15pro');
    assert.equal(canonicalText('hello   world'), 'hello world');
    assert.equal(canonicalText('保 本\u3000保息'), '保本保息');
    assert.equal(canonicalText('1 000 000'), '1 000 000');
    assert.equal(canonicalText('ETF 基金'), 'etf基金');
  });
});

describe('search text: tokens', () => {
  test('CJK unigrams and bigrams, words, digit runs; punctuation breaks runs', () => {
    assert.deepEqual(new Set(indexTokens('保本，保息')), new Set(['保', '本', '保本', '息', '保息']));
    assert.deepEqual(
      new Set(indexTokens('买iPhone15送ETF基金')),
      new Set(['买', 'iphone', '15', '送', 'etf', '基', '金', '基金']),
    );
    assert.ok(!indexTokens('保本，保息').includes('本保'), 'no bigram across punctuation');
  });

  test('every token of a phrase is an index token of any text containing it', () => {
    const text = '客户说：这个ETF基金保本保息吗？我想买iPhone 15，预算8000元。';
    const index = new Set(indexTokens(text));
    for (const phrase of ['ETF基金', '保本保息', 'iPhone 15', '8000元', '买', '吗']) {
      for (const token of phraseTokens(canonicalText(phrase)))
        assert.ok(index.has(token), `${phrase}: ${token}`);
    }
  });

  test('a one-character phrase looks up the character itself', () => {
    assert.deepEqual(phraseTokens(canonicalText('保')), ['保']);
    assert.deepEqual(phraseTokens(canonicalText('A股')), ['a', '股']);
  });

  test('long words and numbers are cut to the same length in index and query', () => {
    const long = 'x'.repeat(MAX_TOKEN_CHARS + 10);
    assert.deepEqual(indexTokens(long), ['x'.repeat(MAX_TOKEN_CHARS)]);
    assert.deepEqual(phraseTokens(long), ['x'.repeat(MAX_TOKEN_CHARS)]);
  });

  test('astral CJK characters (extension B) are tokens too', () => {
    assert.deepEqual(new Set(indexTokens('𠀋𠀌')), new Set(['𠀋', '𠀌', '𠀋𠀌']));
  });
});

describe('search text: exact phrase check', () => {
  test('punctuation in the text breaks a phrase; the same punctuation in the query matches it', () => {
    assert.equal(matches('保本保息', '我们保本，保息'), false);
    assert.equal(matches('保本，保息', '我们保本，保息'), true);
    assert.equal(matches('"保本,保息"', '我们保本，保息'), true);
    assert.equal(matches('保本保息', '我们保本保息'), true);
    assert.equal(matches('保本保息', '我们 保本 保 息'), true, 'whitespace between CJK is insignificant');
  });

  test('Latin words and digit runs match whole words only; CJK matches anywhere', () => {
    assert.equal(phraseOccursIn(canonicalText('Netflix ETF'), 'etf'), true);
    assert.equal(phraseOccursIn(canonicalText('Netflix'), 'etf'), false);
    assert.equal(phraseOccursIn(canonicalText('netf etf'), 'etf'), true, 'a later occurrence counts');
    assert.equal(phraseOccursIn(canonicalText('收益150元'), '15'), false);
    assert.equal(phraseOccursIn(canonicalText('收益15元'), '15'), true);
    assert.equal(phraseOccursIn(canonicalText('ETF基金'), 'etf'), true);
    assert.equal(phraseOccursIn(canonicalText('保本理财'), '本理'), true);
  });

  test('mixed Chinese/English phrases', () => {
    assert.equal(matches('ETF基金', '推荐一只ETF 基金'), true);
    assert.equal(matches('"iPhone 15"', '送iPhone15一台'), true);
    assert.equal(matches('"iPhone 15"', '送iPhone 150一台'), false);
    assert.equal(matches('"iPhone 15"', '送iPhone 14和15'), false);
  });
});

describe('search query language', () => {
  test('AND, OR, exclusion, quotes', () => {
    const q = parseQuery('保本 OR 保息 稳赚 -"试用 期" AND 理财');
    assert.deepEqual(
      q.clauses.map((c) => c.map((p) => p.canonical)),
      [['保本', '保息'], ['稳赚'], ['理财']],
    );
    assert.deepEqual(
      q.exclude.map((p) => p.canonical),
      ['试用期'],
    );
    assert.equal(matches('保本 OR 保息 稳赚', '保息稳赚'), true);
    assert.equal(matches('保本 OR 保息 稳赚', '保息'), false);
    assert.equal(matches('理财 -保险', '理财和保险'), false);
    assert.equal(matches('理财 -保险', '理财和保单'), true);
  });

  test('bad input: empty, punctuation only, too long, too many terms', () => {
    const code = (q: string) => {
      try {
        parseQuery(q);
        return 'ok';
      } catch (err) {
        assert.ok(err instanceof QueryError);
        return err.code;
      }
    };
    assert.equal(code(''), 'empty_query');
    assert.equal(code('   '), 'empty_query');
    assert.equal(code('，。！？…'), 'no_searchable_terms');
    assert.equal(code('"，" ！'), 'no_searchable_terms');
    assert.equal(code('保'.repeat(10000)), 'query_too_long');
    assert.equal(code(Array.from({ length: 21 }, (_, i) => `w${i}`).join(' ')), 'too_many_terms');
    assert.equal(code('保本 ，'), 'ok');
    assert.deepEqual(parseQuery('保本 ，').ignored, ['，']);
  });

  test('a long phrase is looked up by a bounded subset of its tokens, still matched exactly', () => {
    const phrase = '这是一个很长很长的关于保本保息理财产品的说明文字';
    const q = parseQuery(phrase);
    assert.ok(q.clauses[0]![0]!.tokens.length <= 6);
    assert.equal(matches(phrase, `前言${phrase}后记`), true);
    assert.equal(matches(phrase, phrase.slice(0, -1)), false);
    assert.deepEqual(selectLookupTokens(['a', 'b']), ['a', 'b']);
  });
});
