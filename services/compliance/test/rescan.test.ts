/**
 * Retroactive scans on the real stack: a job (as the lexicon routes queue it) walks the archived
 * messages of its period in (time, id) order, raises alerts marked retroactive with the version
 * that found them, resumes after a restart at its cursor with nothing counted or raised twice,
 * skips records the live scan already alerted with that version, and stops when cancelled.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createMainDataSource, keyProviderFromEnv } from '@cz/common';
import { sealBuffer, sealedKeyInfo } from '@cz/common/crypto';
import { storeMessages, type MessageRow } from '@cz/archiver';
import {
  archivedMessage,
  createTestDatabase,
  eventually,
  loadStackEnv,
  uniqueCorp,
  type TestDatabase,
} from '@cz/testkit';
import { complianceAlertId } from '../src/flow/alerts';
import { publishedLexicon } from '../src/flow/lexicon-access';
import { buildCompliance, complianceReady, type TestCompliance } from './flow-kit';

loadStackEnv();
const keys = keyProviderFromEnv();

const quietly = async (step: () => Promise<unknown>) => {
  try {
    await step();
  } catch {
    // not built
  }
};

const PERIOD_START = Date.UTC(2025, 2, 1);

interface JobRow {
  status: string;
  scanned: string;
  total: string | null;
  alerts: string;
  cursor_time: Date | null;
  lease_owner: string | null;
}

describe('compliance retroactive scans (real stack)', () => {
  let db: TestDatabase;
  let app: TestCompliance | undefined;

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await quietly(async () => app?.close());
    await quietly(() => db.drop());
  });

  /** Archives messages as the archiver stores them (sealed v2, bound to their row). */
  const archive = async (corpId: string, texts: string[]) => {
    const rows: MessageRow[] = [];
    for (const [i, text] of texts.entries()) {
      const message = archivedMessage({
        corpId,
        msgid: `r-${i}`,
        from: i % 2 === 0 ? 'liqiang' : 'wmCust7',
        tolist: [i % 2 === 0 ? 'wmCust7' : 'liqiang'],
        msgtime: PERIOD_START + i * 60000,
        text,
      });
      const sealedRecord = await sealBuffer(Buffer.from(JSON.stringify(message)), keys, 'chat', {
        kind: 'msg',
        corp: corpId,
        id: message.id,
      });
      const info = sealedKeyInfo(sealedRecord);
      rows.push({ message, sealedRecord, kekId: info.kekId, kekVersion: info.kekVersion });
    }
    const ds = createMainDataSource(db.config);
    await ds.initialize();
    try {
      await storeMessages(ds, rows);
    } finally {
      await ds.destroy();
    }
  };

  const queue = async (
    corpId: string,
    version: number,
    ratePerSecond: number,
    from = PERIOD_START,
    to = PERIOD_START + 86400000,
  ) => {
    const id = randomBytes(16).toString('hex');
    await db.query(
      `INSERT INTO compliance_rescan (id, version, corp_id, org_unit_id, from_time, to_time, rate_per_second, status,
                                      requested_by, created_at, updated_at)
       VALUES (?, ?, ?, NULL, ?, ?, ?, 'queued', 'test', NOW(3), NOW(3))`,
      [id, version, corpId, new Date(from), new Date(to), ratePerSecond],
    );
    return id;
  };

  const job = async (id: string) =>
    (
      await db.query<JobRow>(
        'SELECT status, scanned, total, alerts, cursor_time, lease_owner FROM compliance_rescan WHERE id = ?',
        [id],
      )
    )[0]!;

  const PHRASES = ['这款产品保本保息', '好的，明天见', '稳赚不赔，放心投', '我们的产品不保本，请注意风险'];

  it('[REG-03] scans a period, resumes after a restart at its cursor: totals right, no duplicate alerts, alerts marked retroactive', async () => {
    const corpId = uniqueCorp('cres');
    const count = 120;
    const texts = Array.from({ length: count }, (_, i) => `${i}：${PHRASES[i % PHRASES.length]!}`);
    await archive(corpId, texts);
    app = await buildCompliance(
      db,
      keys,
      { rescanBatchSize: 10, rescanLeaseMs: 60000, rescanPollMs: 200 },
      { liveFromNow: true },
    );
    const lexicon = publishedLexicon(app)!;
    const expected = new Set(
      texts.flatMap((content, i) =>
        [...new Set(lexicon.scan(content).map((h) => h.ruleId))].map((ruleId) =>
          complianceAlertId({ corpId, kind: 'message', recordId: `r-${i}` }, ruleId, lexicon.version),
        ),
      ),
    );
    assert.ok(expected.size >= count / 2);
    await complianceReady(app);
    const id = await queue(corpId, lexicon.version, 40);
    await eventually(
      'the scan under way',
      async () => {
        const row = await job(id);
        return Number(row.scanned) >= 30 && row.status === 'running' ? row : undefined;
      },
      90000,
    );
    await app.close();
    app = undefined;
    const stopped = await job(id);
    assert.equal(stopped.status, 'running', 'left running, resumable');
    assert.equal(stopped.lease_owner, null, 'its lease released on a clean stop');
    assert.ok(Number(stopped.scanned) < count, `stopped midway (${stopped.scanned})`);
    assert.equal(Number(stopped.total), count, 'the period counted');
    const [soFar] = await db.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM compliance_alert WHERE corp_id = ?',
      [corpId],
    );
    assert.equal(Number(soFar?.n), Number(stopped.alerts), 'alerts counted with the page that raised them');

    app = await buildCompliance(db, keys, { rescanBatchSize: 25, rescanPollMs: 200 }, { liveFromNow: true });
    const done = await eventually(
      'the scan done',
      async () => {
        const row = await job(id);
        return row.status === 'done' ? row : undefined;
      },
      60000,
    );
    assert.equal(Number(done.scanned), count);
    assert.equal(Number(done.total), count);
    const rows = await db.query<{ id: string; retroactive: number; lexicon_version: number; msgid: string }>(
      'SELECT id, retroactive, lexicon_version, msgid FROM compliance_alert WHERE corp_id = ?',
      [corpId],
    );
    assert.deepEqual(new Set(rows.map((r) => r.id)), expected, 'exactly the expected alerts, none twice');
    assert.equal(Number(done.alerts), expected.size);
    for (const r of rows) {
      assert.equal(Number(r.retroactive), 1);
      assert.equal(Number(r.lexicon_version), lexicon.version);
    }
    await eventually('retroactive alerts published', async () => {
      const [row] = await db.query<{ n: string }>(
        'SELECT COUNT(*) AS n FROM compliance_alert WHERE corp_id = ? AND published_at IS NULL',
        [corpId],
      );
      return Number(row?.n) === 0 ? true : undefined;
    });

    // a second scan of the same period with the same version raises nothing new
    const again = await queue(corpId, lexicon.version, 1000);
    const second = await eventually(
      'the second scan done',
      async () => {
        const row = await job(again);
        return row.status === 'done' ? row : undefined;
      },
      60000,
    );
    assert.equal(Number(second.scanned), count);
    assert.equal(Number(second.alerts), 0, 'a record is alerted once per version');
    assert.ok(rows.every((r) => r.msgid.startsWith('r-')));
  });

  it('[REG-03] a cancelled scan stops', async () => {
    const corpId = uniqueCorp('ccan');
    await archive(
      corpId,
      Array.from({ length: 60 }, (_, i) => `${i}：保本保息`),
    );
    app ??= await buildCompliance(
      db,
      keys,
      { rescanBatchSize: 10, rescanPollMs: 200 },
      { liveFromNow: true },
    );
    await complianceReady(app);
    const lexicon = publishedLexicon(app)!;
    const id = await queue(corpId, lexicon.version, 10);
    await eventually(
      'the scan under way',
      async () => {
        const row = await job(id);
        return Number(row.scanned) >= 10 ? row : undefined;
      },
      90000,
    );
    await db.query("UPDATE compliance_rescan SET status = 'cancelled' WHERE id = ?", [id]);
    const at = Number((await job(id)).scanned);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const row = await job(id);
    assert.equal(row.status, 'cancelled');
    assert.ok(Number(row.scanned) <= at + 10, `at most the page under way finished (${at} → ${row.scanned})`);
    assert.ok(Number(row.scanned) < 60);
  });
});
