import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import type { ArchivedMessageV1, LoginReply, MessageListReply } from '@cz/contracts';
import {
  conversationIdOf,
  createMainDataSource,
  createServer,
  keyProviderFromEnv,
  messageArchiveId,
} from '@cz/common';
import { parseSealedHeader, sealBuffer } from '@cz/common/crypto';
import { createTestDatabase, loadStackEnv, type TestDatabase } from '@cz/testkit';
import { storeMessages } from '@cz/archiver';
import portal from '../src/app';
import { upsertUser } from '../src/users';
import { setUserScope } from '../src/scope';
import { verifyAuditChain } from '../src/audit';

loadStackEnv();
const keys = keyProviderFromEnv();
const corpId = 'portalcorp';

async function archive(
  dataSource: DataSource,
  items: { msgid: string; from: string; to: string; minute: number; text: string }[],
) {
  const rows = [];
  for (const item of items) {
    const message: ArchivedMessageV1 = {
      schema: 'cz.msg.v1',
      id: messageArchiveId(corpId, item.msgid),
      corpId,
      msgid: item.msgid,
      action: 'send',
      msgtype: 'text',
      from: item.from,
      tolist: [item.to],
      conversationId: conversationIdOf({ from: item.from, tolist: [item.to] }),
      msgtime: Date.UTC(2026, 10, 1, 9, item.minute),
      text: item.text,
      raw: {},
      receivedAt: Date.now(),
    };
    const sealed = await sealBuffer(Buffer.from(JSON.stringify(message)), keys, 'chat');
    const header = parseSealedHeader(sealed);
    rows.push({ message, sealedRecord: sealed, kekId: header.kekId, kekVersion: header.kekVersion });
  }
  await storeMessages(dataSource, rows);
}

