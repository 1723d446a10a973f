import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import type { ConversationReply, LoginReply, MessageListReply, SearchReply } from '@cz/contracts';
import { createMainDataSource, createServer, keyProviderFromEnv } from '@cz/common';
import { sealBuffer, sealedKeyInfo } from '@cz/common/crypto';
import { archivedMessage, createTestDatabase, loadStackEnv, sealedRow, type TestDatabase } from '@cz/testkit';
import { chatArchiveHooks, storeMessages, type MessageRow } from '@cz/archiver';
import portal from '../src/app';
import { upsertUser } from '../src/users';

loadStackEnv();
const keys = keyProviderFromEnv();
const corpId = 'bindcorp';
const SECRET = '董事会决议：下周三公告并购，务必保密';

/*
 * The attack of issue 10: a protected executive's sealed_record is copied into a row inside a
 * branch user's scope. With v2 the value's binding names another row; with v1 (no binding) the
 * opened content names another message. Either way the portal must not show it.
 */
describe('[REG-06] moved sealed values are refused by the portal (real MariaDB, key service)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let app: ReturnType<typeof createServer>;
  const tokens = new Map<string, string>();
  const ids = new Map<string, { id: string; conversationId: string }>();

  const api = (user: string, url: string) =>
    app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens.get(user)!}` } });

  /** How ingest seals (v2, bound) or how a stack before v2 sealed (v1). */
  async function row(version: 1 | 2, name: string, from: string, to: string, minute: number, text: string) {
    const message = archivedMessage({
      corpId,
      msgid: `bind-${name}`,
      from,
      tolist: [to],
      msgtime: Date.UTC(2026, 9, 1, 9, minute),
      text,
    });
    ids.set(name, { id: message.id, conversationId: message.conversationId });
    if (version === 1) return sealedRow(keys, message);
    const sealedRecord = await sealBuffer(Buffer.from(JSON.stringify(message)), keys, 'chat', {
      kind: 'msg',
      corp: corpId,
      id: message.id,
    });
    const info = sealedKeyInfo(sealedRecord);
    return { message, sealedRecord, kekId: info.kekId, kekVersion: info.kekVersion } satisfies MessageRow;
  }

  before(async () => {
    db = await createTestDatabase();
    ds = createMainDataSource(db.config);
    await ds.initialize();
    app = createServer('portal', { logger: false });
    await app.register(portal, { database: db.config, keys, cursorKey: randomBytes(32) });
    await app.ready();
    for (const [username, roles] of [
      ['admin', ['admin']],
      ['branch', ['auditor']],
    ] as const)
      await upsertUser(ds, {
        username,
        displayName: username,
        roles: [...roles],
        password: `${username}#Pw2026`,
      });
    for (const username of ['admin', 'branch']) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { username, password: `${username}#Pw2026` },
      });
      assert.equal(res.statusCode, 200, res.body);
      tokens.set(username, res.json<LoginReply>().token);
    }
    const admin = (method: 'PUT', url: string, payload: Record<string, unknown>) =>
      app.inject({ method, url, payload, headers: { authorization: `Bearer ${tokens.get('admin')!}` } });
    assert.equal(
      (await admin('PUT', '/v1/admin/users/admin/scope', { all: true, units: [] })).statusCode,
      200,
    );
    const load = await admin('PUT', `/v1/admin/directory/${corpId}`, {
      orgUnits: [
        { id: 'hq', parentId: null, name: '总行' },
        { id: 'pudong', parentId: 'hq', name: '浦东分行' },
        { id: 'exec', parentId: 'hq', name: '高管办' },
      ],
      employees: [
        { userid: 'e_pd', orgUnitId: 'pudong' },
        { userid: 'e_ceo', orgUnitId: 'exec' },
      ],
    });
    assert.equal(load.statusCode, 200, load.body);
    const scope = await admin('PUT', '/v1/admin/users/branch/scope', {
      all: false,
      units: [{ corpId, orgUnitId: 'pudong' }],
    });
    assert.equal(scope.statusCode, 200, scope.body);

    const rows = [
      await row(2, 'ceo2', 'e_ceo', 'wmVip', 1, `${SECRET} 理财 v2`),
      await row(2, 'pd2', 'e_pd', 'wmA', 2, '您好 理财 v2'),
      await row(1, 'ceo1', 'e_ceo', 'wmVip', 3, `${SECRET} 理财 v1`),
      await row(1, 'pd1', 'e_pd', 'wmB', 4, '您好 理财 v1'),
    ];
    await storeMessages(ds, rows, undefined, { hooks: await chatArchiveHooks(ds, keys) });
  });
  after(async () => {
    await app.close();
    await ds.destroy();
    await db.drop();
  });

  const names = (reply: MessageListReply) =>
    reply.items.map((m) => [...ids.entries()].find(([, v]) => v.id === m.id)![0]).sort();

  test('before the attack the branch user sees the branch chats only, in full', async () => {
    const res = await api('branch', '/v1/messages?limit=50');
    assert.equal(res.statusCode, 200, res.body);
    const reply = res.json<MessageListReply>();
    assert.deepEqual(names(reply), ['pd1', 'pd2']);
    assert.ok(reply.items.every((m) => m.integrityError === undefined && m.text.startsWith('您好')));
  });

  for (const version of [2, 1] as const) {
    test(`[REG-06] moved sealed value (v${version}): an executive's sealed_record copied into a branch row → integrity error, not shown, audited`, async () => {
      const ceo = ids.get(`ceo${version}`)!;
      const pd = ids.get(`pd${version}`)!;
      await db.query(
        'UPDATE message SET sealed_record = (SELECT sealed_record FROM (SELECT sealed_record FROM message WHERE id = ?) AS x) WHERE id = ?',
        [ceo.id, pd.id],
      );

      const list = await api('branch', '/v1/messages?limit=50');
      assert.equal(list.statusCode, 200, 'the page is served, not a 500');
      assert.ok(!list.body.includes('董事会'), 'nothing of the executive message is in the reply');
      const moved = list.json<MessageListReply>().items.find((m) => m.id === pd.id)!;
      assert.equal(moved.integrityError, 'binding_mismatch');
      assert.equal(moved.text, '');

      const convo = await api(
        'branch',
        `/v1/conversations/${corpId}/${encodeURIComponent(pd.conversationId)}`,
      );
      assert.equal(convo.statusCode, 200, convo.body);
      assert.ok(!convo.body.includes('董事会'));
      assert.equal(
        convo.json<ConversationReply>().items.find((m) => m.id === pd.id)?.integrityError,
        'binding_mismatch',
      );

      const search = await api('branch', `/v1/search?q=${encodeURIComponent('理财')}&limit=50`);
      assert.equal(search.statusCode, 200, search.body);
      assert.ok(!search.body.includes('董事会'), 'search does not show it either');
      assert.ok(
        !search.json<SearchReply>().items.some((hit) => hit.kind === 'message' && hit.message.id === pd.id),
      );

      const audited = await db.query<{ actor: string; target: string; detail: unknown }>(
        "SELECT actor, target, detail FROM audit_event WHERE action = 'integrity.binding' AND target = ?",
        [`msg:${pd.id}`],
      );
      assert.ok(audited.length >= 2, 'every refused read is in the audit trail');
      assert.ok(audited.some((a) => a.actor === 'branch'));
      assert.ok(audited.every((a) => !JSON.stringify(a.detail).includes('董事会')));

      // one critical alert for the record in the outbox the archiver publishes, however often it was read
      const alerts = await db.query<{ severity: string; source: string; detail: unknown }>(
        "SELECT severity, source, detail FROM completeness_alert WHERE kind = 'integrity.binding' AND corp_id = ? AND JSON_VALUE(detail, '$.detail.recordId') = ?",
        [corpId, pd.id],
      );
      assert.equal(alerts.length, 1, 'one integrity alert for the moved record');
      assert.equal(alerts[0]!.severity, 'critical');
      assert.equal(alerts[0]!.source, 'portal');
      assert.ok(!JSON.stringify(alerts[0]!.detail).includes('董事会'));
    });
  }
});
