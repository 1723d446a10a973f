/**
 * The console's compliance helpers (src/utils/compliance.ts) against the contracts they mirror (the
 * console bundles the contracts as types only), the hit-range splitting and the kind labels of
 * both languages. Pure functions, no browser.
 *
 *   node --import tsx --test web/test/compliance.unit.test.ts
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import {
  ALERT_TRANSITIONS,
  LEXICON_CATEGORIES,
  slaStateOf,
  type AlertAction,
  type ComplianceAlertStatus,
} from '@cz/contracts';
import en from '../src/locales/en';
import zhCN from '../src/locales/zh-CN';
import {
  ACTION_RULES,
  ALERT_STATUSES,
  CATEGORIES,
  durationParts,
  formatRanges,
  parseRanges,
  slaStateAt,
  splitRanges,
} from '../src/utils/compliance';

describe('mirrors of the contracts', () => {
  test('the categories are the lexicon categories, in order', () => {
    assert.deepEqual([...CATEGORIES], [...LEXICON_CATEGORIES]);
  });

  test('the lifecycle is ALERT_TRANSITIONS (from-statuses and notes)', () => {
    for (const [action, rule] of Object.entries(ALERT_TRANSITIONS) as [
      AlertAction,
      (typeof ALERT_TRANSITIONS)[AlertAction],
    ][]) {
      assert.deepEqual([...ACTION_RULES[action].from].sort(), [...rule.from].sort(), action);
      assert.equal(ACTION_RULES[action].noteRequired, rule.noteRequired, action);
    }
    assert.deepEqual(Object.keys(ACTION_RULES).sort(), Object.keys(ALERT_TRANSITIONS).sort());
  });

  test('the live SLA state is slaStateOf at every moment of an alert’s life', () => {
    const raised = Date.parse('2026-12-01T00:00:00Z');
    const due = raised + 4 * 3600_000;
    const statuses: ComplianceAlertStatus[] = [...ALERT_STATUSES];
    for (const status of statuses) {
      for (const now of [raised, raised + 3600_000, due - 3600_000 + 1, due - 1, due, due + 60_000]) {
        assert.equal(
          slaStateAt(status, new Date(due).toISOString(), new Date(raised).toISOString(), now),
          slaStateOf(status, new Date(due), new Date(raised), now),
          `${status} at +${now - raised} ms`,
        );
      }
      assert.equal(slaStateAt(status, null, new Date(raised).toISOString(), raised), 'none');
    }
  });
});

describe('hit ranges', () => {
  test('marks overlapping hits as shared segments and clips to the text', () => {
    const segments = splitRanges('本产品保本保息，稳赚不赔', [
      { start: 3, end: 5, id: 'a' },
      { start: 3, end: 7, id: 'b' },
      { start: 8, end: 40, id: 'c' },
    ]);
    assert.deepEqual(
      segments.map((s) => [s.text, s.ranges.map((r) => r.id).join('')]),
      [
        ['本产品', ''],
        ['保本', 'ab'],
        ['保息', 'b'],
        ['，', ''],
        ['稳赚不赔', 'c'],
      ],
    );
  });

  test('a text without hits, or with empty ones, stays one plain segment', () => {
    assert.deepEqual(splitRanges('abc', []), [{ text: 'abc', ranges: [] }]);
    assert.deepEqual(splitRanges('abc', [{ start: 2, end: 2 }]), [{ text: 'abc', ranges: [] }]);
  });

  test('hl= round-trips and ignores anything malformed', () => {
    assert.equal(
      formatRanges([
        { start: 3, end: 7 },
        { start: 10, end: 12 },
      ]),
      '3-7,10-12',
    );
    assert.deepEqual(parseRanges('3-7,10-12'), [
      { start: 3, end: 7 },
      { start: 10, end: 12 },
    ]);
    assert.deepEqual(parseRanges('x,7-3,1-2,<script>,5-'), [{ start: 1, end: 2 }]);
    assert.deepEqual(parseRanges(undefined), []);
    assert.deepEqual(parseRanges(['1-2']), []);
  });
});

describe('labels', () => {
  test('every category has an alert-kind label in zh-CN and en; the placeholders are gone', () => {
    for (const category of LEXICON_CATEGORIES) {
      assert.ok(zhCN.alerts.kinds.lexicon[category], `zh-CN ${category}`);
      assert.ok(en.alerts.kinds.lexicon[category], `en ${category}`);
    }
    assert.equal(zhCN.alerts.kinds.lexicon.guaranteed_return, '保本保收益承诺');
    assert.equal(zhCN.alerts.kinds.integrity.unreadable, '记录无法解密');
    assert.ok(!('lexicon_hit' in zhCN.alerts.kinds) && !('opening_missing' in zhCN.alerts.kinds));
  });

  test('countdowns show the two largest units', () => {
    assert.deepEqual(durationParts(3 * 3600_000 + 12 * 60_000 + 5000), [
      { unit: 'h', value: 3 },
      { unit: 'm', value: 12 },
    ]);
    assert.deepEqual(durationParts(-(2 * 86_400_000 + 3600_000)), [
      { unit: 'd', value: 2 },
      { unit: 'h', value: 1 },
    ]);
    assert.deepEqual(durationParts(400), [{ unit: 's', value: 0 }]);
  });
});

describe('message keys', () => {
  const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');
  const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => /\.(vue|ts)$/.test(f));

  const lookup = (messages: unknown, key: string): unknown =>
    key
      .split('.')
      .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], messages);

  test('every literal key the console translates exists in zh-CN and en', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const file of files) {
      const code = readFileSync(path.join(src, file), 'utf8');
      for (const match of code.matchAll(/\bt\(\s*'([A-Za-z0-9_.]+)'/g)) {
        const key = match[1]!;
        checked += 1;
        for (const [name, messages] of [
          ['zh-CN', zhCN],
          ['en', en],
        ] as const) {
          if (typeof lookup(messages, key) !== 'string') missing.push(`${name} ${key} (${file})`);
        }
      }
    }
    assert.ok(checked > 300, `found ${checked} keys`);
    assert.deepEqual(missing, []);
  });
});
