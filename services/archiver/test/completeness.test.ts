/**
 * Seq tracking on MariaDB: holes open as suspected gaps, late records shrink, split and fill them,
 * gaps past the grace period become alerts exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import { createMainDataSource } from '@cz/common';
import { createTestDatabase, type TestDatabase, uniqueCorp } from '@cz/testkit';
import { promoteGaps } from '../src/completeness/gap-alerts';
import { trackSeqs } from '../src/completeness/seq-tracker';
import type { MessageRow } from '../src/rows';

const rowsOf = (corpId: string, seqs: number[]) =>
  seqs.map((seq) => ({ message: { corpId, seq, msgid: `m-${seq}` } }) as unknown as MessageRow);

describe('completeness: seq tracking (MariaDB)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  before(async () => {
    db = await createTestDatabase();
    ds = createMainDataSource(db.config);
    await ds.initialize();
  });
  after(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const track = (corpId: string, seqs: number[]) =>
    ds.transaction((tx) => trackSeqs(tx, rowsOf(corpId, seqs), 'Asia/Shanghai'));
  const openGaps = async (corpId: string) =>
    (
      await db.query<{ from_seq: string; to_seq: string }>(
        `SELECT from_seq, to_seq FROM completeness_gap WHERE corp_id = ? AND state IN ('suspected', 'alerted') ORDER BY from_seq`,
        [corpId],
      )
    ).map((g) => [Number(g.from_seq), Number(g.to_seq)]);

  test('a hole opens a gap; late records split, shrink and fill it; the range extends both ways', async () => {
    const corpId = uniqueCorp('seqtrack');
    await track(corpId, [10, 11, 20]);
    assert.deepEqual(await openGaps(corpId), [[12, 19]]);
    await track(corpId, [15]);
    assert.deepEqual(await openGaps(corpId), [
      [12, 14],
      [16, 19],
    ]);
    await track(corpId, [12, 19, 13]);
    assert.deepEqual(await openGaps(corpId), [
      [14, 14],
      [16, 18],
    ]);
    // below the first seq seen: a record from another partition that arrived later
    await track(corpId, [7]);
    assert.deepEqual(await openGaps(corpId), [
      [8, 9],
      [14, 14],
      [16, 18],
    ]);
    await track(corpId, [8, 9, 14, 16, 17, 18]);
    assert.deepEqual(await openGaps(corpId), []);
    const [tracker] = await db.query<{ low_seq: string; high_seq: string; seq_records: string }>(
      'SELECT low_seq, high_seq, seq_records FROM wecom_seq_tracker WHERE corp_id = ?',
      [corpId],
    );
    assert.deepEqual(
      [Number(tracker!.low_seq), Number(tracker!.high_seq), Number(tracker!.seq_records)],
      [7, 20, 14],
    );
  });

  test('[REG-01] a gap still open after the grace period is alerted once, even with two sweepers', async () => {
    const corpId = uniqueCorp('seqgrace');
    await track(corpId, [1, 5]);
    assert.equal(await promoteGaps(ds, 60000), 0, 'inside the grace period: still only suspected');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([promoteGaps(ds, 10), promoteGaps(ds, 10)]);
    const alerts = await db.query<{ kind: string; from_seq: string; to_seq: string }>(
      'SELECT kind, from_seq, to_seq FROM completeness_alert WHERE corp_id = ?',
      [corpId],
    );
    assert.deepEqual(
      alerts.map((a) => [a.kind, Number(a.from_seq), Number(a.to_seq)]),
      [['seq_gap', 2, 4]],
    );
    // the record turns up after the alert: the gap is filled, the alert stays in the record
    await track(corpId, [2, 3, 4]);
    assert.deepEqual(await openGaps(corpId), []);
  });
});
