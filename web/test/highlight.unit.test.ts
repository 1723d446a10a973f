/**
 * The console's keyword highlighter (src/utils/highlight.ts) and party masking (src/utils/party.ts):
 * pure functions, no browser.
 *
 *   node --import tsx --test web/test/highlight.unit.test.ts
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { highlighter, positivePhrases, splitHighlights } from '../src/utils/highlight';
import { conversationLabel, maskExternalId, partyLabel } from '../src/utils/party';

const marked = (text: string, query: string) =>
  splitHighlights(text, highlighter(query))
    .filter((s) => s.match)
    .map((s) => s.text);

describe('positivePhrases', () => {
  test('reads phrases, OR, AND and exclusions like the search API', () => {
    assert.deepEqual(
      positivePhrases('保本保息 "iPhone 15" 保本 OR 保息 | 理财 AND 基金 -保险 -"试用期" ？？'),
      ['保本保息', 'iPhone 15', '保本', '保息', '理财', '基金'],
    );
    assert.deepEqual(positivePhrases('“稳赚 不赔” 「年化」'), ['稳赚 不赔', '年化']);
    assert.deepEqual(positivePhrases('   '), []);
  });
});

describe('highlighter', () => {
  test('marks a CJK phrase anywhere, across whitespace, never an excluded term', () => {
    assert.deepEqual(marked('这款产品保本 保息，不是保险', '保本保息 -保险'), ['保本 保息']);
    assert.deepEqual(marked('说实话这个产品稳赚不赔，稳赚不赔', '稳赚不赔'), ['稳赚不赔', '稳赚不赔']);
  });

  test('Latin words and digit runs match whole and case-insensitively; CJK is a boundary', () => {
    assert.deepEqual(marked('ETF基金 netflix etf', 'etf'), ['ETF', 'etf']);
    assert.deepEqual(marked('年化 15% 与 150', '15'), ['15']);
    assert.deepEqual(marked('new iPhone15 or iphone 15', '"iPhone 15"'), ['iPhone15', 'iphone 15']);
  });

  test('the longer phrase wins over one of its parts', () => {
    assert.deepEqual(marked('保本保息产品', '保本 OR 保本保息'), ['保本保息']);
  });

  test('regular-expression characters in the query are literal', () => {
    assert.deepEqual(marked('a+b (c) [d] a.b', '"a+b" "(c)" "[d]"'), ['a+b', '(c)', '[d]']);
    assert.deepEqual(marked('a-b axb', 'a-b'), ['a-b']);
  });

  test('no query, punctuation only, or no match leaves the text whole', () => {
    assert.deepEqual(splitHighlights('原文', highlighter(undefined)), [{ text: '原文', match: false }]);
    assert.equal(highlighter('？？ ，'), null);
    assert.deepEqual(splitHighlights('原文', highlighter('保本')), [{ text: '原文', match: false }]);
  });

  test('segments put together give back the text', () => {
    const text = '客户138****1234问：保本吗？答：不保本。';
    const segments = splitHighlights(text, highlighter('保本 138'));
    assert.equal(segments.map((s) => s.text).join(''), text);
    assert.deepEqual(
      segments.filter((s) => s.match).map((s) => s.text),
      ['138', '保本', '保本'],
    );
  });
});

describe('party labels', () => {
  test('customers (external userids) are masked like the portal does, staff are not', () => {
    assert.equal(maskExternalId('wmDemogkjf'), 'wm****jf');
    assert.equal(maskExternalId('wm1234'), 'wm****');
    assert.equal(partyLabel('woAbCdEf12'), 'wo****12');
    assert.equal(partyLabel('zhufang21'), 'zhufang21');
  });

  test('a one-to-one conversation shows both parties, the customer masked; a group its room', () => {
    assert.equal(conversationLabel('p:wmDemogkjf|zhufang21', null), 'wm****jf ↔ zhufang21');
    assert.equal(conversationLabel('r:wrRoom1', 'wrRoom1'), 'wrRoom1');
  });
});
