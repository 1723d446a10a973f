import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import type { ConversationReply, LoginReply, SearchHit, SearchReply } from '@cz/contracts';
import {
  IndexPurposes,
  callArchiveId,
  createMainDataSource,
  createServer,
  indexKeyFor,
  keyProviderFromEnv,
  messageArchiveId,
  phoneIndex,
} from '@cz/common';
import { openBuffer, parseSealedHeader, sealBuffer } from '@cz/common/crypto';
import { SearchDocKinds, TokenHasher } from '@cz/common/search';
import { chatRows, type ChatSpec, createTestDatabase, loadStackEnv, type TestDatabase } from '@cz/testkit';
import { chatArchiveHooks, storeMessages, writeSearchTokens } from '@cz/archiver';
import portal from '../src/app';
import { upsertUser } from '../src/users';
import { setUserScope } from '../src/scope';
import { searchCorpus } from './fixtures/search-corpus';
import { CORPUS_DIGEST, EXPECTED_MSGIDS } from './fixtures/search-corpus-answers';

loadStackEnv();
const keys = keyProviderFromEnv();
const corpId = 'searchcorp';

interface CorpusMessage extends ChatSpec {
  conversationId: string;
  id: string;
}

describe('search API: no false positives, no false negatives (real MariaDB)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let app: ReturnType<typeof createServer>;
  let tight: ReturnType<typeof createServer>;
  let token: string;
  const corpus: CorpusMessage[] = [];

  before(async () => {
    db = await createTestDatabase();
    ds = createMainDataSource(db.config);
    await ds.initialize();
    await upsertUser(ds, {
      username: 'auditor',
      displayName: '审计员',
      roles: ['auditor'],
      password: 'Auditor#2026',
    });
    await upsertUser(ds, {
      username: 'admin',
      displayName: '管理员',
      roles: ['admin'],
      password: 'Admin#2026',
    });
    // head office: sees every record (REG-05 scopes are tested in scope.test.ts)
    for (const username of ['auditor', 'admin'])
      await setUserScope(ds, username, { all: true, units: [] }, 'test');

    // the corpus: generated the same on every run, its answers labelled by hand (fixtures/)
    const { specs, employees, orgOf } = searchCorpus(corpId);
    assert.equal(
      createHash('sha256').update(JSON.stringify(specs)).digest('hex'),
      CORPUS_DIGEST,
      'the corpus changed: relabel fixtures/search-corpus-answers.ts by its rules',
    );
    const hooks = await chatArchiveHooks(ds, keys);
    const rows = await chatRows(keys, specs);
    for (let s = 0; s < rows.length; s += 500)
      await storeMessages(ds, rows.slice(s, s + 500), undefined, { hooks });
    for (const row of rows) {
      corpus.push({
        ...specs.find((sp) => sp.msgid === row.message.msgid)!,
        conversationId: row.message.conversationId,
        id: row.message.id,
      });
    }

    app = createServer('portal', { logger: false });
    await app.register(portal, { database: db.config, keys, cursorKey: randomBytes(32) });
    await app.ready();
    // the same API with tiny budgets: pages come back partial, and must still add up to the truth
    tight = createServer('portal', { logger: false });
    await tight.register(portal, {
      database: db.config,
      keys,
      cursorKey: randomBytes(32),
      search: { limits: { scanBudget: 150, verifyBudget: 40, estimateCap: 100, countCap: 200 } },
    });
    await tight.ready();
    const login = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { username: 'admin', password: 'Admin#2026' },
    });
    token = login.json<LoginReply>().token;

    const load = await app.inject({
      method: 'PUT',
      url: `/v1/admin/directory/${corpId}`,
      headers: { authorization: `Bearer ${token}` },
      payload: {
        orgUnits: [
          { id: 'lujiazui', parentId: 'pudong', name: '陆家嘴支行' },
          { id: 'hq', parentId: null, name: '总行' },
          { id: 'pudong', parentId: 'hq', name: '浦东分行' },
          { id: 'xuhui', parentId: 'hq', name: '徐汇支行' },
        ],
        employees: employees.map((userid) => ({
          userid,
          orgUnitId: orgOf.get(userid)!,
          name: `员工${userid}`,
        })),
        customers: [
          { externalUserId: 'wmC1', name: '王芳', phone: '+86 138-0000-1111' },
          { externalUserId: 'wmC2', name: '李强', phone: '13900002222' },
          { externalUserId: 'woC5', name: '王芳' },
        ],
      },
    });
    assert.equal(load.statusCode, 200, load.body);
  });
  after(async () => {
    await app.close();
    await tight.close();
    await ds.destroy();
    await db.drop();
  });

  const get = (server: ReturnType<typeof createServer>, url: string) =>
    server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  const qs = (params: Record<string, string | string[] | number | undefined>) =>
    Object.entries(params)
      .flatMap(([k, v]) =>
        v === undefined
          ? []
          : (Array.isArray(v) ? v : [v]).map((x) => `${k}=${encodeURIComponent(String(x))}`),
      )
      .join('&');

  /** Follows the cursors to the end; returns the ids in order and the number of pages. */
  async function searchAll(
    params: Record<string, string | string[] | number | undefined>,
    server = app,
  ): Promise<{ ids: string[]; pages: number; first: SearchReply; maxScanned: number }> {
    const ids: string[] = [];
    let maxScanned = 0;
    let cursor: string | undefined;
    let pages = 0;
    let first: SearchReply | undefined;
    do {
      const res = await get(server, `/v1/search?${qs({ ...params, cursor })}`);
      assert.equal(res.statusCode, 200, res.body);
      const reply = res.json<SearchReply>();
      first ??= reply;
      maxScanned = Math.max(maxScanned, reply.examined.scanned);
      ids.push(...reply.items.map((h: SearchHit) => (h.kind === 'message' ? h.message.id : h.call.id)));
      cursor = reply.nextCursor ?? undefined;
      pages += 1;
      assert.ok(pages < 500, 'pagination terminates');
    } while (cursor);
    return { ids, pages, first: first, maxScanned };
  }

  const byTimeDesc = (a: CorpusMessage, b: CorpusMessage) =>
    b.msgtime - a.msgtime || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

  /** The oracle: the hand-labelled answer of `q` (all of the corpus without one), filtered, in page order. */
  function expected(q: string | undefined, keep: (m: CorpusMessage) => boolean = () => true): string[] {
    const labelled = q === undefined ? undefined : EXPECTED_MSGIDS[q];
    if (q !== undefined && labelled === undefined) throw new Error(`no hand-labelled answer for ${q}`);
    const answer = labelled === undefined ? undefined : new Set(labelled.trim().split(/\s+/));
    return corpus
      .filter((m) => keep(m) && (!answer || answer.has(m.msgid)))
      .sort(byTimeDesc)
      .map((m) => m.id);
  }

  const plant = (name: string) => messageArchiveId(corpId, `plant-${name}`);

  test('[REG-01] keyword queries return exactly the messages containing them, across pages (corpus with known answers)', async () => {
    const queries = [
      '保本保息',
      '"保本，保息"',
      '保本 保息',
      '保本 OR 稳赚',
      '理财 -保险',
      '稳赚不赔',
      'ETF基金',
      '"iPhone 15"',
      'iphone',
      '15',
      'A股',
      '收益率 年化',
      '3.5%',
      '大额存单 OR 债券 OR 股票 -风险',
      '本保',
    ];
    for (const q of queries) {
      const want = expected(q);
      for (const [name, server] of [
        ['default', app],
        ['tight budgets', tight],
      ] as const) {
        const { ids } = await searchAll({ q, limit: 17 }, server);
        assert.deepEqual(ids, want, `${q} (${name}): ${ids.length} found, ${want.length} expected`);
      }
    }
  });

  test('phrases across punctuation, mixed Chinese/English and digits follow the documented semantics', async () => {
    const ids = async (q: string) => new Set((await searchAll({ q })).ids);
    const plain = await ids('保本保息');
    assert.ok(plain.has(plant('plain')));
    assert.ok(plain.has(plant('spaced')), 'spaces between Chinese characters do not break a phrase');
    assert.ok(!plain.has(plant('comma')), 'punctuation in the text breaks the phrase');
    assert.ok(!plain.has(plant('ascii')));
    const withComma = await ids('保本，保息');
    assert.ok(
      withComma.has(plant('comma')) && withComma.has(plant('ascii')),
      'the same punctuation (NFKC) matches',
    );
    assert.ok(!withComma.has(plant('plain')));

    const etf = await ids('ETF基金');
    for (const name of ['etf', 'etfSpaced', 'fullwidth']) assert.ok(etf.has(plant(name)), name);
    assert.ok(!etf.has(plant('netflix')), 'a Latin word matches whole words only');

    const iphone = await ids('"iPhone 15"');
    assert.ok(iphone.has(plant('iphone')) && iphone.has(plant('iphoneJoined')));
    assert.ok(!iphone.has(plant('iphone150')), '15 does not match 150');
    assert.ok((await ids('13812345678')).has(plant('phone')));
    assert.ok(!(await ids('1381234567')).has(plant('phone')), 'digit runs match whole numbers only');
    assert.ok((await ids('１５只')).has(plant('fullwidth')));
  });

  test('filters: employee, org unit with descendants, customer by phone / name / ref / external id, time, msgtype, conversation', async () => {
    const touches = (m: CorpusMessage, people: string[]) =>
      people.includes(m.from) || m.tolist.some((t) => people.includes(t));
    const march = { from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' };
    const inMarch = (m: CorpusMessage) =>
      m.msgtime >= Date.parse(march.from) && m.msgtime < Date.parse(march.to);

    assert.deepEqual(
      (await searchAll({ employee: 'e_pd1', ...march, kind: 'message' })).ids,
      expected(undefined, (m) => touches(m, ['e_pd1']) && inMarch(m)),
    );
    assert.deepEqual(
      (await searchAll({ q: '收益', employee: 'e_xh2', ...march })).ids,
      expected('收益', (m) => touches(m, ['e_xh2']) && inMarch(m)),
    );
    // pudong includes its sub-branch lujiazui
    const pudong = ['e_pd1', 'e_pd2', 'e_lj1', 'e_lj2'];
    assert.deepEqual(
      (await searchAll({ q: '基金', orgUnit: 'pudong' })).ids,
      expected('基金', (m) => touches(m, pudong)),
    );
    assert.deepEqual(
      (await searchAll({ orgUnit: 'lujiazui', limit: 50 })).ids,
      expected(undefined, (m) => touches(m, ['e_lj1', 'e_lj2'])),
    );

    assert.deepEqual(
      (await searchAll({ customer: '13800001111' })).ids,
      expected(undefined, (m) => touches(m, ['wmC1'])),
    );
    assert.deepEqual(
      (await searchAll({ customer: '+86 139 0000 2222', q: '理财' })).ids,
      expected('理财', (m) => touches(m, ['wmC2'])),
    );
    // a name shared by two customers finds both
    assert.deepEqual(
      (await searchAll({ customer: '王芳', ...march })).ids,
      expected(undefined, (m) => touches(m, ['wmC1', 'woC5']) && inMarch(m)),
    );
    assert.deepEqual(
      (await searchAll({ customer: 'wmC3', q: '您好' })).ids,
      expected('您好', (m) => touches(m, ['wmC3'])),
    );
    const [ref] = await db.query<{ id: string }>(
      'SELECT id FROM customer WHERE corp_id = ? AND phone_index = CAST(? AS UNSIGNED)',
      [corpId, await phoneIndex(keys, '13900002222')],
    );
    assert.deepEqual(
      (await searchAll({ customer: ref!.id })).ids,
      expected(undefined, (m) => touches(m, ['wmC2'])),
    );
    assert.deepEqual(
      (await searchAll({ customer: '13000000000' })).ids,
      [],
      'an unknown phone finds nothing',
    );

    assert.deepEqual(
      (await searchAll({ employee: 'e_hq', customer: 'wmC4' })).ids,
      expected(undefined, (m) => touches(m, ['e_hq']) && touches(m, ['wmC4'])),
    );
    assert.deepEqual(
      (await searchAll({ msgtype: 'file', q: '合同' })).ids,
      expected('合同', (m) => m.msgtype === 'file'),
    );
    const conversationId = corpus.find((m) => m.roomid === 'room2')!.conversationId;
    assert.deepEqual(
      (await searchAll({ conversationId, q: '好的 OR 谢谢' })).ids,
      expected('好的 OR 谢谢', (m) => m.conversationId === conversationId),
    );
  });

  test('sort ascending, counts, and an exact count once everything was checked', async () => {
    const asc = await searchAll({ q: '定投', sort: 'asc', limit: 7 });
    assert.deepEqual(asc.ids, [...expected('定投')].reverse());
    const exact = (await get(app, `/v1/search?${qs({ q: '稳赚不赔', limit: 100 })}`)).json<SearchReply>();
    assert.deepEqual(exact.total, { value: expected('稳赚不赔').length, relation: 'eq' });
    const bounded = (await get(app, `/v1/search?${qs({ q: '您好', limit: 5 })}`)).json<SearchReply>();
    assert.equal(bounded.total?.relation, 'lte');
    assert.ok(bounded.total.value >= expected('您好').length, 'an upper bound');
    const metadata = (
      await get(app, `/v1/search?${qs({ employee: 'e_pd2', limit: 5 })}`)
    ).json<SearchReply>();
    assert.deepEqual(metadata.total, {
      value: expected(undefined, (m) => m.from === 'e_pd2' || m.tolist.includes('e_pd2')).length,
      relation: 'eq',
    });
  });

  test('bad input: empty, punctuation only, 10,000 characters, reversed range, unknown org unit are 400', async () => {
    const code = async (params: Record<string, string>) => {
      const res = await get(app, `/v1/search?${qs(params)}`);
      return [res.statusCode, res.json<{ code: string }>().code];
    };
    assert.deepEqual(await code({ q: '' }), [400, 'empty_query']);
    assert.deepEqual(await code({ q: '   ' }), [400, 'empty_query']);
    assert.deepEqual(await code({ q: '，。！？、；：“”' }), [400, 'no_searchable_terms']);
    assert.deepEqual(await code({ q: '保'.repeat(10000) }), [400, 'validation_failed']);
    assert.deepEqual(await code({ from: '2026-03-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }), [
      400,
      'bad_range',
    ]);
    assert.deepEqual(await code({ orgUnit: 'nowhere' }), [400, 'unknown_org_unit']);
    const ignored = (await get(app, `/v1/search?${qs({ q: '保本保息 ！！' })}`)).json<SearchReply>();
    assert.deepEqual(ignored.ignoredTerms, ['！！']);
  });

  test('bad input: a one-character query and a 50-year range get a bounded, correct answer', async () => {
    // one character: looked up as a single-character token, paged, within the budget per request
    const single = await searchAll({ q: '保', limit: 20 }, tight);
    assert.deepEqual(single.ids, expected('保'));
    const firstPage = (await get(tight, `/v1/search?${qs({ q: '保' })}`)).json<SearchReply>();
    assert.ok(
      firstPage.examined.scanned <= 150 && firstPage.examined.verified <= 40,
      JSON.stringify(firstPage.examined),
    );

    const fifty = { from: '1990-01-01T00:00:00.000Z', to: '2040-01-01T00:00:00.000Z' };
    const wide = await searchAll({ ...fifty, q: '合同 -签字', limit: 25 }, tight);
    assert.deepEqual(wide.ids, expected('合同 -签字'));
    assert.ok(wide.maxScanned <= 150);
    // filters only, over 50 years: every request stops at its budget, says so, and the pages add up
    const everything = await searchAll({ ...fifty, q: '-您好', limit: 100 }, tight);
    assert.deepEqual(everything.ids, expected('-您好'));
    assert.ok(everything.maxScanned <= 150 && everything.pages >= 10, `${everything.pages} pages`);
    assert.equal(everything.first.partial, true);
  });

  test('bad input: tampered cursors and cursors of another query are 400', async () => {
    const { nextCursor } = (await get(app, `/v1/search?${qs({ q: '您好', limit: 2 })}`)).json<SearchReply>();
    assert.ok(nextCursor);
    const [body, sig] = nextCursor.split('.');
    const forged = Buffer.from(JSON.stringify({ t: 0, id: '0'.repeat(32), f: 'x' })).toString('base64url');
    for (const cursor of [`${forged}.${sig}`, `${body}.AAAA`, 'garbage', `${body}x.${sig}`]) {
      const res = await get(app, `/v1/search?${qs({ q: '您好', cursor })}`);
      assert.equal(res.statusCode, 400, cursor);
      assert.equal(res.json<{ code: string }>().code, 'bad_cursor');
    }
    const other = await get(app, `/v1/search?${qs({ q: '谢谢', cursor: nextCursor })}`);
    assert.equal(other.json<{ code: string }>().code, 'bad_cursor');
  });

  test('[REG-04] every search is audited with what it showed; the phrase typed is kept only sealed', async () => {
    const res = (await get(app, `/v1/search?${qs({ q: '13812345678', limit: 5 })}`)).json<SearchReply>();
    const [event] = await db.query<{
      actor: string;
      detail: string | Record<string, unknown>;
      sealed_detail: Buffer | null;
    }>(
      "SELECT actor, detail, sealed_detail FROM audit_event WHERE action = 'search' ORDER BY seq DESC LIMIT 1",
    );
    const detail = (typeof event!.detail === 'string' ? JSON.parse(event!.detail) : event!.detail) as {
      q?: string;
      hasQuery: boolean;
      ids: string[];
    };
    assert.equal(event!.actor, 'admin');
    assert.equal(detail.q, undefined);
    assert.equal(detail.hasQuery, true);
    assert.ok(!JSON.stringify(detail).includes('5678'), 'no part of the phrase in the clear detail');
    assert.ok(event!.sealed_detail && !event!.sealed_detail.includes(Buffer.from('13812345678')));
    assert.deepEqual(JSON.parse((await openBuffer(event!.sealed_detail, keys)).toString()), {
      q: '13812345678',
    });
    assert.deepEqual(
      detail.ids,
      res.items.map((h) => (h.kind === 'message' ? h.message.id : h.call.id)),
    );
    assert.ok(
      res.items.every((h) => h.kind !== 'message' || !h.message.text.includes('13812345678')),
      'results are masked',
    );
  });

  test('conversation view: messages in order around a message, both directions, participants masked', async () => {
    const group = corpus.filter((m) => m.roomid === 'room1').sort((a, b) => -byTimeDesc(a, b));
    const focus = group[10]!;
    const url = (params: Record<string, string | number>) =>
      `/v1/conversations/${corpId}/${encodeURIComponent(focus.conversationId)}?${qs(params)}`;
    const res = await get(app, url({ around: focus.id, before: 3, after: 2 }));
    assert.equal(res.statusCode, 200, res.body);
    const view = res.json<ConversationReply>();
    assert.equal(view.kind, 'group');
    assert.equal(view.messageCount, group.length);
    assert.equal(view.focusId, focus.id);
    assert.deepEqual(
      view.items.map((i) => i.id),
      group.slice(7, 13).map((m) => m.id),
    );
    const older = (await get(app, url({ cursor: view.olderCursor!, before: 5 }))).json<ConversationReply>();
    assert.deepEqual(
      older.items.map((i) => i.id),
      group.slice(2, 7).map((m) => m.id),
    );
    const newer = (await get(app, url({ cursor: view.newerCursor!, after: 100 }))).json<ConversationReply>();
    assert.deepEqual(
      newer.items.map((i) => i.id),
      group.slice(13).map((m) => m.id),
    );
    assert.equal(newer.newerCursor, null);
    const customer = view.participants.find((p) => p.id === 'wmC1');
    if (customer) {
      assert.equal(customer.display, 'wm****');
      assert.match(customer.customerRef ?? '', /^[0-9a-f]{32}$/);
    }
    assert.equal((await get(app, url({ cursor: `o.${view.olderCursor!.slice(2, -3)}xyz` }))).statusCode, 400);
    assert.equal(
      (await get(app, url({ around: plant('plain') }))).statusCode,
      404,
      'a message of another conversation',
    );
    const latest = (await get(app, url({ before: 4 }))).json<ConversationReply>();
    assert.deepEqual(
      latest.items.map((i) => i.id),
      group.slice(-4).map((m) => m.id),
    );
  });

  test('org tree: loaded with paths, moves are applied, cycles are rejected', async () => {
    const tree = (await get(app, `/v1/org/${corpId}`)).json<{
      items: { id: string; depth: number; employees: number }[];
    }>();
    assert.deepEqual(
      tree.items.map((u) => [u.id, u.depth]),
      [
        ['hq', 0],
        ['pudong', 1],
        ['lujiazui', 2],
        ['xuhui', 1],
      ],
    );
    const put = (payload: Record<string, unknown>) =>
      app.inject({
        method: 'PUT',
        url: `/v1/admin/directory/${corpId}`,
        headers: { authorization: `Bearer ${token}` },
        payload,
      });
    const cycle = await put({ orgUnits: [{ id: 'hq', parentId: 'lujiazui', name: '总行' }] });
    assert.equal(cycle.statusCode, 400);
    assert.equal(cycle.json<{ code: string }>().code, 'org_cycle');
    const unknown = await put({ employees: [{ userid: 'x', orgUnitId: 'mars' }] });
    assert.equal(unknown.json<{ code: string }>().code, 'unknown_org_unit');
    // move lujiazui under xuhui: the pudong filter no longer includes its employees
    assert.equal(
      (await put({ orgUnits: [{ id: 'lujiazui', parentId: 'xuhui', name: '陆家嘴支行' }] })).statusCode,
      200,
    );
    const touches = (m: CorpusMessage, people: string[]) =>
      people.includes(m.from) || m.tolist.some((t) => people.includes(t));
    assert.deepEqual(
      (await searchAll({ q: '风险', orgUnit: 'pudong' })).ids,
      expected('风险', (m) => touches(m, ['e_pd1', 'e_pd2'])),
    );
    // the customer table holds no plaintext name or phone
    const rows = await db.query<Record<string, unknown>>('SELECT * FROM customer');
    for (const row of rows)
      for (const v of Object.values(row)) {
        const bytes = Buffer.isBuffer(v) ? v : Buffer.from(String(v));
        for (const needle of ['王芳', '13800001111', 'wmC1'])
          assert.ok(!bytes.includes(Buffer.from(needle)), needle);
      }
  });
  test('calls and transcripts are searched in the same query as chats, filtered by business type and customer phone', async () => {
    const callSpecs = [
      {
        callId: 'call-1',
        agent: 'e_pd1',
        phone: '13800001111',
        business: 'wealth',
        at: Date.UTC(2026, 2, 5, 3),
        text: '您好，这款产品保本保息吗',
      },
      {
        callId: 'call-2',
        agent: 'e_xh1',
        phone: '13700003333',
        business: 'loan',
        at: Date.UTC(2026, 2, 6, 3),
        text: '贷款利率是多少',
      },
      {
        callId: 'call-3',
        agent: 'e_pd1',
        phone: '13900002222',
        business: 'wealth',
        at: Date.UTC(2026, 2, 7, 3),
        text: '不能承诺保本，保息也不行',
      },
    ];
    const hasher = new TokenHasher(await indexKeyFor(keys, IndexPurposes.searchToken));
    for (const c of callSpecs) {
      const id = callArchiveId(corpId, c.callId);
      const record = {
        schema: 'cz.call.v1',
        kind: 'cdr',
        id,
        corpId,
        callId: c.callId,
        agentId: c.agent,
        customerNumber: c.phone,
        customerIndex: await phoneIndex(keys, c.phone),
        direction: 'outbound',
        startTime: c.at,
        endTime: c.at + 120000,
        businessType: c.business,
        receivedAt: Date.now(),
        contentMac: '0'.repeat(64),
      };
      const sealed = await sealBuffer(Buffer.from(JSON.stringify(record)), keys, 'chat');
      const header = parseSealedHeader(sealed);
      await db.query(
        `INSERT INTO call_record (id, corp_id, call_id, agent_id, direction, customer_index, start_time, end_time, business_type,
           received_at, content_mac, kek_id, kek_version, sealed_record)
         VALUES (?, ?, ?, ?, 'outbound', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          id,
          corpId,
          c.callId,
          c.agent,
          record.customerIndex,
          new Date(c.at),
          new Date(c.at + 120000),
          c.business,
          new Date(),
          record.contentMac,
          header.kekId,
          header.kekVersion,
          sealed,
        ],
      );
      const sealedText = await sealBuffer(Buffer.from(c.text), keys, 'chat');
      await db.query(
        `INSERT INTO call_transcript (call_pk, source, corp_id, created_at, kek_id, kek_version, sealed_text) VALUES (?, 'asr', ?, ?, ?, ?, ?)`,
        [id, corpId, new Date(), header.kekId, header.kekVersion, sealedText],
      );
      await ds.transaction((tx) =>
        writeSearchTokens(tx, hasher, [
          { id, time: c.at, kind: SearchDocKinds.callTranscript, text: c.text },
        ]),
      );
    }
    const callId = (h: SearchHit) => (h.kind === 'call' ? h.call.callId : null);
    const both = (await get(app, `/v1/search?${qs({ q: '保本保息', limit: 100 })}`)).json<SearchReply>();
    assert.deepEqual(
      both.items.filter((h) => h.kind === 'call').map(callId),
      ['call-1'],
      'punctuation rule holds for transcripts',
    );
    assert.equal(both.items.filter((h) => h.kind === 'message').length, expected('保本保息').length);
    const wealth = (
      await get(app, `/v1/search?${qs({ q: '保本', businessType: 'wealth' })}`)
    ).json<SearchReply>();
    assert.deepEqual(wealth.items.map(callId), ['call-3', 'call-1']);
    const byPhone = (
      await get(app, `/v1/search?${qs({ customer: '138 0000 1111', kind: 'call' })}`)
    ).json<SearchReply>();
    assert.deepEqual(byPhone.items.map(callId), ['call-1']);
    const hit = byPhone.items[0]!;
    assert.ok(
      hit.kind === 'call' && hit.call.customerNumber === '138****1111',
      'the customer number is masked',
    );
    const agent = (
      await get(app, `/v1/search?${qs({ employee: 'e_pd1', kind: 'call' })}`)
    ).json<SearchReply>();
    assert.deepEqual(agent.items.map(callId), ['call-3', 'call-1']);
  });
});
