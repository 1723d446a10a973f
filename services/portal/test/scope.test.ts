import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import type {
  ConversationReply,
  DataScopeView,
  LoginReply,
  MessageListReply,
  OrgTreeReply,
  ProtectedEmployeeListReply,
  ProtectedEmployeeView,
  SearchHit,
  SearchReply,
  UserScopeListReply,
  UserScopeView,
} from '@cz/contracts';
import {
  callArchiveId,
  createMainDataSource,
  createServer,
  keyProviderFromEnv,
  phoneIndex,
  wecomMediaId,
} from '@cz/common';
import { parseSealedHeader, sealBuffer } from '@cz/common/crypto';
import {
  archivedMessage,
  buildRecordings,
  callerHeaders,
  type ChatSpec,
  createTestDatabase,
  devCallerToken,
  loadStackEnv,
  sealedRow,
  type TestDatabase,
  testSettings,
  wav,
} from '@cz/testkit';
import { chatArchiveHooks, storeMessages } from '@cz/archiver';
import portal from '../src/app';
import { upsertUser } from '../src/users';
import { verifyAuditChain } from '../src/audit';

loadStackEnv();
const keys = keyProviderFromEnv();
const corpId = 'scopecorp';
const otherCorp = 'scopeother';

/*
 * The org tree: 总行 hq → 浦东分行 pudong → 陆家嘴支行 lujiazui; hq → 徐汇支行 xuhui; hq → 高管办 exec.
 * Another corp has a unit with the same id "pudong": a scope is per corp.
 */
const EMPLOYEES: Record<string, string> = {
  e_hq: 'hq',
  e_pd: 'pudong',
  e_lj: 'lujiazui',
  e_xh: 'xuhui',
  e_ceo: 'exec',
};

/** Every message says 理财, so one keyword search finds them all. */
const CHATS: Record<string, Omit<ChatSpec, 'corpId' | 'msgid' | 'msgtime' | 'text'> & { corp?: string }> = {
  pd: { from: 'e_pd', tolist: ['wmA'] },
  lj: { from: 'wmB', tolist: ['e_lj'] },
  xh: { from: 'e_xh', tolist: ['wmC'] },
  // a group across branches: visible to both branch heads
  cross: { from: 'e_xh', tolist: ['e_pd', 'wmD'], roomid: 'room-cross' },
  ceo: { from: 'e_ceo', tolist: ['wmE'] },
  // a protected employee takes part: hidden from the Pudong head although e_pd is in it
  ceoGroup: { from: 'e_pd', tolist: ['e_ceo', 'wmG'], roomid: 'room-ceo' },
  // customers only (no employee of any unit): head office only
  customers: { from: 'wmX', tolist: ['wmY'] },
  other: { from: 'o_pd', tolist: ['wmF'], corp: otherCorp },
};
const ALL = Object.keys(CHATS);
const PROTECTED_CHATS = ['ceo', 'ceoGroup'];

const CALLS: Record<string, string> = { 'call-pd': 'e_pd', 'call-xh': 'e_xh', 'call-ceo': 'e_ceo' };

const USERS = {
  admin: { roles: ['admin' as const], password: 'Admin#2026' },
  hq: { roles: ['auditor' as const], password: 'Hq#2026' },
  branch: { roles: ['auditor' as const], password: 'Branch#2026' },
  xuhui: { roles: ['risk_officer' as const], password: 'Xuhui#2026' },
  boss: { roles: ['auditor' as const, 'super_admin' as const], password: 'Boss#2026' },
  nobody: { roles: ['auditor' as const], password: 'Nobody#2026' },
};
type UserName = keyof typeof USERS;

