import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import { createMainDataSource, keyProviderFromEnv } from '@cz/common';
import { sealBuffer, sealedKeyInfo } from '@cz/common/crypto';
import { chatRows, createTestDatabase, loadStackEnv, type TestDatabase, uniqueCorp } from '@cz/testkit';
import { storeMessages } from '../src/batch/chat-batch';
import { chatArchiveHooks } from '../src/batch/chat-hooks';
import { openStoredMessage, openStoredTranscript } from '../src/records/open-record';
import { resealV1, type ResealCheckpoint } from '../src/records/reseal-v1';

loadStackEnv();
const keys = keyProviderFromEnv();

interface MessageRowDb {
  id: string;
  corp_id: string;
  msgid: string;
  conversation_id: string;
  kek_id: string;
  sealed_record: Buffer;
}

describe('reseal-v1: v1 values re-sealed as v2 bound to their rows (fresh test database)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const corpId = uniqueCorp('reseal');
  const t0 = Date.UTC(2026, 5, 1, 2);
  const resealDb = () => ({ query: <T>(sql: string, params?: unknown[]) => db.query<T>(sql, params) });
  const messages = async () =>
    db.query<MessageRowDb>(
      'SELECT id, corp_id, msgid, conversation_id, kek_id, sealed_record FROM message WHERE corp_id = ? ORDER BY msgid',
      [corpId],
    );

  before(async () => {
    db = await createTestDatabase();
    ds = createMainDataSource(db.config);
    await ds.initialize();
    const rows = await chatRows(
      keys,
      Array.from({ length: 7 }, (_, i) => ({
        corpId,
        msgid: `m${i}`,
        from: 'zhangwei',
        tolist: [`wmCustomer${i % 2}`],
        msgtime: t0 + i * 60_000,
        text: `第${i}条：您好，理财产品本周五开放申购，年化业绩比较基准3.2%。`,
      })),
    );
    await storeMessages(ds, rows, undefined, { hooks: await chatArchiveHooks(ds, keys) });
    // a transcript sealed v1 (before the binding existed)
    await db.query(
      `INSERT INTO call_transcript (call_pk, source, corp_id, created_at, kek_id, kek_version, sealed_text)
       VALUES (?, 'asr', ?, NOW(3), 'x', 1, ?)`,
      ['c'.repeat(32), corpId, await sealBuffer(Buffer.from('您好，请问是张先生吗？'), keys, 'chat')],
    );
  });
  after(async () => {
    await ds.destroy();
    await db.drop();
  });

  test('[REG-06] v1 rows are v1 before; a pass re-seals them, resumable after an interruption, and they open bound', async () => {
    const before = await messages();
    assert.equal(before.length, 7);
    assert.ok(before.every((r) => sealedKeyInfo(r.sealed_record).version === 1));
    const sizeBefore = before.reduce((n, r) => n + r.sealed_record.length, 0);

    // the first pass dies after its second chunk (a crash), with its checkpoint saved
    let saved: ResealCheckpoint | undefined;
    let chunks = 0;
    await assert.rejects(
      resealV1(resealDb(), keys, {
        batchSize: 2,
        saveCheckpoint: (checkpoint) => {
          saved = checkpoint;
          if (++chunks === 2) throw new Error('killed');
        },
      }),
      /killed/,
    );
    assert.equal(saved?.table, 'message');
    const halfway = await messages();
    assert.equal(halfway.filter((r) => sealedKeyInfo(r.sealed_record).version === 2).length, 4);
    // rows read meanwhile open, whichever version they are in
    for (const row of halfway) assert.ok(await openStoredMessage(keys, row), `row ${row.msgid} opens`);

    const lines: string[] = [];
    const counts = await resealV1(resealDb(), keys, {
      batchSize: 2,
      checkpoint: saved,
      log: (l) => lines.push(l),
    });
    assert.equal(counts.message!.resealed, 3, 'the resumed pass did the rest of the messages');
    assert.equal(counts.call_transcript!.resealed, 1);
    assert.ok(lines.some((l) => l.startsWith('message: done')));

    const afterRows = await messages();
    assert.ok(afterRows.every((r) => sealedKeyInfo(r.sealed_record).version === 2));
    for (const row of afterRows) {
      assert.deepEqual(sealedKeyInfo(row.sealed_record).binding, { kind: 'msg', corp: corpId, id: row.id });
      assert.equal(sealedKeyInfo(row.sealed_record).dataClass, 'chat', 'same data class');
      assert.equal(row.kek_id, sealedKeyInfo(row.sealed_record).kekId, 'kek columns follow');
      const message = await openStoredMessage(keys, row);
      assert.equal(message?.msgid, row.msgid);
    }
    const sizeAfter = afterRows.reduce((n, r) => n + r.sealed_record.length, 0);
    console.log(`reseal-v1: 7 chat records ${sizeBefore} B as v1 → ${sizeAfter} B as v2`);
    assert.ok(sizeAfter < sizeBefore);
    const [transcript] = await db.query<{
      call_pk: string;
      source: string;
      corp_id: string;
      sealed_text: Buffer;
    }>('SELECT call_pk, source, corp_id, sealed_text FROM call_transcript WHERE corp_id = ?', [corpId]);
    assert.equal(await openStoredTranscript(keys, transcript!), '您好，请问是张先生吗？');

    const again = await resealV1(resealDb(), keys);
    assert.ok(
      Object.values(again).every((c) => c.resealed === 0),
      'idempotent: a second pass finds nothing in v1',
    );
  });

  test('[REG-06] a moved v1 value is not laundered into a v2 bound to the row it was moved into', async () => {
    const rows = await chatRows(keys, [
      {
        corpId,
        msgid: 'exec-1',
        from: 'ceo',
        tolist: ['wmVip'],
        msgtime: t0 + 3_600_000,
        text: '董事会决议，请保密',
      },
      {
        corpId,
        msgid: 'branch-1',
        from: 'teller',
        tolist: ['wmCustomer'],
        msgtime: t0 + 3_660_000,
        text: '您好',
      },
    ]);
    await storeMessages(ds, rows, undefined, { hooks: await chatArchiveHooks(ds, keys) });
    const [exec] = await db.query<{ sealed_record: Buffer }>(
      "SELECT sealed_record FROM message WHERE corp_id = ? AND msgid = 'exec-1'",
      [corpId],
    );
    await db.query("UPDATE message SET sealed_record = ? WHERE corp_id = ? AND msgid = 'branch-1'", [
      exec!.sealed_record,
      corpId,
    ]);
    const counts = await resealV1(resealDb(), keys);
    assert.equal(counts.message!.misplaced, 1);
    assert.equal(counts.message!.resealed, 1, 'the executive message in its own row is re-sealed');
    const [moved] = await db.query<MessageRowDb>(
      "SELECT id, corp_id, msgid, conversation_id, kek_id, sealed_record FROM message WHERE corp_id = ? AND msgid = 'branch-1'",
      [corpId],
    );
    assert.equal(sealedKeyInfo(moved!.sealed_record).version, 1, 'left as it was');
    assert.equal(await openStoredMessage(keys, moved!), undefined, 'and still refused by readers');
  });
});
