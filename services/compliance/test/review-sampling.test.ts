import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { createMainDataSource, keyProviderFromEnv } from '@cz/common';
import { createTestDatabase, loadStackEnv, uniqueCorp, type TestDatabase } from '@cz/testkit';
import { sampleReviews, shanghaiDay, shanghaiDayWindow } from '../src/workflow/review-sampling';
import { hex, insertAlert } from './workflow-fixtures';

loadStackEnv();
const keys = keyProviderFromEnv();
const DAY = '2026-11-10';
const HOUR = 3600000;

interface Item {
  corp_id: string;
  conversation_id: string;
  day: string;
  reason: string;
  alert_count: number;
  org_unit_id: string | null;
  status: string;
}

describe('review sampling: alerted conversation-days and a random sample of the rest (real MariaDB)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const corpA = uniqueCorp('reviewa');
  const corpB = uniqueCorp('reviewb');
  const corpC = uniqueCorp('reviewc');
  const { start } = shanghaiDayWindow(DAY);

  /** One archived message (sealed record: opaque bytes, never opened here) and its participants. */
  const message = async (corpId: string, conversationId: string, at: Date, sender: string, unit?: string) => {
    await db.query(
      `INSERT INTO message (id, corp_id, msgid, action, msgtype, sender, conversation_id, msgtime, received_at, kek_id, kek_version, sealed_record)
       VALUES (?, ?, ?, 'send', 'text', ?, ?, ?, ?, 'test-kek', 1, ?)`,
      [hex(16), corpId, `m-${hex(6)}`, sender, conversationId, at, at, randomBytes(32)],
    );
    await db.query(
      `INSERT INTO conversation_participant (corp_id, conversation_id, participant, party, first_msgtime, last_msgtime, sent_count)
       VALUES (?, ?, ?, 'internal', ?, ?, 1) ON DUPLICATE KEY UPDATE sent_count = sent_count + 1`,
      [corpId, conversationId, sender, at, at],
    );
    if (unit)
      await db.query(
        `INSERT IGNORE INTO employee (corp_id, userid, org_unit_id, sealed_profile, kek_id, kek_version, updated_at)
         VALUES (?, ?, ?, ?, 'test-kek', 1, NOW(3))`,
        [corpId, sender, unit, randomBytes(32)],
      );
  };

  const items = (corpId: string, day = DAY) =>
    db.query<Item>(
      `SELECT corp_id, conversation_id, DATE_FORMAT(day, '%Y-%m-%d') AS day, reason, alert_count, org_unit_id, status
       FROM review_item WHERE corp_id = ? AND day = ? ORDER BY conversation_id`,
      [corpId, day],
    );

  const alerted = new Map<string, number>();

  before(async () => {
    db = await createTestDatabase();
    ds = createMainDataSource(db.config);
    await ds.initialize();
    // corp A: 40 alert-free conversations and 5 with alerts that day, each with an employee of 支行 zh-<i%3>
    for (let i = 0; i < 45; i++) {
      const conversation = `a-conv-${String(i).padStart(2, '0')}`;
      const at = new Date(start.getTime() + (i % 24) * HOUR + 60000);
      await message(corpA, conversation, at, `emp-a-${i}`, `zh-${i % 3}`);
      await message(corpA, conversation, new Date(at.getTime() + 1000), `wm-customer-${i}`);
      if (i >= 40) {
        const count = i - 39;
        alerted.set(conversation, count);
        for (let k = 0; k < count; k++)
          await insertAlert(db, keys, { corpId: corpA, conversationId: conversation, recordTime: at });
      }
    }
    // corp A: a conversation only the evening before (Shanghai) is not that day's; an alert of
    // another day does not count either
    await message(corpA, 'a-yesterday', new Date(start.getTime() - 10 * 60000), 'emp-a-x', 'zh-0');
    await insertAlert(db, keys, {
      corpId: corpA,
      conversationId: 'a-conv-00',
      recordTime: new Date(start.getTime() - 60000),
    });
    // its own sampling settings: a quarter, at most 100
    await db.query(
      "INSERT INTO review_config (corp_id, sample_percent, max_per_day, updated_by, updated_at) VALUES (?, 25, 100, 'admin', NOW(3))",
      [corpA],
    );
    // corp C: 20 alert-free conversations, no settings (defaults 5 % / 50)
    for (let i = 0; i < 20; i++)
      await message(corpC, `c-conv-${i}`, new Date(start.getTime() + 23 * HOUR + 59 * 60000), `emp-c-${i}`);
  });
  after(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('the day is the Asia/Shanghai calendar day', () => {
    assert.equal(shanghaiDay(new Date('2026-11-09T16:00:00.000Z')), '2026-11-10');
    assert.equal(shanghaiDay(new Date('2026-11-09T15:59:59.999Z')), '2026-11-09');
    assert.deepEqual(shanghaiDayWindow('2026-11-10'), {
      start: new Date('2026-11-09T16:00:00.000Z'),
      end: new Date('2026-11-10T16:00:00.000Z'),
    });
  });

  it('every alerted conversation-day is queued with its alert count; the sample respects the percent and never takes an alerted one', async () => {
    const result = await sampleReviews(ds, { day: DAY });
    assert.equal(result.ran, true);
    assert.deepEqual(result.corps[corpA], { alert: 5, sample: 10, candidates: 40 });
    // 5 % of 20, rounded up: one
    assert.deepEqual(result.corps[corpC], { alert: 0, sample: 1, candidates: 20 });

    const rows = await items(corpA);
    const alertRows = rows.filter((r) => r.reason === 'alert');
    assert.deepEqual(
      alertRows.map((r) => [r.conversation_id, r.alert_count]),
      [...alerted.entries()].sort(),
    );
    const samples = rows.filter((r) => r.reason === 'sample');
    assert.equal(samples.length, 10, '25 % of the 40 alert-free conversations');
    for (const sample of samples) {
      assert.ok(!alerted.has(sample.conversation_id), `${sample.conversation_id} had alerts`);
      assert.notEqual(sample.conversation_id, 'a-yesterday');
      assert.equal(sample.alert_count, 0);
      assert.equal(sample.status, 'pending');
      assert.equal(sample.day, DAY);
      // the unit of the conversation's employee (the customer is not one)
      const i = Number(sample.conversation_id.slice(-2));
      assert.equal(sample.org_unit_id, `zh-${i % 3}`);
    }
    assert.equal((await items(corpC)).length, 1);
    assert.equal((await items(corpC))[0]!.org_unit_id, null);
  });

  it('running again is idempotent: the same items, no second sample', async () => {
    const before = await items(corpA);
    const again = await sampleReviews(ds, { day: DAY });
    assert.deepEqual(again.corps[corpA], { alert: 5, sample: 0, candidates: 40 });
    assert.deepEqual(await items(corpA), before);
    assert.equal((await items(corpC)).length, 1);
    const [{ n }] = (await db.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM review_item WHERE corp_id = ? AND day = ?',
      [corpA, DAY],
    )) as [{ n: number }];
    assert.equal(Number(n), 15);
  });

  it('a corp without settings takes the `*` row; at most max per day; replicas at once sample once', async () => {
    await db.query(
      "INSERT INTO review_config (corp_id, sample_percent, max_per_day, updated_by, updated_at) VALUES ('*', 50, 3, 'admin', NOW(3))",
    );
    const day = '2026-11-11';
    const dayStart = shanghaiDayWindow(day).start;
    for (let i = 0; i < 10; i++)
      await message(corpB, `b-conv-${i}`, new Date(dayStart.getTime() + i * HOUR), `emp-b-${i}`);
    const runs = await Promise.all([
      sampleReviews(ds, { day, corpIds: [corpB] }),
      sampleReviews(ds, { day, corpIds: [corpB] }),
    ]);
    // the second either waited out (skipped) or found the sample complete
    assert.ok(runs.some((r) => r.ran));
    const rows = await items(corpB, day);
    assert.equal(rows.length, 3, '50 % of 10 is 5, capped at 3 a day');
    assert.ok(rows.every((r) => r.reason === 'sample'));
    await sampleReviews(ds, { day, corpIds: [corpB] });
    assert.equal((await items(corpB, day)).length, 3);
  });

  it('an alert found later (retroactive scan) turns a sampled conversation-day into an alert item', async () => {
    const [sample] = (await items(corpA)).filter((r) => r.reason === 'sample');
    const at = new Date(start.getTime() + 12 * HOUR);
    await insertAlert(db, keys, { corpId: corpA, conversationId: sample!.conversation_id, recordTime: at });
    await sampleReviews(ds, { day: DAY, corpIds: [corpA] });
    const row = (await items(corpA)).find((r) => r.conversation_id === sample!.conversation_id)!;
    assert.equal(row.reason, 'alert');
    assert.equal(row.alert_count, 1);
    const samples = (await items(corpA)).filter((r) => r.reason === 'sample');
    // still a quarter of the (now 39) alert-free conversation-days, none of them alerted
    assert.equal(samples.length, 10);
    assert.ok(samples.every((r) => r.conversation_id !== sample!.conversation_id));
  });
});
