import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slaDueAt, slaHours } from '../src/workflow/sla';

const HOUR = 3600000;

describe('SLA rules and due times', () => {
  const raisedAt = new Date('2026-12-03T10:00:00Z');
  const recordTime = new Date('2026-12-01T09:00:00Z');

  it('[REG-11] a complaint is due 24 h after the customer wrote, however late the record arrived', () => {
    const due = slaDueAt(slaHours([], 'complaint', 'warning'), {
      category: 'complaint',
      recordTime,
      raisedAt,
      retroactive: false,
    });
    assert.equal(due.getTime(), recordTime.getTime() + 24 * HOUR);
  });

  it('any other alert is due its hours after it was raised (the moment someone could act)', () => {
    const due = slaDueAt(slaHours([], 'guaranteed_return', 'critical'), {
      category: 'guaranteed_return',
      recordTime,
      raisedAt,
      retroactive: false,
    });
    assert.equal(due.getTime(), raisedAt.getTime() + 4 * HOUR);
  });

  it('a complaint found by a retroactive scan starts its clock when found', () => {
    const due = slaDueAt(24, { category: 'complaint', recordTime, raisedAt, retroactive: true });
    assert.equal(due.getTime(), raisedAt.getTime() + 24 * HOUR);
  });

  it('the most specific rule wins; without one, the defaults by category and severity', () => {
    const rules = [
      { category: '*', severity: '*', hours: 48 },
      { category: '*', severity: 'critical', hours: 2 },
      { category: 'complaint', severity: '*', hours: 12 },
      { category: 'complaint', severity: 'critical', hours: 6 },
    ] as const;
    assert.equal(slaHours(rules, 'complaint', 'critical'), 6);
    assert.equal(slaHours(rules, 'complaint', 'info'), 12);
    assert.equal(slaHours(rules, 'kickback', 'critical'), 2);
    assert.equal(slaHours(rules, 'kickback', 'info'), 48);
    assert.equal(slaHours([], 'complaint', 'info'), 24);
    assert.equal(slaHours([], null, 'critical'), 4);
    assert.equal(slaHours([], 'kickback', 'info'), 72);
  });
});
