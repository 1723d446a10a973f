import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRange } from '../src/http/range';

const SIZE = 1000;

describe('HTTP Range parsing', () => {
  test('no header means the whole object', () => {
    assert.deepEqual(parseRange(undefined, SIZE), { kind: 'none' });
    assert.deepEqual(parseRange('', SIZE), { kind: 'none' });
  });

  test('closed, open and suffix ranges map to [start, end)', () => {
    assert.deepEqual(parseRange('bytes=0-0', SIZE), { kind: 'range', start: 0, end: 1 });
    assert.deepEqual(parseRange('bytes=10-19', SIZE), { kind: 'range', start: 10, end: 20 });
    assert.deepEqual(parseRange('bytes=990-', SIZE), { kind: 'range', start: 990, end: 1000 });
    assert.deepEqual(parseRange('bytes=-100', SIZE), { kind: 'range', start: 900, end: 1000 });
    assert.deepEqual(parseRange('Bytes = 5 - 6', SIZE), { kind: 'range', start: 5, end: 7 });
  });

  test('an end past the object is clamped; a suffix longer than the object is the whole object', () => {
    assert.deepEqual(parseRange('bytes=500-99999', SIZE), { kind: 'range', start: 500, end: 1000 });
    assert.deepEqual(parseRange('bytes=-5000', SIZE), { kind: 'range', start: 0, end: 1000 });
    assert.deepEqual(parseRange('bytes=0-99999999999999999999999', SIZE), {
      kind: 'range',
      start: 0,
      end: 1000,
    });
  });

  test('out of bounds is unsatisfiable (416)', () => {
    assert.equal(parseRange('bytes=1000-', SIZE).kind, 'unsatisfiable');
    assert.equal(parseRange('bytes=1000-1001', SIZE).kind, 'unsatisfiable');
    assert.equal(parseRange('bytes=99999999999999999999-', SIZE).kind, 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', SIZE).kind, 'unsatisfiable');
  });

  test('malformed or unsupported headers are refused with a reason (400)', () => {
    for (const header of [
      'bytes',
      'bytes=',
      'bytes=abc',
      'bytes=5',
      'bytes=10-5',
      'bytes=-',
      'bytes=1-2-3',
      'bytes=-1-2',
      'bytes=0x10-20',
      'items=0-10',
      'bytes=0-1,5-6',
      `bytes=0-${'9'.repeat(300)}`,
    ]) {
      const result = parseRange(header, SIZE);
      assert.equal(result.kind, 'malformed', header);
      assert.ok(result.kind === 'malformed' && result.reason.length > 0);
    }
  });
});