describe('portal API (real MariaDB)', () => {
  let db: TestDatabase;
  let app: ReturnType<typeof createServer>;
  let token: string;
  let dataSource: DataSource;

  before(async () => {
    db = await createTestDatabase();
    dataSource = createMainDataSource(db.config);
    await dataSource.initialize();
    app = createServer('portal', { logger: false });
    await app.register(portal, { database: db.config, keys, cursorKey: randomBytes(32) });
    await app.ready();
    await upsertUser(dataSource, {
      username: 'auditor',
      displayName: '审计员 张敏',
      roles: ['auditor'],
      password: 'Auditor#2026',
    });
    // head office: sees every record (REG-05 scopes are tested in scope.test.ts)
    await setUserScope(dataSource, 'auditor', { all: true, units: [] }, 'test');
    await upsertUser(dataSource, {
      username: 'keeper',
      displayName: '密钥管理员',
      roles: ['security_officer'],
      password: 'Keeper#2026',
    });
    await archive(dataSource, [
      {
        msgid: 'p1',
        from: 'zhaolei',
        to: 'wmA',
        minute: 1,
        text: '您好，我的电话是 138-1234-5678，卡号 6222 0212 3456 7890 123',
      },
      { msgid: 'p2', from: 'wmA', to: 'zhaolei', minute: 2, text: '这个产品保本吗？' },
      { msgid: 'p3', from: 'sunli', to: 'wmB', minute: 3, text: '稳赚不赔，放心' },
      { msgid: 'p4', from: 'zhaolei', to: 'wmC', minute: 4, text: '身份证 11010119900307123X 已收到' },
      { msgid: 'p5', from: 'zhaolei', to: 'wmA', minute: 5, text: '+86 13987654321 是我的备用号' },
    ]);
    const login = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { username: 'auditor', password: 'Auditor#2026' },
    });
    assert.equal(login.statusCode, 200, login.body);
    token = login.json<LoginReply>().token;
  });
  after(async () => {
    await app.close();
    await dataSource.destroy();
    await db.drop();
  });

  const list = (query: string, auth = token) =>
    app.inject({
      method: 'GET',
      url: `/v1/messages${query}`,
      headers: auth ? { authorization: `Bearer ${auth}` } : {},
    });

  test('wrong password is 401 and the attempt is audited', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { username: 'auditor', password: 'nope' },
    });
    assert.equal(res.statusCode, 401);
    const events = await db.query<{ action: string }>(
      "SELECT action FROM audit_event WHERE action = 'auth.login_failed'",
    );
    assert.ok(events.length >= 1);
  });

  test('no token or a forged token is 401; a role without archive access is 403', async () => {
    assert.equal((await list('', '')).statusCode, 401);
    assert.equal((await list('', 'A'.repeat(43))).statusCode, 401);
    const login = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { username: 'keeper', password: 'Keeper#2026' },
    });
    assert.equal((await list('', login.json<LoginReply>().token)).statusCode, 403);
  });

  test('[REG-04] messages come back newest first with phone, ID and bank card numbers masked', async () => {
    const res = await list('');
    assert.equal(res.statusCode, 200, res.body);
    const { items } = res.json<MessageListReply>();
    assert.deepEqual(
      items.map((i) => i.msgid),
      ['p5', 'p4', 'p3', 'p2', 'p1'],
    );
    const text = new Map(items.map((i) => [i.msgid, i.text]));
    assert.equal(text.get('p1'), '您好，我的电话是 138****5678，卡号 6222 **** **** 0123');
    assert.equal(text.get('p4'), '身份证 110101***********X 已收到');
    assert.equal(text.get('p5'), '+86 139****4321 是我的备用号');
    assert.equal(text.get('p3'), '稳赚不赔，放心');
    for (const item of items) assert.doesNotMatch(item.text, /1[3-9]\d{9}/);
  });

  test('employee filter matches sender or recipient; time range bounds; keyset pages are complete', async () => {
    const res = await list('?employee=zhaolei&limit=2');
    const first = res.json<MessageListReply>();
    assert.deepEqual(
      first.items.map((i) => i.msgid),
      ['p5', 'p4'],
    );
    assert.ok(first.nextCursor);
    const second = (
      await list(`?employee=zhaolei&limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)
    ).json<MessageListReply>();
    assert.deepEqual(
      second.items.map((i) => i.msgid),
      ['p2', 'p1'],
    );
    assert.equal(second.nextCursor, null);

    const ranged = (
      await list(
        `?from=${new Date(Date.UTC(2026, 10, 1, 9, 2)).toISOString()}&to=${new Date(Date.UTC(2026, 10, 1, 9, 4)).toISOString()}`,
      )
    ).json<MessageListReply>();
    assert.deepEqual(
      ranged.items.map((i) => i.msgid),
      ['p3', 'p2'],
    );
  });

  test('a tampered cursor, a cursor from another query and a reversed range are 400', async () => {
    const { nextCursor } = (await list('?employee=zhaolei&limit=1')).json<MessageListReply>();
    const [body, sig] = nextCursor!.split('.');
    const forgedBody = Buffer.from(JSON.stringify({ t: 0, id: 'x', f: 'y' })).toString('base64url');
    for (const cursor of [`${forgedBody}.${sig}`, `${body}.AAAA`, 'garbage']) {
      const res = await list(`?employee=zhaolei&cursor=${encodeURIComponent(cursor)}`);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json<{ code: string }>().code, 'bad_cursor');
    }
    const other = await list(`?employee=sunli&cursor=${encodeURIComponent(nextCursor!)}`);
    assert.equal(other.statusCode, 400);
    const reversed = await list('?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z');
    assert.equal(reversed.statusCode, 400);
    assert.equal(reversed.json<{ code: string }>().code, 'bad_range');
    const badDate = await list('?from=yesterday');
    assert.equal(badDate.statusCode, 400);
  });

  test('every read is in the audit trail, and the trail is an intact SM3 chain', async () => {
    const before = await db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM audit_event WHERE action = 'message.list'",
    );
    await list('?employee=sunli');
    const events = await db.query<{ actor: string; target: string; detail: string | { ids: string[] } }>(
      "SELECT actor, target, detail FROM audit_event WHERE action = 'message.list' ORDER BY seq DESC LIMIT 1",
    );
    const after = await db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM audit_event WHERE action = 'message.list'",
    );
    assert.equal(Number(after[0]!.n), Number(before[0]!.n) + 1);
    assert.equal(events[0]!.actor, 'auditor');
    assert.equal(events[0]!.target, 'employee:sunli');
    const detail = events[0]!.detail;
    assert.deepEqual((typeof detail === 'string' ? (JSON.parse(detail) as { ids: string[] }) : detail).ids, [
      messageArchiveId(corpId, 'p3'),
    ]);
    assert.equal(await verifyAuditChain(dataSource), null);
    await db.query(
      "UPDATE audit_event SET actor = 'someone-else' WHERE action = 'message.list' ORDER BY seq DESC LIMIT 1",
    );
    assert.notEqual(await verifyAuditChain(dataSource), null, 'an edited event breaks the chain');
  });
});
