/**
 * Acceptance of the WeCom message model on the real stack: every msgtype of the corpus goes
 * through an in-process ingest (real Kafka), an in-process archiver (fresh MariaDB database) and
 * comes back through an in-process portal as an auditor with the right searchable text, media
 * references and flags. Also: recalls in both orders, the consent registry, msgid conflicts and
 * seq replays.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { IngestBatchReply, LoginReply, MessageListReply, MessageView } from '@cz/contracts';
import {
  IndexPurposes,
  createMainDataSource,
  createServer,
  indexKeyFor,
  keyProviderFromEnv,
  messageArchiveId,
  wecomMediaId,
} from '@cz/common';
import { blindIndex, openBuffer } from '@cz/common/crypto';
import {
  buildArchiver,
  buildIngest,
  callerHeaders,
  createTestDatabase,
  eventually,
  loadStackEnv,
  type TestDatabase,
  uniqueCorp,
} from '@cz/testkit';
import portal, { setUserScope, upsertUser } from '@cz/portal';
import { expectations, loadCorpus, type WeComRecord } from './fixtures/wecom/index';

loadStackEnv();
const keys = keyProviderFromEnv();
const corpus = loadCorpus();
const expected = expectations(corpus);

// Each run gets its own stretch of time, so the portal's time filter sees only this run's records
// (the archiver replays the whole topic, including earlier runs' corpora). Years before the demo
// data, so that a console on the shared stack does not list test records first.
const windowOf = () => Date.UTC(2020, 0, 1) + randomInt(0, 1_500_000) * 60_000;

describe('[REG-01] WeCom corpus: ingest → archive → portal (real stack)', () => {
  let db: TestDatabase;
  let ingestApp: ReturnType<typeof createServer>;
  let archiverApp: ReturnType<typeof createServer>;
  let portalApp: ReturnType<typeof createServer>;
  let token: string;

  before(async () => {
    db = await createTestDatabase();
    archiverApp = await buildArchiver(db, keys, 'cz-archiver-test', { groupPrefix: 'cz-archiver-corpus' });
    ingestApp = await buildIngest(keys, 'cz-ingest-test', { bodyLimit: 8 * 1024 * 1024 });
    portalApp = createServer('portal', { logger: false });
    await portalApp.register(portal, { database: db.config, keys, cursorKey: randomBytes(32) });
    await portalApp.ready();
    const users = createMainDataSource(db.config);
    await users.initialize();
    await upsertUser(users, {
      username: 'auditor',
      displayName: '审计员',
      roles: ['auditor'],
      password: 'Auditor#2026',
    });
    await setUserScope(users, 'auditor', { all: true, units: [] }, 'test');
    await users.destroy();
    const login = await portalApp.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { username: 'auditor', password: 'Auditor#2026' },
    });
    assert.equal(login.statusCode, 200, login.body);
    token = login.json<LoginReply>().token;
  });
  after(async () => {
    await ingestApp.close();
    await archiverApp.close();
    await portalApp.close();
    await db.drop();
  });

  const post = async (corpId: string, messages: unknown[]) => {
    const res = await ingestApp.inject({
      method: 'POST',
      url: '/v1/wecom/messages',
      headers: callerHeaders(),
      payload: { corpId, messages },
    });
    assert.equal(res.statusCode, 202, res.body);
    return res.json<IngestBatchReply>();
  };

  const archivedCount = async (corpId: string, table = 'message') =>
    Number(
      (await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE corp_id = ?`, [corpId]))[0]!.n,
    );

  const waitForRows = (corpId: string, n: number, table = 'message') =>
    eventually(
      `${n} ${table} rows of ${corpId}`,
      async () => ((await archivedCount(corpId, table)) >= n ? true : undefined),
      90000,
    );

  /** every message of [from, to) as the auditor sees it, by msgid */
  const portalView = async (from: number, to: number): Promise<Map<string, MessageView>> => {
    const res = await portalApp.inject({
      method: 'GET',
      url: `/v1/messages?limit=200&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.statusCode, 200, res.body);
    return new Map(res.json<MessageListReply>().items.map((item) => [item.msgid, item]));
  };

  test('[REG-01][REG-04] every msgtype round-trips with its searchable text, media references and flags', async () => {
    const corpId = uniqueCorp('corpus');
    const start = windowOf();
    const names = [...corpus.keys()];
    const records = names.map((name, i) => {
      const record: WeComRecord = structuredClone(corpus.get(name)!);
      if (record.action === 'switch') record.time = start + i * 1000;
      else record.msgtime = start + i * 1000;
      return record;
    });
    const reply = await post(corpId, records);
    assert.equal(reply.accepted.length, corpus.size);
    await waitForRows(corpId, corpus.size);

    const view = await portalView(start, start + corpus.size * 1000);
    assert.equal(view.size, corpus.size, 'every record is visible, none twice');
    const textMsgid = corpus.get('text')!.msgid as string;
    for (const name of names) {
      const record = corpus.get(name)!;
      const want = expected.get(name)!;
      const item = view.get(record.msgid as string);
      assert.ok(item, `${name} not visible in the portal`);
      // the portal masks personal numbers, also inside a forwarded chat record
      const text = want.text.replace('13912345678', '139****5678');
      assert.equal(item.text, text, `${name}: searchable text`);
      // each reference names its stored bytes by SM3 of the sdkfileid (GET /v1/media/{corp}/{mediaId})
      assert.deepEqual(
        item.media,
        want.media.map((ref) => ({ ...ref, mediaId: wecomMediaId(ref.sdkfileid) })),
        `${name}: media references`,
      );
      assert.equal(item.msgtype, want.msgtype, `${name}: msgtype`);
      assert.equal(item.unknownType, want.unknownType === true, `${name}: unknownType`);
      assert.equal(item.recallOf, want.recalls ? textMsgid : null, `${name}: recallOf`);
      assert.equal(item.recalled, name === 'text', `${name}: recalled`);
    }
    assert.equal(view.get(textMsgid)!.text, expected.get('text')!.text, 'a recalled message is still shown');
    const switchItem = view.get(corpus.get('switch')!.msgid as string)!;
    assert.equal(switchItem.action, 'switch');
    assert.equal(switchItem.from, 'zhangwei');
    assert.deepEqual(switchItem.tolist, []);

    // [REG-08] agree / disagree fed the consent registry, in the message's transaction
    const consent = await db.query<{
      msgid: string;
      decision: string;
      scope: string;
      subject_index: string;
      subject_sealed: Buffer;
      decided_at: Date;
    }>(
      'SELECT msgid, decision, scope, subject_index, subject_sealed, decided_at FROM consent_event WHERE corp_id = ? ORDER BY decided_at',
      [corpId],
    );
    const consentKey = await indexKeyFor(keys, IndexPurposes.consent);
    assert.deepEqual(
      consent.map((c) => [c.msgid, c.decision, c.scope, new Date(c.decided_at).getTime()]),
      ['agree', 'disagree'].map((name) => [
        corpus.get(name)!.msgid,
        name,
        'wecom-archive',
        expected.get(name)!.consent!.at,
      ]),
    );
    for (const [row, name] of [
      [consent[0]!, 'agree'],
      [consent[1]!, 'disagree'],
    ] as const) {
      const userid = expected.get(name)!.consent!.userid;
      assert.equal(row.subject_index, blindIndex(consentKey, userid), 'looked up by blind index');
      assert.equal((await openBuffer(row.subject_sealed, keys)).toString('utf8'), userid, 'sealed subject');
      for (const value of Object.values(row)) {
        const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
        assert.ok(!bytes.includes(Buffer.from(userid)), 'no plaintext external userid in consent_event');
      }
    }
  });

  test('a recall flags its original whether it arrives before or after it; nothing is deleted', async () => {
    const corpId = uniqueCorp('recall');
    const start = windowOf();
    const base = { action: 'send', from: 'zhangwei', tolist: ['wmCust1'], roomid: '' };
    const original = (msgid: string, i: number) => ({
      ...base,
      msgid,
      msgtime: start + i * 1000,
      msgtype: 'text',
      text: { content: `这条消息稍后会被撤回 ${msgid}` },
    });
    const recall = (msgid: string, target: string, i: number) => ({
      ...base,
      msgid,
      action: 'recall',
      msgtime: start + i * 1000,
      msgtype: 'revoke',
      revoke: { pre_msgid: target },
    });
    // order 1: the recall is archived before its original arrives
    await post(corpId, [recall('r-early', 'o-late', 1)]);
    await waitForRows(corpId, 1, 'message_recall');
    await post(corpId, [original('o-late', 0)]);
    // order 2: the original first, then the recall
    await post(corpId, [original('o-early', 2)]);
    await waitForRows(corpId, 3);
    await post(corpId, [recall('r-late', 'o-early', 3)]);
    await waitForRows(corpId, 4);
    await waitForRows(corpId, 2, 'message_recall');

    const view = await portalView(start, start + 4000);
    assert.deepEqual([...view.values()].map((m) => [m.msgid, m.recalled, m.recallOf]).sort(), [
      ['o-early', true, null],
      ['o-late', true, null],
      ['r-early', false, 'o-late'],
      ['r-late', false, 'o-early'],
    ]);
    assert.equal(view.get('o-late')!.text, '这条消息稍后会被撤回 o-late');
    // a recall whose original never arrives flags nothing that exists and breaks nothing
    await post(corpId, [recall('r-orphan', 'never-sent', 4)]);
    await waitForRows(corpId, 3, 'message_recall');
    const orphan = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM message WHERE id = ?', [
      messageArchiveId(corpId, 'never-sent'),
    ]);
    assert.equal(Number(orphan[0]!.n), 0);
  });

  test('a msgid reused with different content: the first is kept, the other stored as a variant, redeliveries absorbed', async () => {
    const corpId = uniqueCorp('conflict');
    const start = windowOf();
    const message = (msgid: string, content: string, i: number) => ({
      msgid,
      action: 'send',
      from: 'zhangwei',
      tolist: ['wmCust2'],
      roomid: '',
      msgtime: start + i * 1000,
      msgtype: 'text',
      text: { content },
    });
    const conflictsSoFar = async () =>
      (
        await archiverApp.inject({ method: 'GET', url: '/v1/archiver/stats', headers: callerHeaders() })
      ).json<{
        contentConflicts: number;
      }>().contentConflicts;
    const before = await conflictsSoFar();
    await post(corpId, [message('dup-1', '第一版内容', 0)]);
    await waitForRows(corpId, 1);
    await post(corpId, [message('dup-1', '第二版内容（不同）', 0)]);
    // the same msgid twice with different content inside one batch: both acknowledged, both kept
    await post(corpId, [message('dup-2', '批内第一条', 1), message('dup-2', '批内第二条', 1)]);
    await waitForRows(corpId, 2, 'message_variant');
    // redeliveries of either version change nothing
    await post(corpId, [message('dup-1', '第一版内容', 0), message('dup-1', '第二版内容（不同）', 0)]);
    const marker = message('marker', '标记', 2);
    await post(corpId, [marker]);
    await waitForRows(corpId, 3);

    assert.equal(await archivedCount(corpId), 3);
    assert.equal(await archivedCount(corpId, 'message_variant'), 2);
    const view = await portalView(start, start + 3000);
    assert.equal(view.get('dup-1')!.text, '第一版内容', 'the first record stays the message');
    assert.equal(view.get('dup-2')!.text, '批内第一条');
    const variants = await db.query<{ msgid: string; sealed_record: Buffer; content_mac: string }>(
      'SELECT msgid, sealed_record, content_mac FROM message_variant WHERE corp_id = ? ORDER BY msgid',
      [corpId],
    );
    const texts = await Promise.all(
      variants.map(
        async (v) =>
          (JSON.parse((await openBuffer(v.sealed_record, keys)).toString()) as { text: string }).text,
      ),
    );
    assert.deepEqual(texts, ['第二版内容（不同）', '批内第二条'], 'nothing acknowledged is lost');
    const stored = await db.query<{ content_mac: string }>(
      'SELECT content_mac FROM message WHERE corp_id = ? AND msgid = ?',
      [corpId, 'dup-1'],
    );
    assert.notEqual(stored[0]!.content_mac, variants[0]!.content_mac);
    assert.ok((await conflictsSoFar()) >= before + 2, 'conflicts are counted');
  });

  test('a seq going backwards is a replay or a late record: accepted, each msgid archived once', async () => {
    const corpId = uniqueCorp('seqback');
    const start = windowOf();
    const message = (seq: number) => ({
      msgid: `seq-${seq}`,
      seq,
      action: 'send',
      from: 'wmCust3',
      tolist: ['zhangwei'],
      roomid: '',
      msgtime: start + seq * 1000,
      msgtype: 'text',
      text: { content: `第${seq}条` },
    });
    await post(corpId, [message(100), message(101)]);
    await waitForRows(corpId, 2);
    // the puller restarted from an older checkpoint: 99 is new, 100 and 101 come again
    const replay = await post(corpId, [message(99), message(100), message(101)]);
    assert.equal(replay.accepted.length, 3);
    await waitForRows(corpId, 3);
    await post(corpId, [{ ...message(102) }]);
    await waitForRows(corpId, 4);
    const rows = await db.query<{ msgid: string; seq: string }>(
      'SELECT msgid, seq FROM message WHERE corp_id = ? ORDER BY seq',
      [corpId],
    );
    assert.deepEqual(
      rows.map((r) => [r.msgid, Number(r.seq)]),
      [99, 100, 101, 102].map((s) => [`seq-${s}`, s]),
    );
    assert.equal(await archivedCount(corpId, 'message_variant'), 0, 'a replay is not a conflict');
  });
});
