import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { createMainDataSource, keyProviderFromEnv } from '@cz/common';
import { createTestDatabase, loadStackEnv, uniqueCorp, type TestDatabase } from '@cz/testkit';
import { escalateAlert, escalateOverdue, overdueAlerts } from '../src/workflow/escalation';
import { slaDueAt } from '../src/workflow/sla';
import { insertAlert, insertChannel, insertOrgTree } from './workflow-fixtures';

loadStackEnv();
const keys = keyProviderFromEnv();
const HOUR = 3600000;

interface AlertState {
  status: string;
  assigned_org_unit_id: string | null;
  escalation_level: number;
  due_at: Date | null;
  row_version: number;
  last_actor: string | null;
}

describe('SLA escalation up the org tree (real MariaDB)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const corpId = uniqueCorp('slacorp');

  const state = async (id: string) => {
    const [row] = await db.query<AlertState>(
      'SELECT status, assigned_org_unit_id, escalation_level, due_at, row_version, last_actor FROM compliance_alert WHERE id = ?',
      [id],
    );
    return row!;
  };
  const events = (id: string) =>
    db.query<{ actor: string; action: string; from_status: string; to_status: string }>(
      'SELECT actor, action, from_status, to_status FROM compliance_alert_event WHERE alert_id = ? ORDER BY id',
      [id],
    );
  const makeOverdue = (id: string) =>
    db.query('UPDATE compliance_alert SET due_at = ? WHERE id = ?', [new Date(Date.now() - 60000), id]);

  before(async () => {
    db = await createTestDatabase();
    ds = createMainDataSource(db.config);
    await ds.initialize();
    await insertOrgTree(db, corpId);
  });
  after(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('[REG-11] a complaint recorded 25 h ago is escalated to the parent unit; one not yet due is not; a resolved one never', async () => {
    const escalationChannel = await insertChannel(db, keys, {
      kind: 'webhook',
      target: { url: 'http://127.0.0.1:9/escalations' },
      onEscalation: true,
    });
    const raisedOnly = await insertChannel(db, keys, {
      kind: 'webhook',
      target: { url: 'http://127.0.0.1:9/raised' },
      onEscalation: false,
    });
    const recordTime = new Date(Date.now() - 25 * HOUR);
    // the flow's due time: a complaint's 24 h run from the record's time (REG-11)
    const due = slaDueAt(24, { category: 'complaint', recordTime, raisedAt: new Date(), retroactive: false });
    const overdue = await insertAlert(db, keys, {
      corpId,
      category: 'complaint',
      recordTime,
      dueAt: due,
      orgUnitId: 'lujiazui',
      notified: true,
    });
    const recent = new Date(Date.now() - 2 * HOUR);
    const notYetDue = await insertAlert(db, keys, {
      corpId,
      category: 'complaint',
      recordTime: recent,
      dueAt: slaDueAt(24, {
        category: 'complaint',
        recordTime: recent,
        raisedAt: new Date(),
        retroactive: false,
      }),
      orgUnitId: 'lujiazui',
    });
    const resolved = await insertAlert(db, keys, {
      corpId,
      category: 'complaint',
      status: 'resolved',
      recordTime,
      dueAt: due,
      orgUnitId: 'lujiazui',
    });

    const before = Date.now();
    assert.equal(await escalateOverdue(ds), 1);

    const escalated = await state(overdue);
    assert.equal(escalated.status, 'escalated');
    assert.equal(escalated.assigned_org_unit_id, 'pudong');
    assert.equal(escalated.escalation_level, 1);
    assert.equal(escalated.last_actor, 'system');
    assert.equal(escalated.row_version, 1);
    // a fresh SLA period (24 h for complaints) from the escalation
    const nextDue = new Date(escalated.due_at!).getTime();
    assert.ok(
      nextDue >= before + 24 * HOUR - 1000 && nextDue <= Date.now() + 24 * HOUR + 1000,
      String(nextDue),
    );
    assert.deepEqual(await events(overdue), [
      { actor: 'system', action: 'sla_escalated', from_status: 'open', to_status: 'escalated' },
    ]);
    // the unit of the alert stays where the employee is; only the assignment moved
    const [unit] = await db.query<{ org_unit_id: string }>(
      'SELECT org_unit_id FROM compliance_alert WHERE id = ?',
      [overdue],
    );
    assert.equal(unit!.org_unit_id, 'lujiazui');

    assert.equal((await state(notYetDue)).status, 'open');
    assert.equal((await state(notYetDue)).escalation_level, 0);
    assert.deepEqual(await events(notYetDue), []);
    assert.equal((await state(resolved)).status, 'resolved');
    assert.deepEqual(await events(resolved), []);

    // escalation notifications go to the channels that asked for them only
    const deliveries = await db.query<{ channel_id: string; event: string; status: string }>(
      'SELECT channel_id, event, status FROM notification_delivery WHERE alert_id = ?',
      [overdue],
    );
    assert.deepEqual(deliveries, [{ channel_id: escalationChannel, event: 'escalated', status: 'pending' }]);
    assert.ok(!deliveries.some((d) => d.channel_id === raisedOnly));

    // nothing more to do until the new due time
    assert.equal(await escalateOverdue(ds), 0);
  });

  it('an escalated alert overdue again climbs one level per SLA period and stays at the root', async () => {
    const id = await insertAlert(db, keys, {
      corpId,
      category: 'guaranteed_return',
      severity: 'critical',
      dueAt: new Date(Date.now() - 1000),
      orgUnitId: 'lujiazui',
    });
    await escalateOverdue(ds);
    assert.equal((await state(id)).assigned_org_unit_id, 'pudong');
    // a critical alert's SLA is 4 h by default
    const due = new Date((await state(id)).due_at!).getTime();
    assert.ok(Math.abs(due - (Date.now() + 4 * HOUR)) < 5000);

    await makeOverdue(id);
    await escalateOverdue(ds);
    assert.deepEqual(
      { unit: (await state(id)).assigned_org_unit_id, level: (await state(id)).escalation_level },
      { unit: 'hq', level: 2 },
    );
    await makeOverdue(id);
    await escalateOverdue(ds);
    const top = await state(id);
    assert.equal(top.assigned_org_unit_id, 'hq');
    assert.equal(top.escalation_level, 3);
    assert.equal(top.status, 'escalated');
    const history = await events(id);
    assert.equal(history.length, 3);
    assert.deepEqual(
      history.map((e) => [e.from_status, e.to_status]),
      [
        ['open', 'escalated'],
        ['escalated', 'escalated'],
        ['escalated', 'escalated'],
      ],
    );
  });

  it('an acknowledged alert that is overdue escalates too; the admins’ SLA rules set the new due time', async () => {
    await db.query(
      "INSERT INTO compliance_sla_rule (category, severity, hours, updated_by, updated_at) VALUES ('private_dealing', '*', 2, 'admin', NOW(3))",
    );
    const id = await insertAlert(db, keys, {
      corpId,
      category: 'private_dealing',
      status: 'acknowledged',
      dueAt: new Date(Date.now() - 1000),
      orgUnitId: 'pudong',
    });
    await escalateOverdue(ds);
    const row = await state(id);
    assert.equal(row.status, 'escalated');
    assert.equal(row.assigned_org_unit_id, 'hq');
    assert.ok(Math.abs(new Date(row.due_at!).getTime() - (Date.now() + 2 * HOUR)) < 5000);
    assert.deepEqual(
      (await events(id)).map((e) => e.from_status),
      ['acknowledged'],
    );
  });

  it('a person acting at the same moment wins: the sweep changes nothing behind a newer row version', async () => {
    const id = await insertAlert(db, keys, {
      corpId,
      dueAt: new Date(Date.now() - 1000),
      orgUnitId: 'lujiazui',
    });
    // the sweep reads the overdue alert; a risk officer acknowledges it before the sweep writes
    const [stale] = (await overdueAlerts(ds, new Date(), 500)).filter((a) => a.id === id);
    assert.ok(stale);
    await db.query(
      "UPDATE compliance_alert SET status = 'acknowledged', row_version = row_version + 1, last_actor = 'officer' WHERE id = ?",
      [id],
    );
    assert.equal(await escalateAlert(ds, stale, { rules: [], channels: [] }), false);
    const row = await state(id);
    assert.equal(row.status, 'acknowledged');
    assert.equal(row.last_actor, 'officer');
    assert.equal(row.escalation_level, 0);
    assert.deepEqual(await events(id), []);
    // (still overdue: the next sweep escalates it; closed here so the next test counts its own)
    await db.query("UPDATE compliance_alert SET status = 'resolved' WHERE id = ?", [id]);
  });

  it('two replicas sweeping at once escalate each alert by exactly one level', async () => {
    const ids = [];
    for (let i = 0; i < 10; i++)
      ids.push(
        await insertAlert(db, keys, { corpId, dueAt: new Date(Date.now() - 1000), orgUnitId: 'lujiazui' }),
      );
    const [a, b] = await Promise.all([escalateOverdue(ds), escalateOverdue(ds)]);
    assert.equal(a + b, 10);
    for (const id of ids) {
      const row = await state(id);
      assert.equal(row.escalation_level, 1);
      assert.equal(row.assigned_org_unit_id, 'pudong');
      assert.equal((await events(id)).length, 1);
    }
  });
});
