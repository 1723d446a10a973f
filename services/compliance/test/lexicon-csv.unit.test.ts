/**
 * The lexicon's CSV (RFC 4180) and digest without a database: quoting, line breaks inside
 * quotes, CRLF and LF, the BOM, per-line errors with the file's own line numbers, and the
 * canonical digest that does not depend on key order or entry order.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LexiconEntry } from '@cz/contracts';
import { entriesFromCsv, entriesToCsv, parseCsv } from '../src/lexicon/csv';
import { canonicalJson, lexiconDigest } from '../src/lexicon/canonical';
import { DEFAULT_LEXICON } from '../src/lexicon/default-lexicon';

const HEADER = 'id,kind,pattern,near,within,category,severity,explanation,reg,pinyin,negatable,enabled';

describe('lexicon CSV', () => {
  test('RFC 4180: quotes, doubled quotes, commas and line breaks inside quotes; CRLF, LF and a BOM', () => {
    const records = parseCsv('\uFEFFa,"b ""q"", c","line1\r\nline2"\r\nx,,z\n\nlast');
    assert.deepEqual(records, [
      { line: 1, fields: ['a', 'b "q", c', 'line1\r\nline2'] },
      { line: 3, fields: ['x', '', 'z'] },
      { line: 5, fields: ['last'] },
    ]);
    assert.throws(() => parseCsv('a,"open'), /not closed/);
    assert.throws(() => parseCsv('a,b"c'), /quote inside an unquoted field/);
  });

  test('the default lexicon survives export → import unchanged (same digest)', () => {
    const csv = entriesToCsv(DEFAULT_LEXICON);
    assert.ok(csv.startsWith(`\uFEFF${HEADER}\r\n`));
    const parsed = entriesFromCsv(csv);
    assert.deepEqual(parsed.errors, []);
    assert.equal(parsed.entries.length, DEFAULT_LEXICON.length);
    assert.equal(lexiconDigest(parsed.entries), lexiconDigest(DEFAULT_LEXICON));
  });

  test('[REG-03] every bad line is reported with its line number (a quoted line break counts)', () => {
    const csv = [
      HEADER,
      'c-1,term,甲词,,,custom,warning,"两行\n说明",REG-03,,,true',
      'c-1,term,乙词,,,custom,warning,说明,REG-03,,,true',
      'c-2,term,丙词,,,nonsense,warning,说明,REG-03,,,true',
      'c-3,term,丁词,,,custom,loud,说明,REG-03,,,true',
      'c-4,regex,"(戊+)+",,,custom,warning,说明,REG-03,,,true',
      'c-5,term,己词,,,custom,warning,说明,REG-03,maybe,,true',
      'c-6,proximity,保证,,,custom,warning,说明,REG-03,,,true',
      'c-7,term,庚词',
      'C 8,term,辛词,,,custom,warning,说明,REG-03,,,true',
    ].join('\n');
    const { errors } = entriesFromCsv(csv);
    const lines = errors.map((e) => e.line);
    assert.deepEqual(lines, [4, 5, 6, 7, 8, 9, 10, 11], JSON.stringify(errors));
    const at = (line: number) => errors.find((e) => e.line === line)!.error;
    assert.match(at(4), /duplicate id "c-1" \(first on line 2\)/);
    assert.match(at(5), /unknown category "nonsense"/);
    assert.match(at(6), /bad severity "loud"/);
    assert.match(at(7), /exponential|nested/);
    assert.match(at(8), /pinyin must be true, false or empty/);
    assert.match(at(9), /near|within/);
    assert.match(at(10), /expected 12 columns, found 3/);
    assert.match(at(11), /^id:/);
  });

  test('header problems and empty files are reported on line 1', () => {
    assert.match(entriesFromCsv('').errors[0]!.error, /empty/);
    assert.match(entriesFromCsv(`${HEADER}\n`).errors[0]!.error, /no entries/);
    assert.match(
      entriesFromCsv('id,kind,pattern,extra\n').errors[0]!.error,
      /missing columns: near.*unknown columns: extra/,
    );
  });

  test('columns may come in any order; empty booleans mean the defaults, empty enabled means on', () => {
    const { entries, errors } = entriesFromCsv(
      'enabled,reg,pattern,kind,id,category,severity,explanation,near,within,pinyin,negatable\n,REG-03;REG-11,投诉你们,term,cp-x,complaint,warning,,,,,\n',
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(entries, [
      {
        id: 'cp-x',
        kind: 'term',
        pattern: '投诉你们',
        category: 'complaint',
        severity: 'warning',
        explanation: '',
        reg: ['REG-03', 'REG-11'],
        enabled: true,
      } satisfies LexiconEntry,
    ]);
  });

  test('the digest is canonical: key order and entry order do not change it, content does', () => {
    const a: LexiconEntry = { ...DEFAULT_LEXICON[0]! };
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as LexiconEntry;
    assert.equal(canonicalJson(a), canonicalJson(reordered));
    const b: LexiconEntry = { ...a, id: 'zz-1' };
    assert.equal(lexiconDigest([a, b]), lexiconDigest([b, reordered]));
    assert.notEqual(lexiconDigest([a, b]), lexiconDigest([a, { ...b, severity: 'info' }]));
    assert.match(lexiconDigest([]), /^[0-9a-f]{64}$/);
  });
});
