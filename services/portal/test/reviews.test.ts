/**
 * The review queue (抽检复核) through the portal (real MariaDB, the stack's keys): review items are
 * written here as the compliance service's sampler writes them.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import type {
  ReviewItemView,
  ReviewListReply,
  ReviewReason,
  ReviewSamplingConfig,
  ReviewStatus,
  Role,
} from '@cz/contracts';
import { createMainDataSource, createServer, keyProviderFromEnv } from '@cz/common';
import { createTestDatabase, loadStackEnv, type TestDatabase } from '@cz/testkit';
import portal from '../src/app';
import { upsertUser } from '../src/users';
import { addProtected, setUserScope } from '../src/scope';
import { loadDirectory } from '../src/directory';

loadStackEnv();
const keys = keyProviderFromEnv();
const corpId = 'reviewcorp';
const HOUR = 3_600_000;
const NOTE = '理财经理向客户承诺年化8%保本，需约谈';

const EMPLOYEES: Record<string, string> = { e_pd: 'pudong', e_xh: 'xuhui', e_ceo: 'exec' };
const CONVERSATIONS: Record<string, string[]> = {
  'conv-pd': ['e_pd', 'wmA'],
  'conv-xh': ['e_xh', 'wmC'],
  'conv-ceo': ['e_ceo', 'wmE'],
};
const USERS: Record<string, Role[]> = {
  admin: ['admin'],
  auditor: ['auditor'],
  risk: ['risk_officer'],
  branch: ['auditor'],
  nobody: ['risk_officer'],
};
type UserName = keyof typeof USERS;

describe('review queue: scope, decisions, sampling settings (real MariaDB)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let app: ReturnType<typeof createServer>;
  const tokens = new Map<UserName, string>();
  const ids = new Map<string, string>();
  const nameOf = new Map<string, string>();

  const api = (user: UserName, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens.get(user)!}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const names = async (user: UserName, query = '') => {
    const res = await api(user, 'GET', `/v1/reviews?limit=200${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return res
      .json<ReviewListReply>()
      .items.map((i) => nameOf.get(i.id)!)
      .sort();
  };
  const decide = (user: UserName, name: string, decision: string, note?: string) =>
    api(user, 'POST', `/v1/reviews/${ids.get(name)!}/decision`, {
      decision,
      ...(note === undefined ? {} : { note }),
    });
  const sessionFor = async (username: string) => {
    const token = randomBytes(32).toString('base64url');
    await db.query(
      'INSERT INTO portal_session (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)',
      [createHash('sm3').update(token).digest('hex'), username, new Date(), new Date(Date.now() + HOUR)],
    );
    return token;
  };
  const insertItem = async (
    name: string,
    conversation: string,
    day: string,
    reason: ReviewReason,
    createdAgoMinutes: number,
    status: ReviewStatus = 'pending',
  ) => {
    const id = randomBytes(16).toString('hex');
    const unit = EMPLOYEES[CONVERSATIONS[conversation]![0]!] ?? null;
    await db.query(
      `INSERT INTO review_item (id, corp_id, conversation_id, day, reason, alert_count, org_unit_id, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        corpId,
        conversation,
        day,
        reason,
        reason === 'alert' ? 2 : 0,
        unit,
        status,
        new Date(Date.now() - createdAgoMinutes * 60_000),
      ],
    );
    ids.set(name, id);
    nameOf.set(id, name);
  };
  const auditOf = (action: string) =>
    db.query<{ actor: string; target: string; detail: Record<string, unknown> | string }>(
      'SELECT actor, target, detail FROM audit_event WHERE action = ? ORDER BY seq',
      [action],
    );

  before(async () => {
    db = await createTestDatabase();
    ds = createMainDataSource(db.config);
    await ds.initialize();
    app = createServer('portal', { logger: false });
    await app.register(portal, { database: db.config, keys, cursorKey: randomBytes(32) });
    await app.ready();
    for (const [username, roles] of Object.entries(USERS)) {
      await upsertUser(ds, { username, displayName: username, roles, password: `${username}#Pass2026` });
      tokens.set(username, await sessionFor(username));
    }
    await loadDirectory(ds, keys, corpId, {
      orgUnits: [
        { id: 'hq', parentId: null, name: '总行' },
        { id: 'pudong', parentId: 'hq', name: '浦东分行' },
        { id: 'xuhui', parentId: 'hq', name: '徐汇支行' },
        { id: 'exec', parentId: 'hq', name: '高管办' },
      ],
      employees: Object.entries(EMPLOYEES).map(([userid, orgUnitId]) => ({ userid, orgUnitId })),
    });
    for (const username of ['admin', 'auditor', 'risk'])
      await setUserScope(ds, username, { all: true, units: [] }, 'test');
    await setUserScope(ds, 'branch', { all: false, units: [{ corpId, orgUnitId: 'pudong' }] }, 'test');
    await addProtected(ds, corpId, 'e_ceo', 'test');
    const at = new Date();
    for (const [conversation, people] of Object.entries(CONVERSATIONS))
      for (const participant of people)
        await db.query(
          `INSERT INTO conversation_participant (corp_id, conversation_id, participant, party, first_msgtime, last_msgtime, sent_count)
           VALUES (?, ?, ?, ?, ?, ?, 1)`,
          [corpId, conversation, participant, participant.startsWith('wm') ? 'customer' : 'employee', at, at],
        );
    await insertItem('pd-alert', 'conv-pd', '2026-12-01', 'alert', 10);
    await insertItem('pd-sample', 'conv-pd', '2026-11-30', 'sample', 20);
    await insertItem('xh-sample', 'conv-xh', '2026-12-01', 'sample', 5);
    await insertItem('xh-done', 'conv-xh', '2026-11-29', 'alert', 30, 'passed');
    await insertItem('ceo-alert', 'conv-ceo', '2026-12-01', 'alert', 1);
  });
  after(async () => {
    await app.close();
    await ds.destroy();
    await db.drop();
  });

  test('[REG-05] reviewers see the items of their scope only; filters; the conversation they link to', async () => {
    assert.deepEqual(await names('branch'), ['pd-alert', 'pd-sample']);
    assert.deepEqual(await names('admin'), ['pd-alert', 'pd-sample', 'xh-done', 'xh-sample']);
    assert.deepEqual(await names('nobody'), []);
    assert.deepEqual(await names('admin', '&status=passed'), ['xh-done']);
    assert.deepEqual(await names('admin', '&reason=sample'), ['pd-sample', 'xh-sample']);
    assert.deepEqual(await names('admin', `&corpId=${corpId}&reason=alert&status=pending`), ['pd-alert']);
    assert.deepEqual(await names('admin', '&corpId=othercorp'), []);

    const item = (await api('branch', 'GET', '/v1/reviews?reason=alert')).json<ReviewListReply>().items[0]!;
    assert.equal(item.corpId, corpId);
    assert.equal(item.conversationId, 'conv-pd');
    assert.equal(item.day, '2026-12-01');
    assert.equal(item.alertCount, 2);
    assert.equal(item.orgUnitName, '浦东分行');
    assert.equal(item.note, null);
    const listed = await auditOf('review.list');
    assert.ok(listed.some((e) => e.actor === 'branch'));
    const bad = await api('admin', 'GET', '/v1/reviews?status=done');
    assert.equal(bad.statusCode, 400);
  });

  test('pagination: newest first, each item once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api(
        'admin',
        'GET',
        `/v1/reviews?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(res.statusCode, 200, res.body);
      const reply = res.json<ReviewListReply>();
      seen.push(...reply.items.map((i) => nameOf.get(i.id)!));
      cursor = reply.nextCursor;
      pages += 1;
    } while (cursor && pages < 5);
    assert.deepEqual(seen, ['xh-sample', 'pd-alert', 'pd-sample', 'xh-done']);
    assert.equal(pages, 2);
  });

  test('decisions: an issue needs a note, the note is sealed, a decided item cannot be decided again', async () => {
    const noNote = await decide('branch', 'pd-alert', 'issue');
    assert.equal(noNote.statusCode, 400);
    assert.equal(noNote.json<{ code: string }>().code, 'note_required');

    const issue = await decide('branch', 'pd-alert', 'issue', NOTE);
    assert.equal(issue.statusCode, 200, issue.body);
    const view = issue.json<ReviewItemView>();
    assert.equal(view.status, 'issue');
    assert.equal(view.decidedBy, 'branch');
    assert.ok(view.decidedAt);
    assert.equal(view.note, NOTE);

    const again = await decide('risk', 'pd-alert', 'passed');
    assert.equal(again.statusCode, 409);
    assert.equal(again.json<{ code: string }>().code, 'already_decided');

    const passed = await decide('risk', 'xh-sample', 'passed');
    assert.equal(passed.statusCode, 200, passed.body);
    assert.equal(passed.json<ReviewItemView>().note, null);
    assert.equal((await decide('auditor', 'pd-sample', 'skipped', '  ')).statusCode, 200);

    // the note is sealed at rest and not in the audit trail
    const [row] = await db.query<{ sealed_note: Buffer; status: string; decided_by: string }>(
      'SELECT sealed_note, status, decided_by FROM review_item WHERE id = ?',
      [ids.get('pd-alert')],
    );
    assert.equal(row!.status, 'issue');
    assert.ok(!row!.sealed_note.includes(Buffer.from(NOTE, 'utf8')));
    const decisions = await auditOf('review.decision');
    assert.deepEqual(
      decisions.map((d) => [d.actor, d.target]),
      [
        ['branch', `review_item:${ids.get('pd-alert')!}`],
        ['risk', `review_item:${ids.get('xh-sample')!}`],
        ['auditor', `review_item:${ids.get('pd-sample')!}`],
      ],
    );
    assert.ok(!JSON.stringify(decisions).includes(NOTE));
    // the reviewer sees the note again in the queue
    const listed = (await api('admin', 'GET', '/v1/reviews?status=issue')).json<ReviewListReply>();
    assert.equal(listed.items[0]!.note, NOTE);
  });

  test('[REG-05] an item outside the scope is a 404; only reviewers decide', async () => {
    await insertItem('xh-open', 'conv-xh', '2026-12-02', 'sample', 2);
    assert.equal((await decide('branch', 'xh-open', 'passed')).statusCode, 404);
    assert.equal((await decide('auditor', 'ceo-alert', 'passed')).statusCode, 404);
    assert.deepEqual(
      (await auditOf('review.decision_denied')).map((d) => [d.actor, d.target]),
      [
        ['branch', `review_item:${ids.get('xh-open')!}`],
        ['auditor', `review_item:${ids.get('ceo-alert')!}`],
      ],
    );
    assert.equal((await decide('admin', 'xh-open', 'passed')).statusCode, 403);
    assert.equal(
      (await api('auditor', 'POST', `/v1/reviews/${'0'.repeat(32)}/decision`, { decision: 'passed' }))
        .statusCode,
      404,
    );
    assert.equal((await decide('risk', 'xh-open', 'approve')).statusCode, 400);
    const [row] = await db.query<{ status: string }>('SELECT status FROM review_item WHERE id = ?', [
      ids.get('xh-open'),
    ]);
    assert.equal(row!.status, 'pending');
  });

  test('sampling settings: defaults, for every corp and per corp, admin only, audited', async () => {
    const get = async (query = '') => {
      const res = await api('admin', 'GET', `/v1/reviews/config${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<ReviewSamplingConfig>();
    };
    assert.deepEqual(await get(), { samplePercent: 5, maxPerDay: 50 });
    const everyCorp = await api('admin', 'PUT', '/v1/reviews/config', { samplePercent: 10, maxPerDay: 20 });
    assert.equal(everyCorp.statusCode, 200, everyCorp.body);
    assert.deepEqual(await get(`?corpId=${corpId}`), { samplePercent: 10, maxPerDay: 20 });
    const own = await api('admin', 'PUT', `/v1/reviews/config?corpId=${corpId}`, {
      samplePercent: 2.5,
      maxPerDay: 100,
    });
    assert.equal(own.statusCode, 200, own.body);
    assert.deepEqual(own.json<ReviewSamplingConfig>(), { samplePercent: 2.5, maxPerDay: 100 });
    assert.deepEqual(await get(`?corpId=${corpId}`), { samplePercent: 2.5, maxPerDay: 100 });
    assert.deepEqual(await get('?corpId=someothercorp'), { samplePercent: 10, maxPerDay: 20 });
    assert.deepEqual(await get(), { samplePercent: 10, maxPerDay: 20 });

    for (const body of [
      { samplePercent: 101, maxPerDay: 1 },
      { samplePercent: -1, maxPerDay: 1 },
      { samplePercent: 5, maxPerDay: 10001 },
      { samplePercent: 5 },
    ])
      assert.equal((await api('admin', 'PUT', '/v1/reviews/config', body)).statusCode, 400);
    assert.equal((await api('admin', 'GET', '/v1/reviews/config?corpId=bad%20corp')).statusCode, 400);
    assert.equal((await api('risk', 'GET', '/v1/reviews/config')).statusCode, 403);
    assert.equal(
      (await api('auditor', 'PUT', '/v1/reviews/config', { samplePercent: 50, maxPerDay: 1 })).statusCode,
      403,
    );

    const changes = await auditOf('review.config');
    assert.deepEqual(
      changes.map((c) => [c.actor, c.target]),
      [
        ['admin', 'review_config:*'],
        ['admin', `review_config:${corpId}`],
      ],
    );
    const detail = (
      typeof changes[1]!.detail === 'string' ? JSON.parse(changes[1]!.detail) : changes[1]!.detail
    ) as {
      before: unknown;
      after: unknown;
    };
    assert.deepEqual(detail.before, { samplePercent: 10, maxPerDay: 20, from: '*' });
    assert.deepEqual(detail.after, { samplePercent: 2.5, maxPerDay: 100 });
  });
});