describe('[REG-05] data scopes by organisation and protected employees (real MariaDB, MinIO)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let app: ReturnType<typeof createServer>;
  let recordingsApp: Awaited<ReturnType<typeof buildRecordings>>;
  const settings = testSettings();
  const tokens = new Map<UserName, string>();
  /** chat name → archive id and conversation id */
  const ids = new Map<string, { id: string; conversationId: string; corpId: string }>();
  const nameOf = new Map<string, string>();
  const audio = wav(40_000);
  const mediaBytes = randomBytes(3000);
  const mediaId = wecomMediaId(`sdk-${randomBytes(4).toString('hex')}`);

  const api = (user: UserName, method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens.get(user)!}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  before(async () => {
    db = await createTestDatabase();
    ds = createMainDataSource(db.config);
    await ds.initialize();
    recordingsApp = await buildRecordings(db, keys, settings);
    await recordingsApp.listen({ host: '127.0.0.1', port: 0 });
    const { port } = recordingsApp.server.address() as AddressInfo;
    app = createServer('portal', { logger: false });
    await app.register(portal, {
      database: db.config,
      keys,
      cursorKey: randomBytes(32),
      recordings: { url: `http://127.0.0.1:${port}`, token: devCallerToken() },
    });
    await app.ready();
    for (const [username, user] of Object.entries(USERS))
      await upsertUser(ds, { username, displayName: username, ...user });
    for (const username of Object.keys(USERS) as UserName[]) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { username, password: USERS[username].password },
      });
      assert.equal(res.statusCode, 200, res.body);
      tokens.set(username, res.json<LoginReply>().token);
    }
    // the admin has no scope yet, but administers scopes: give them (and head office) everything
    for (const username of ['admin', 'hq', 'boss'] as const) {
      const res = await api('admin', 'PUT', `/v1/admin/users/${username}/scope`, { all: true, units: [] });
      assert.equal(res.statusCode, 200, res.body);
    }

    const load = await api('admin', 'PUT', `/v1/admin/directory/${corpId}`, {
      orgUnits: [
        { id: 'hq', parentId: null, name: '总行' },
        { id: 'pudong', parentId: 'hq', name: '浦东分行' },
        { id: 'lujiazui', parentId: 'pudong', name: '陆家嘴支行' },
        { id: 'xuhui', parentId: 'hq', name: '徐汇支行' },
        { id: 'exec', parentId: 'hq', name: '高管办' },
      ],
      employees: Object.entries(EMPLOYEES).map(([userid, orgUnitId]) => ({ userid, orgUnitId })),
    });
    assert.equal(load.statusCode, 200, load.body);
    const other = await api('admin', 'PUT', `/v1/admin/directory/${otherCorp}`, {
      orgUnits: [{ id: 'pudong', parentId: null, name: '浦东（另一企业）' }],
      employees: [{ userid: 'o_pd', orgUnitId: 'pudong' }],
    });
    assert.equal(other.statusCode, 200, other.body);

    const rows = [];
    let minute = 0;
    for (const [name, chat] of Object.entries(CHATS)) {
      const { corp, ...rest } = chat;
      const message = archivedMessage({
        corpId: corp ?? corpId,
        msgid: `scope-${name}`,
        msgtime: Date.UTC(2026, 9, 1, 9, (minute += 1)),
        text: `${name} 理财产品介绍`,
        ...rest,
      });
      // the Pudong chat carries an attachment, stored in the recordings service
      if (name === 'pd') message.media = [{ kind: 'image', path: '/image', sdkfileid: 'sdk-scope-pd' }];
      rows.push(await sealedRow(keys, message));
      ids.set(name, { id: message.id, conversationId: message.conversationId, corpId: message.corpId });
      nameOf.set(message.id, name);
    }
    await storeMessages(ds, rows, undefined, { hooks: await chatArchiveHooks(ds, keys) });

    for (const [callId, agent] of Object.entries(CALLS)) {
      const id = callArchiveId(corpId, callId);
      const at = Date.UTC(2026, 9, 2, 3, Object.keys(CALLS).indexOf(callId));
      const sealed = await sealBuffer(
        Buffer.from(
          JSON.stringify({
            schema: 'cz.call.v1',
            kind: 'cdr',
            id,
            corpId,
            callId,
            agentId: agent,
            customerNumber: '13800001111',
            direction: 'outbound',
            startTime: at,
            endTime: at + 60000,
            businessType: 'wealth',
            receivedAt: Date.now(),
            contentMac: '0'.repeat(64),
          }),
        ),
        keys,
        'chat',
      );
      const header = parseSealedHeader(sealed);
      await db.query(
        `INSERT INTO call_record (id, corp_id, call_id, agent_id, direction, customer_index, start_time, end_time,
           business_type, received_at, content_mac, kek_id, kek_version, sealed_record)
         VALUES (?, ?, ?, ?, 'outbound', ?, ?, ?, 'wealth', ?, ?, ?, ?, ?)`,
        [
          id,
          corpId,
          callId,
          agent,
          await phoneIndex(keys, '13800001111'),
          new Date(at),
          new Date(at + 60000),
          new Date(),
          '0'.repeat(64),
          header.kekId,
          header.kekVersion,
          sealed,
        ],
      );
      const put = await recordingsApp.inject({
        method: 'PUT',
        url: `/v1/recordings/${callId}?corpId=${corpId}`,
        headers: { 'content-type': 'audio/x-wav', ...callerHeaders() },
        payload: audio,
      });
      assert.equal(put.statusCode, 201, put.body);
    }
    for (const id of [mediaId, wecomMediaId('sdk-scope-pd')]) {
      const put = await recordingsApp.inject({
        method: 'PUT',
        url: `/v1/media/${corpId}/${id}`,
        headers: {
          'content-type': 'image/png',
          'x-cz-md5': createHash('md5').update(mediaBytes).digest('hex'),
          ...callerHeaders(),
        },
        payload: mediaBytes,
      });
      assert.ok([200, 201].includes(put.statusCode), put.body);
    }
  });
  after(async () => {
    await app.close();
    await recordingsApp.close();
    await ds.destroy();
    await db.drop();
  });

  const messagesOf = async (user: UserName, query = '') => {
    const res = await api(user, 'GET', `/v1/messages?limit=200${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return res
      .json<MessageListReply>()
      .items.map((m) => nameOf.get(m.id)!)
      .sort();
  };
  const searchOf = async (user: UserName, query: string) => {
    const res = await api(user, 'GET', `/v1/search?limit=100&${query}`);
    assert.equal(res.statusCode, 200, res.body);
    const reply = res.json<SearchReply>();
    const names = reply.items
      .map((h: SearchHit) => (h.kind === 'message' ? nameOf.get(h.message.id)! : h.call.callId))
      .sort();
    return { names, total: reply.total };
  };
  const sorted = (names: string[]) => [...names].sort();
  const without = (names: string[], drop: string[]) => sorted(names.filter((n) => !drop.includes(n)));

  test('[REG-05] admin API: scopes and the protected list are set, listed and audited', async () => {
    const set = await api('admin', 'PUT', '/v1/admin/users/branch/scope', {
      all: false,
      units: [{ corpId, orgUnitId: 'pudong' }],
    });
    assert.equal(set.statusCode, 200, set.body);
    const view = set.json<UserScopeView>();
    assert.equal(view.scope.mode, 'units');
    assert.deepEqual(view.scope.units, [{ corpId, orgUnitId: 'pudong', name: '浦东分行' }]);
    assert.equal(view.scope.updatedBy, 'admin');
    const xuhui = await api('admin', 'PUT', '/v1/admin/users/xuhui/scope', {
      all: false,
      units: [{ corpId, orgUnitId: 'xuhui' }],
    });
    assert.equal(xuhui.statusCode, 200, xuhui.body);

    const list = (await api('admin', 'GET', '/v1/admin/users')).json<UserScopeListReply>();
    const modes = Object.fromEntries(list.items.map((u) => [u.username, u.scope.mode]));
    assert.deepEqual(modes, {
      admin: 'all',
      boss: 'all',
      branch: 'units',
      hq: 'all',
      nobody: 'none',
      xuhui: 'units',
    });
    assert.equal(list.items.find((u) => u.username === 'boss')!.scope.superAdmin, true);

    // the user's own scope, for the console header
    const mine = (await api('branch', 'GET', '/v1/auth/scope')).json<DataScopeView>();
    assert.equal(mine.mode, 'units');
    assert.equal(mine.units[0]!.name, '浦东分行');
    assert.equal((await api('nobody', 'GET', '/v1/auth/scope')).json<DataScopeView>().mode, 'none');

    const add = await api('admin', 'PUT', `/v1/admin/protected-employees/${corpId}/e_ceo`);
    assert.equal(add.statusCode, 201, add.body);
    assert.equal(add.json<ProtectedEmployeeView>().orgUnitId, 'exec');
    assert.equal(
      (await api('admin', 'PUT', `/v1/admin/protected-employees/${corpId}/e_ceo`)).statusCode,
      200,
    );
    // added and removed again: both are on record
    assert.equal((await api('admin', 'PUT', `/v1/admin/protected-employees/${corpId}/e_hq`)).statusCode, 201);
    assert.equal(
      (await api('admin', 'DELETE', `/v1/admin/protected-employees/${corpId}/e_hq`)).statusCode,
      204,
    );
    const protectedList = (
      await api('admin', 'GET', `/v1/admin/protected-employees?corpId=${corpId}`)
    ).json<ProtectedEmployeeListReply>();
    assert.deepEqual(
      protectedList.items.map((p) => [p.corpId, p.userid, p.addedBy]),
      [[corpId, 'e_ceo', 'admin']],
    );

    const events = await db.query<{ actor: string; action: string; target: string; detail: unknown }>(
      `SELECT actor, action, target, detail FROM audit_event
       WHERE action IN ('scope.set', 'protected.add', 'protected.remove') ORDER BY seq`,
    );
    const detail = (d: unknown) => (typeof d === 'string' ? JSON.parse(d) : d) as Record<string, unknown>;
    const branchChange = events.find((e) => e.target === 'user:branch')!;
    assert.equal(branchChange.actor, 'admin');
    assert.deepEqual(detail(branchChange.detail), {
      before: { mode: 'none', units: [] },
      after: { mode: 'units', units: [`${corpId}/pudong`] },
    });
    assert.deepEqual(
      events.filter((e) => e.action.startsWith('protected.')).map((e) => [e.action, e.target]),
      [
        ['protected.add', `employee:${corpId}:e_ceo`],
        ['protected.add', `employee:${corpId}:e_hq`],
        ['protected.remove', `employee:${corpId}:e_hq`],
      ],
    );
    assert.equal(await verifyAuditChain(ds), null);
  });

  test('[REG-05] bad input: unknown org unit, unknown user, all with units, unknown employee, non-admin caller are 4xx', async () => {
    const cases: [UserName, 'PUT' | 'DELETE' | 'GET', string, unknown, number, string][] = [
      [
        'admin',
        'PUT',
        '/v1/admin/users/branch/scope',
        { all: false, units: [{ corpId, orgUnitId: 'nowhere' }] },
        400,
        'unknown_org_unit',
      ],
      // the unit exists, but in another corp
      [
        'admin',
        'PUT',
        '/v1/admin/users/branch/scope',
        { all: false, units: [{ corpId: otherCorp, orgUnitId: 'xuhui' }] },
        400,
        'unknown_org_unit',
      ],
      ['admin', 'PUT', '/v1/admin/users/ghost/scope', { all: true, units: [] }, 404, 'unknown_user'],
      [
        'admin',
        'PUT',
        '/v1/admin/users/branch/scope',
        { all: true, units: [{ corpId, orgUnitId: 'pudong' }] },
        400,
        'conflicting_scope',
      ],
      [
        'admin',
        'PUT',
        '/v1/admin/users/branch/scope',
        { all: false, units: [{ corpId, orgUnitId: 'bad unit id!' }] },
        400,
        'FST_ERR_VALIDATION',
      ],
      ['admin', 'PUT', `/v1/admin/protected-employees/${corpId}/e_ghost`, undefined, 404, 'unknown_employee'],
      ['admin', 'DELETE', `/v1/admin/protected-employees/${corpId}/e_pd`, undefined, 404, 'not_protected'],
      ['hq', 'PUT', '/v1/admin/users/hq/scope', { all: true, units: [] }, 403, 'forbidden'],
      ['branch', 'PUT', '/v1/admin/users/branch/scope', { all: true, units: [] }, 403, 'forbidden'],
      ['hq', 'PUT', `/v1/admin/protected-employees/${corpId}/e_pd`, undefined, 403, 'forbidden'],
      ['hq', 'GET', '/v1/admin/users', undefined, 403, 'forbidden'],
    ];
    for (const [user, method, url, payload, status, code] of cases) {
      const res = await api(user, method, url, payload);
      assert.equal(res.statusCode, status, `${method} ${url} by ${user}: ${res.body}`);
      const body = res.json<{ code: string; message: string }>();
      if (code !== 'FST_ERR_VALIDATION') assert.equal(body.code, code, res.body);
      assert.ok(body.message.length > 0);
    }
    // nothing changed: the branch head still has Pudong only, e_pd is not protected
    const mine = (await api('branch', 'GET', '/v1/auth/scope')).json<DataScopeView>();
    assert.deepEqual(
      mine.units.map((u) => u.orgUnitId),
      ['pudong'],
    );
    assert.deepEqual(
      (await api('admin', 'GET', '/v1/admin/protected-employees'))
        .json<ProtectedEmployeeListReply>()
        .items.map((p) => p.userid),
      ['e_ceo'],
    );
  });

  test('[REG-05] message list: a branch head sees their branch (and units below), head office all but protected chats', async () => {
    assert.deepEqual(await messagesOf('branch'), sorted(['pd', 'lj', 'cross']));
    assert.deepEqual(await messagesOf('xuhui'), sorted(['xh', 'cross']));
    assert.deepEqual(await messagesOf('hq'), without(ALL, PROTECTED_CHATS));
    assert.deepEqual(await messagesOf('boss'), sorted(ALL));
    // a filter narrows within the scope, never past it
    assert.deepEqual(await messagesOf('branch', '&employee=e_xh'), ['cross']);
    assert.deepEqual(await messagesOf('branch', '&employee=e_ceo'), []);
    assert.deepEqual(await messagesOf('boss', '&employee=e_ceo'), sorted(PROTECTED_CHATS));
  });

  test('[REG-05] a user without a scope sees nothing anywhere (fail closed)', async () => {
    assert.deepEqual(await messagesOf('nobody'), []);
    const found = await searchOf('nobody', `q=${encodeURIComponent('理财')}`);
    assert.deepEqual(found.names, []);
    assert.deepEqual(found.total, { value: 0, relation: 'eq' });
    assert.deepEqual((await searchOf('nobody', 'kind=call')).names, []);
    const conversation = ids.get('pd')!;
    const view = await api(
      'nobody',
      'GET',
      `/v1/conversations/${corpId}/${encodeURIComponent(conversation.conversationId)}`,
    );
    assert.equal(view.statusCode, 404);
    assert.equal(
      (await api('nobody', 'GET', `/v1/calls/call-pd/recording?corpId=${corpId}`)).statusCode,
      404,
    );
    assert.deepEqual((await api('nobody', 'GET', `/v1/org/${corpId}`)).json<OrgTreeReply>().items, []);
  });

  test('[REG-05] search: results and counts hold only what the scope allows, for chats and calls', async () => {
    const q = `q=${encodeURIComponent('理财')}`;
    const branch = await searchOf('branch', q);
    assert.deepEqual(branch.names, sorted(['pd', 'lj', 'cross']));
    assert.deepEqual(branch.total, { value: 3, relation: 'eq' }, 'the count is of the visible records');
    assert.deepEqual((await searchOf('hq', q)).names, without(ALL, PROTECTED_CHATS));
    assert.deepEqual((await searchOf('boss', q)).names, sorted(ALL));
    // metadata-only counts are exact
    assert.deepEqual((await searchOf('branch', 'kind=message')).total, { value: 3, relation: 'eq' });
    assert.deepEqual((await searchOf('hq', 'kind=message')).total, {
      value: ALL.length - PROTECTED_CHATS.length,
      relation: 'eq',
    });
    // an org-unit filter outside the scope finds only what the scope shares with it
    assert.deepEqual((await searchOf('branch', 'orgUnit=xuhui')).names, ['cross']);
    // calls: by their agent's unit; the protected agent's calls for the super admin only
    assert.deepEqual((await searchOf('branch', 'kind=call')).names, ['call-pd']);
    assert.deepEqual((await searchOf('xuhui', 'kind=call')).names, ['call-xh']);
    assert.deepEqual((await searchOf('hq', 'kind=call')).names, ['call-pd', 'call-xh']);
    assert.deepEqual((await searchOf('boss', 'kind=call')).names, ['call-ceo', 'call-pd', 'call-xh']);
  });

  test('[REG-05] conversation view: 404 outside the scope (as if it did not exist), audited as denied', async () => {
    const url = (name: string) => {
      const c = ids.get(name)!;
      return `/v1/conversations/${c.corpId}/${encodeURIComponent(c.conversationId)}`;
    };
    const inside = await api('branch', 'GET', url('cross'));
    assert.equal(inside.statusCode, 200, inside.body);
    assert.deepEqual(
      inside.json<ConversationReply>().items.map((m) => nameOf.get(m.id)),
      ['cross'],
    );
    const outside = await api('branch', 'GET', url('xh'));
    const missing = await api(
      'branch',
      'GET',
      `/v1/conversations/${corpId}/${encodeURIComponent('p:e_pd|wmNOBODY')}`,
    );
    assert.equal(outside.statusCode, 404);
    assert.equal(missing.statusCode, 404);
    assert.equal(outside.json<{ code: string }>().code, missing.json<{ code: string }>().code);
    // the same unit id in another corp is not the branch head's
    assert.equal((await api('branch', 'GET', url('other'))).statusCode, 404);
    // protected: hidden from head office, shown to the super admin
    assert.equal((await api('hq', 'GET', url('ceo'))).statusCode, 404);
    assert.equal((await api('branch', 'GET', url('ceoGroup'))).statusCode, 404);
    assert.equal((await api('boss', 'GET', url('ceoGroup'))).statusCode, 200);

    const denied = await db.query<{ actor: string; target: string }>(
      "SELECT actor, target FROM audit_event WHERE action = 'conversation.view_denied' ORDER BY seq",
    );
    const target = (name: string) => `conversation:${ids.get(name)!.corpId}:${ids.get(name)!.conversationId}`;
    assert.deepEqual(
      denied.map((d) => [d.actor, d.target]),
      [
        ['nobody', target('pd')],
        ['branch', target('xh')],
        ['branch', target('other')],
        ['hq', target('ceo')],
        ['branch', target('ceoGroup')],
      ],
    );
    const views = await db.query<{ actor: string }>(
      "SELECT actor FROM audit_event WHERE action = 'conversation.view' ORDER BY seq",
    );
    assert.deepEqual(
      views.map((v) => v.actor),
      ['branch', 'boss'],
      'a denied view never counts as a view',
    );
  });

  test('[REG-05] playback: recordings and media outside the scope are 404 and audited as denied', async () => {
    const play = (user: UserName, callId: string) =>
      api(user, 'GET', `/v1/calls/${callId}/recording?corpId=${corpId}`);
    const own = await play('branch', 'call-pd');
    assert.equal(own.statusCode, 200, own.body);
    assert.ok(own.rawPayload.equals(audio));
    const other = await play('branch', 'call-xh');
    const unknown = await play('branch', 'call-none');
    assert.equal(other.statusCode, 404);
    assert.equal(unknown.statusCode, 404);
    assert.equal(other.json<{ code: string }>().code, unknown.json<{ code: string }>().code);
    assert.equal((await play('hq', 'call-ceo')).statusCode, 404);
    assert.equal((await play('boss', 'call-ceo')).statusCode, 200);

    // media: a scoped user names the message that refers to it
    const pd = ids.get('pd')!;
    const pdMedia = wecomMediaId('sdk-scope-pd');
    const media = (user: UserName, id: string, message?: string) =>
      api(user, 'GET', `/v1/media/${corpId}/${id}${message ? `?message=${message}` : ''}`);
    const shown = await media('branch', pdMedia, pd.id);
    assert.equal(shown.statusCode, 200, shown.body);
    assert.ok(shown.rawPayload.equals(mediaBytes));
    assert.equal((await media('branch', pdMedia)).statusCode, 400, 'the message is required');
    // a visible message that does not refer to the media, and a message outside the scope
    assert.equal((await media('branch', mediaId, pd.id)).statusCode, 404);
    assert.equal((await media('xuhui', pdMedia, pd.id)).statusCode, 404);
    // while protected employees exist, head office (not super admin) names the message too
    assert.equal((await media('admin', mediaId)).statusCode, 400);

    const denied = await db.query<{ actor: string; action: string; target: string }>(
      "SELECT actor, action, target FROM audit_event WHERE action IN ('recording.play_denied', 'media.view_denied') ORDER BY seq",
    );
    assert.deepEqual(
      denied.map((d) => [d.actor, d.action, d.target]),
      [
        ['nobody', 'recording.play_denied', `call:${callArchiveId(corpId, 'call-pd')}`],
        ['branch', 'recording.play_denied', `call:${callArchiveId(corpId, 'call-xh')}`],
        ['hq', 'recording.play_denied', `call:${callArchiveId(corpId, 'call-ceo')}`],
        ['branch', 'media.view_denied', `media:${corpId}/${mediaId}`],
        ['xuhui', 'media.view_denied', `media:${corpId}/${pdMedia}`],
      ],
    );
  });

  test('[REG-05] org tree: a branch head lists their part of the tree only', async () => {
    const tree = async (user: UserName, corp = corpId) =>
      (await api(user, 'GET', `/v1/org/${corp}`)).json<OrgTreeReply>().items.map((u) => u.id);
    assert.deepEqual(await tree('branch'), ['pudong', 'lujiazui']);
    assert.deepEqual(await tree('branch', otherCorp), []);
    assert.deepEqual(sorted(await tree('hq')), sorted(['hq', 'pudong', 'lujiazui', 'xuhui', 'exec']));
  });

  test('[REG-05] a scope change applies at once; a moved unit takes its chats along', async () => {
    // Lujiazui moves from Pudong to Xuhui: its chat leaves the Pudong head's view and joins Xuhui's
    const move = await api('admin', 'PUT', `/v1/admin/directory/${corpId}`, {
      orgUnits: [{ id: 'lujiazui', parentId: 'xuhui', name: '陆家嘴支行' }],
    });
    assert.equal(move.statusCode, 200, move.body);
    assert.deepEqual(await messagesOf('branch'), sorted(['pd', 'cross']));
    assert.deepEqual(await messagesOf('xuhui'), sorted(['xh', 'lj', 'cross']));
    // unprotecting the CEO shows their chats to head office again
    assert.equal(
      (await api('admin', 'DELETE', `/v1/admin/protected-employees/${corpId}/e_ceo`)).statusCode,
      204,
    );
    assert.deepEqual(await messagesOf('hq'), sorted(ALL));
    assert.deepEqual(await messagesOf('branch'), sorted(['pd', 'cross', 'ceoGroup']));
    // head office without protected employees: media needs no message any more
    assert.equal((await api('admin', 'GET', `/v1/media/${corpId}/${mediaId}`)).statusCode, 200);
  });
});
