import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import type { DataSource } from 'typeorm';
import {
  IndexPurposes,
  createMainDataSource,
  externalUserIndex,
  indexKeyFor,
  keyProviderFromEnv,
  messageArchiveId,
} from '@cz/common';
import { openBuffer } from '@cz/common/crypto';
import { TokenHasher, indexTokens } from '@cz/common/search';
import { chatRows, createTestDatabase, loadStackEnv, type TestDatabase, uniqueCorp } from '@cz/testkit';
import { storeMessages, type ArchiveOptions } from '../src/batch/chat-batch';
import { splitReplayed } from '../src/batch/exactly-once';
import { chatArchiveHooks } from '../src/batch/chat-hooks';
import { ensureMonthPartitions } from '../src/partitions';
import { backfillStep } from '../src/search/message-backfill';
import { customerRegistryHook } from '../src/org/customers';

loadStackEnv();
const keys = keyProviderFromEnv();

describe('archiver at volume: one transaction per batch, exactly once (real MariaDB)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let options: ArchiveOptions;
  let hasher: TokenHasher;

  before(async () => {
    db = await createTestDatabase();
    ds = createMainDataSource(db.config);
    await ds.initialize();
    options = { hooks: await chatArchiveHooks(ds, keys) };
    hasher = new TokenHasher(await indexKeyFor(keys, IndexPurposes.searchToken));
  });
  after(async () => {
    await ds.destroy();
    await db.drop();
  });

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await db.query<{ n: number | string }>(sql, params))[0]!.n);

  test('[REG-01] messages, recipients, search tokens, conversations and customers are written together', async () => {
    const corpId = uniqueCorp();
    const t0 = Date.UTC(2026, 2, 1, 2);
    const rows = await chatRows(keys, [
      {
        corpId,
        msgid: 'm1',
        from: 'zhaolei',
        tolist: ['wmCustA'],
        msgtime: t0,
        text: '这款ETF基金保本保息吗',
      },
      { corpId, msgid: 'm2', from: 'wmCustA', tolist: ['zhaolei'], msgtime: t0 + 60000, text: '好的，谢谢' },
      {
        corpId,
        msgid: 'm3',
        from: 'zhaolei',
        tolist: ['wmCustA', 'wangfang', 'wmCustB'],
        roomid: 'wrRoomX',
        msgtime: t0 + 120000,
        text: '群公告：iPhone 15 活动',
      },
    ]);
    assert.equal(await storeMessages(ds, rows, undefined, options), 3);

    // every token of every message is in the index, under the search key, at the message's time
    for (const row of rows) {
      const tokens = indexTokens(row.message.text);
      const stored = await db.query<{ token: string }>(
        'SELECT token FROM search_token WHERE doc_id = UNHEX(?) AND doc_time = ? ORDER BY token',
        [row.message.id, new Date(row.message.msgtime)],
      );
      assert.deepEqual(
        new Set(stored.map((r) => r.token)),
        new Set(tokens.map((t) => hasher.hash(t))),
        `tokens of ${row.message.msgid}`,
      );
    }

    const conversations = await db.query<{ conversation_id: string; kind: string; message_count: string }>(
      'SELECT conversation_id, kind, message_count FROM conversation WHERE corp_id = ? ORDER BY conversation_id',
      [corpId],
    );
    assert.deepEqual(
      conversations.map((c) => [c.conversation_id, c.kind, Number(c.message_count)]),
      [
        ['g:wrRoomX', 'group', 1],
        ['p:wmCustA|zhaolei', 'single', 2],
      ],
    );
    const participants = await db.query<{ participant: string; party: string; sent_count: string }>(
      `SELECT participant, party, sent_count FROM conversation_participant
       WHERE corp_id = ? AND conversation_id = 'g:wrRoomX' ORDER BY participant`,
      [corpId],
    );
    assert.deepEqual(
      participants.map((p) => [p.participant, p.party, Number(p.sent_count)]),
      [
        ['wangfang', 'employee', 0],
        ['wmCustA', 'customer', 0],
        ['wmCustB', 'customer', 0],
        ['zhaolei', 'employee', 1],
      ],
    );

    // customers: registered once each, external userid only sealed and as a blind index
    const customers = await db.query<{ external_index: string; sealed_profile: Buffer }>(
      'SELECT external_index, sealed_profile FROM customer WHERE corp_id = ?',
      [corpId],
    );
    assert.equal(customers.length, 2);
    const indexA = await externalUserIndex(keys, 'wmCustA');
    const rowA = customers.find((c) => c.external_index === indexA);
    assert.ok(rowA, 'customer A found by the blind index of its external userid');
    assert.ok(!rowA.sealed_profile.includes(Buffer.from('wmCustA')));
    assert.deepEqual(JSON.parse((await openBuffer(rowA.sealed_profile, keys)).toString()), {
      externalUserId: 'wmCustA',
    });
  });

  test('[REG-01] a redelivered batch changes nothing: no second row, token or count', async () => {
    const corpId = uniqueCorp();
    const rows = await chatRows(keys, [
      { corpId, msgid: 'r1', from: 'u1', tolist: ['wmX'], msgtime: Date.UTC(2026, 3, 1), text: '稳赚不赔' },
      { corpId, msgid: 'r2', from: 'u1', tolist: ['wmX'], msgtime: Date.UTC(2026, 3, 2), text: '刚性兑付' },
    ]);
    await storeMessages(ds, rows, undefined, options);
    const snapshot = async () => ({
      messages: await count('SELECT COUNT(*) n FROM message WHERE corp_id = ?', [corpId]),
      tokens: await count(
        `SELECT COUNT(*) n FROM search_token WHERE doc_id IN (SELECT UNHEX(id) FROM message WHERE corp_id = ?)`,
        [corpId],
      ),
      conversationCount: await count('SELECT SUM(message_count) n FROM conversation WHERE corp_id = ?', [
        corpId,
      ]),
      sent: await count('SELECT SUM(sent_count) n FROM conversation_participant WHERE corp_id = ?', [corpId]),
    });
    const first = await snapshot();
    const tokens = indexTokens('稳赚不赔').length + indexTokens('刚性兑付').length;
    assert.deepEqual(first, { messages: 2, tokens, conversationCount: 2, sent: 2 });

    // the same records again, one of them with another msgtime (a client bug): still one row per msgid
    const again = await chatRows(keys, [
      { corpId, msgid: 'r1', from: 'u1', tolist: ['wmX'], msgtime: Date.UTC(2026, 5, 9), text: '稳赚不赔' },
      { corpId, msgid: 'r2', from: 'u1', tolist: ['wmX'], msgtime: Date.UTC(2026, 3, 2), text: '刚性兑付' },
    ]);
    assert.equal(await storeMessages(ds, again, undefined, options), 0);
    assert.deepEqual(await snapshot(), first);
  });

  test('[REG-01] two consumers racing on the same batch (rebalance zombie) archive it once', async () => {
    const corpId = uniqueCorp();
    const specs = Array.from({ length: 300 }, (_, i) => ({
      corpId,
      msgid: `z${i}`,
      from: `emp${i % 7}`,
      tolist: [`wmC${i % 11}`],
      msgtime: Date.UTC(2026, 4, 1) + i * 1000,
      text: `第${i}条消息，理财产品收益说明`,
    }));
    const rowsA = await chatRows(keys, specs);
    const rowsB = await chatRows(keys, specs);
    const position = { groupId: 'race', topic: 'cz.msg.v1', partition: 0, nextOffset: '300' };
    const results = await Promise.allSettled([
      storeMessages(ds, rowsA, undefined, { ...options, position }),
      storeMessages(ds, rowsB, undefined, { ...options, position }),
    ]);
    // a deadlock victim would be retried by Kafka; here both must simply finish
    const inserted = results.map((r) => (r.status === 'fulfilled' ? r.value : -1));
    assert.deepEqual(
      inserted.sort((a, b) => a - b),
      [0, 300],
    );
    assert.equal(await count('SELECT COUNT(*) n FROM message WHERE corp_id = ?', [corpId]), 300);
    assert.equal(
      await count('SELECT SUM(message_count) n FROM conversation WHERE corp_id = ?', [corpId]),
      300,
    );
    const tokensPerDoc = await db.query<{ n: string }>(
      `SELECT COUNT(*) n FROM search_token WHERE doc_id IN (SELECT UNHEX(id) FROM message WHERE corp_id = ?)
       GROUP BY doc_id, doc_time`,
      [corpId],
    );
    assert.equal(tokensPerDoc.length, 300);
    for (const [i, spec] of specs.entries()) {
      if (i % 50 !== 0) continue;
      const n = await count('SELECT COUNT(*) n FROM search_token WHERE doc_id = UNHEX(?)', [
        rowsA[i]!.message.id,
      ]);
      assert.equal(n, indexTokens(spec.text).length, `tokens of ${spec.msgid} written once`);
    }
  });

  test('the Kafka offset advances in the batch transaction; a replayed batch is recognised before decoding', async () => {
    const corpId = uniqueCorp();
    const where = { groupId: `g-${corpId}`, topic: 'cz.msg.v1', partition: 3 };
    const delivered = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => ({ offset: String(from + i) }) as KafkaMessage);
    const first = await splitReplayed(ds, where, delivered(0, 5));
    assert.equal(first.replayed.length, 0);
    assert.equal(first.position?.nextOffset, '5');
    const rows = await chatRows(keys, [
      { corpId, msgid: 'o1', from: 'u1', tolist: ['u2'], msgtime: Date.UTC(2026, 6, 1), text: 'offset' },
    ]);
    await storeMessages(ds, rows, undefined, { ...options, position: first.position });
    const stored = await db.query<{ next_offset: string }>(
      'SELECT next_offset FROM archive_offset WHERE group_id = ? AND partition_no = 3',
      [where.groupId],
    );
    assert.equal(stored[0]!.next_offset, '5');
    const replay = await splitReplayed(ds, where, delivered(3, 8));
    assert.deepEqual(
      replay.replayed.map((m) => m.offset),
      ['3', '4'],
    );
    assert.deepEqual(
      replay.fresh.map((m) => m.offset),
      ['5', '6', '7'],
    );
  });

  test('month partitions: a missing month is split out of p_future ahead of time, rows move with it', async () => {
    const corpId = uniqueCorp();
    const far = Date.UTC(2028, 1, 10);
    await storeMessages(
      ds,
      await chatRows(keys, [{ corpId, msgid: 'f1', from: 'u1', tolist: ['u2'], msgtime: far, text: '未来' }]),
      undefined,
      options,
    );
    const partitionOf = async () =>
      (
        await db.query<{ p: string }>(
          `SELECT PARTITION_NAME p FROM information_schema.PARTITIONS
           WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'message' AND TABLE_ROWS > 0 AND PARTITION_NAME >= 'p2028'`,
        )
      ).map((r) => r.p);
    const report = await ensureMonthPartitions(ds, 2, new Date(Date.UTC(2028, 0, 15)));
    assert.deepEqual(report.find((r) => r.table === 'message')?.added, ['p202801', 'p202802', 'p202803']);
    await db.query('ANALYZE TABLE message');
    assert.deepEqual(await partitionOf(), ['p202802']);
    assert.equal(
      await count('SELECT COUNT(*) n FROM message PARTITION (p202802) WHERE corp_id = ?', [corpId]),
      1,
    );
    // running it again changes nothing
    assert.deepEqual(await ensureMonthPartitions(ds, 2, new Date(Date.UTC(2028, 0, 15))), []);
  });

  test('messages archived before the search index are backfilled: tokens, customers, exact counters', async () => {
    const corpId = uniqueCorp();
    const specs = [
      {
        corpId,
        msgid: 'b1',
        from: 'u9',
        tolist: ['wmOld'],
        msgtime: Date.UTC(2025, 0, 3),
        text: '旧消息保本保息',
      },
      { corpId, msgid: 'b2', from: 'wmOld', tolist: ['u9'], msgtime: Date.UTC(2025, 0, 4), text: '好的' },
    ];
    // as the old archiver did: the message rows only, then queued by the migration with claim 0
    await storeMessages(ds, await chatRows(keys, specs));
    await db.query(
      `UPDATE message_key SET claim = 0 WHERE id IN (SELECT UNHEX(id) FROM message WHERE corp_id = ?)`,
      [corpId],
    );
    await db.query(
      `INSERT INTO search_backfill (id, msgtime) SELECT UNHEX(id), msgtime FROM message WHERE corp_id = ?`,
      [corpId],
    );
    // a new message of the same conversation arrives through the normal path meanwhile
    await storeMessages(
      ds,
      await chatRows(keys, [
        { corpId, msgid: 'b3', from: 'u9', tolist: ['wmOld'], msgtime: Date.UTC(2025, 0, 5), text: '新消息' },
      ]),
      undefined,
      options,
    );
    const customers = customerRegistryHook(ds, keys);
    while ((await backfillStep(ds, keys, hasher, customers, 1)) > 0);
    assert.equal(await count('SELECT COUNT(*) n FROM search_backfill'), 0);
    for (const [i, spec] of [...specs, { text: '新消息' }].entries()) {
      const id = messageArchiveId(corpId, `b${i + 1}`);
      assert.equal(
        await count('SELECT COUNT(*) n FROM search_token WHERE doc_id = UNHEX(?)', [id]),
        indexTokens(spec.text).length,
      );
    }
    const [conversation] = await db.query<{ message_count: string }>(
      'SELECT message_count FROM conversation WHERE corp_id = ?',
      [corpId],
    );
    assert.equal(Number(conversation!.message_count), 3);
    assert.deepEqual(
      (
        await db.query<{ participant: string; sent_count: string }>(
          'SELECT participant, sent_count FROM conversation_participant WHERE corp_id = ? ORDER BY participant',
          [corpId],
        )
      ).map((p) => [p.participant, Number(p.sent_count)]),
      [
        ['u9', 2],
        ['wmOld', 1],
      ],
    );
    assert.equal(
      await count(
        'SELECT COUNT(*) n FROM message_key k JOIN message m ON k.id = UNHEX(m.id) WHERE m.corp_id = ? AND k.claim = 0',
        [corpId],
      ),
      0,
    );
    assert.equal(
      await count(
        'SELECT COUNT(*) n FROM customer WHERE corp_id = ? AND external_index = CAST(? AS UNSIGNED)',
        [corpId, await externalUserIndex(keys, 'wmOld')],
      ),
      1,
    );
  });
});
