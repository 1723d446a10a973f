/**
 * The compliance alert inbox and workflow through the portal (real MariaDB, the stack's keys): the
 * compliance service's rows are written here as fixtures (sealed detail bound to its row, a
 * 'raised' event), since the engine runs elsewhere.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import {
  ALERT_TRANSITIONS,
  type AlertAction,
  type AlertHit,
  type AlertRecordKind,
  type AlertSeverity,
  type BulkAlertActionReply,
  type ComplianceAlertDetail,
  type ComplianceAlertListReply,
  type ComplianceAlertStatus,
  type ComplianceAlertView,
  type LexiconCategory,
  type Role,
} from '@cz/contracts';
import { createMainDataSource, createServer, keyProviderFromEnv, messageArchiveId } from '@cz/common';
import { sealBuffer, sealedKeyInfo, type SealBinding } from '@cz/common/crypto';
import { createTestDatabase, loadStackEnv, type TestDatabase } from '@cz/testkit';
import portal from '../src/app';
import { upsertUser } from '../src/users';
import { addProtected, setUserScope } from '../src/scope';
import { loadDirectory } from '../src/directory';
import { verifyAuditChain } from '../src/audit';

loadStackEnv();
const keys = keyProviderFromEnv();
const corpId = 'alertcorp';
const pageCorp = 'alertpages';
const HOUR = 3_600_000;
const NOTE = '已电话核实客户，理财经理口头承诺保本，已批评教育';

/*
 * The org tree: 总行 hq → 浦东分行 pudong → 陆家嘴支行 lujiazui; hq → 徐汇支行 xuhui; hq → 高管办
 * exec (its employee e_ceo is protected). Conversations are given by their participants.
 */
const EMPLOYEES: Record<string, string> = { e_pd: 'pudong', e_lj: 'lujiazui', e_xh: 'xuhui', e_ceo: 'exec' };
const CONVERSATIONS: Record<string, string[]> = {
  'conv-pd': ['e_pd', 'wmA'],
  'conv-lj': ['wmB', 'e_lj'],
  'conv-xh': ['e_xh', 'wmC'],
  'conv-ceo': ['e_ceo', 'wmE'],
};

const USERS: Record<string, Role[]> = {
  admin: ['admin'],
  risk: ['risk_officer'],
  auditor: ['auditor'],
  branch: ['risk_officer'],
  nobody: ['risk_officer'],
  boss: ['risk_officer', 'super_admin'],
  security: ['security_officer'],
};
type UserName = keyof typeof USERS;

interface AlertFixture {
  name: string;
  corp?: string;
  recordKind: AlertRecordKind;
  /** the message's conversation, or the agent / employee of a call / event */
  conversation?: string;
  employee: string;
  category: LexiconCategory;
  severity: AlertSeverity;
  status: ComplianceAlertStatus;
  raisedAgoHours: number;
  /** from now; null: no due time */
  dueInHours: number | null;
  retroactive?: boolean;
  /** seal the detail for another alert (a row moved from elsewhere) */
  foreignDetail?: boolean;
}

const HITS: AlertHit[] = [
  {
    ruleId: 'gr-001',
    term: '保本保息',
    category: 'guaranteed_return',
    severity: 'critical',
    via: 'exact',
    start: 5,
    end: 9,
  },
];

describe('compliance alerts: inbox, scope, workflow (real MariaDB)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let app: ReturnType<typeof createServer>;
  const tokens = new Map<UserName, string>();
  /** fixture name → alert id */
  const ids = new Map<string, string>();
  const nameOf = new Map<string, string>();

  const api = (user: UserName, method: 'GET' | 'POST', url: string, payload?: unknown) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens.get(user)!}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const list = async (user: UserName, query = '') => {
    const res = await api(user, 'GET', `/v1/alerts?limit=200&corpId=${corpId}${query}`);
    assert.equal(res.statusCode, 200, res.body);
    const reply = res.json<ComplianceAlertListReply>();
    return { names: reply.items.map((a) => nameOf.get(a.id) ?? a.id).sort(), reply };
  };
  const act = (user: UserName, name: string, action: AlertAction, note?: string) =>
    api(user, 'POST', `/v1/alerts/${ids.get(name)!}/actions`, {
      action,
      ...(note === undefined ? {} : { note }),
    });
  const rowOf = async (name: string) =>
    (
      await db.query<{
        status: string;
        due_at: Date;
        row_version: number;
        assigned_org_unit_id: string | null;
        escalation_level: number;
        last_actor: string | null;
      }>(
        'SELECT status, due_at, row_version, assigned_org_unit_id, escalation_level, last_actor FROM compliance_alert WHERE id = ?',
        [ids.get(name)],
      )
    )[0]!;
  const auditOf = (action: string) =>
    db.query<{ actor: string; target: string; detail: Record<string, unknown> | string }>(
      'SELECT actor, target, detail FROM audit_event WHERE action = ? ORDER BY seq',
      [action],
    );
  const detailJson = (detail: Record<string, unknown> | string) =>
    (typeof detail === 'string' ? JSON.parse(detail) : detail) as Record<string, unknown>;

  /** Inserts an alert row as the compliance service writes it, with its 'raised' event. */
  const insertAlert = async (fixture: AlertFixture) => {
    const corp = fixture.corp ?? corpId;
    const ruleId = `${fixture.category.slice(0, 2)}-${fixture.name}`;
    const recordId = `${fixture.recordKind}-${fixture.name}`;
    const id = createHash('sm3')
      .update(`${corp}|${fixture.recordKind}|${recordId}|${ruleId}|1`)
      .digest('hex');
    const now = Date.now();
    const raisedAt = new Date(now - fixture.raisedAgoHours * HOUR);
    const binding: SealBinding = {
      kind: 'compliance_alert',
      corp,
      id: fixture.foreignDetail ? createHash('sm3').update('elsewhere').digest('hex') : id,
    };
    const sealed = await sealBuffer(
      Buffer.from(
        JSON.stringify({ hits: HITS, explanation: '承诺保本保息', reg: ['REG-03'], term: '保本保息' }),
      ),
      keys,
      'audit',
      binding,
    );
    const info = sealedKeyInfo(sealed);
    const orgUnit = EMPLOYEES[fixture.employee] ?? null;
    await db.query(
      `INSERT INTO compliance_alert (id, corp_id, kind, category, severity, severity_rank, rule_id, lexicon_version,
         retroactive, record_kind, msgid, call_id, event_id, doc_id, doc_time, conversation_id, employee, org_unit_id,
         assigned_org_unit_id, escalation_level, status, raised_at, due_at, updated_at, kek_id, kek_version, sealed_detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, UNHEX(?), ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        corp,
        `lexicon.${fixture.category}`,
        fixture.category,
        fixture.severity,
        { info: 1, warning: 2, critical: 3 }[fixture.severity],
        ruleId,
        fixture.retroactive ? 1 : 0,
        fixture.recordKind,
        fixture.recordKind === 'message' ? recordId : null,
        fixture.recordKind === 'call' ? recordId : null,
        fixture.recordKind === 'event' ? recordId : null,
        messageArchiveId(corp, recordId),
        new Date(raisedAt.getTime() - 60_000),
        fixture.conversation ?? null,
        fixture.employee,
        orgUnit,
        orgUnit,
        fixture.status,
        raisedAt,
        fixture.dueInHours === null ? null : new Date(now + fixture.dueInHours * HOUR),
        raisedAt,
        info.kekId,
        info.kekVersion,
        sealed,
      ],
    );
    await db.query(
      `INSERT INTO compliance_alert_event (alert_id, at, actor, action, from_status, to_status) VALUES (?, ?, 'system', 'raised', NULL, 'open')`,
      [id, raisedAt],
    );
    ids.set(fixture.name, id);
    nameOf.set(id, fixture.name);
    return id;
  };

  /** A session as the login creates it (only the token's SM3 is stored), without hashing a password per user. */
  const sessionFor = async (username: string) => {
    const token = randomBytes(32).toString('base64url');
    await db.query(
      'INSERT INTO portal_session (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)',
      [createHash('sm3').update(token).digest('hex'), username, new Date(), new Date(Date.now() + HOUR)],
    );
    return token;
  };

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
        { id: 'lujiazui', parentId: 'pudong', name: '陆家嘴支行' },
        { id: 'xuhui', parentId: 'hq', name: '徐汇支行' },
        { id: 'exec', parentId: 'hq', name: '高管办' },
      ],
      employees: Object.entries(EMPLOYEES).map(([userid, orgUnitId]) => ({ userid, orgUnitId })),
    });
    for (const username of ['admin', 'risk', 'auditor', 'boss'])
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

    const fixtures: AlertFixture[] = [
      // Pudong and below: the branch user's
      {
        name: 'pd-open',
        recordKind: 'message',
        conversation: 'conv-pd',
        employee: 'e_pd',
        category: 'guaranteed_return',
        severity: 'critical',
        status: 'open',
        raisedAgoHours: 1,
        dueInHours: 3,
      },
      {
        name: 'lj-overdue',
        recordKind: 'message',
        conversation: 'conv-lj',
        employee: 'e_lj',
        category: 'complaint',
        severity: 'warning',
        status: 'open',
        raisedAgoHours: 25,
        dueInHours: -1,
      },
      {
        name: 'pd-call',
        recordKind: 'call',
        employee: 'e_pd',
        category: 'collection_abuse',
        severity: 'critical',
        status: 'escalated',
        raisedAgoHours: 2,
        dueInHours: 2,
      },
      {
        name: 'lj-event',
        recordKind: 'event',
        employee: 'e_lj',
        category: 'personal_data',
        severity: 'warning',
        status: 'false_positive',
        raisedAgoHours: 3,
        dueInHours: 21,
      },
      // elsewhere
      {
        name: 'xh-soon',
        recordKind: 'message',
        conversation: 'conv-xh',
        employee: 'e_xh',
        category: 'private_dealing',
        severity: 'warning',
        status: 'acknowledged',
        raisedAgoHours: 23.5,
        dueInHours: 0.5,
      },
      {
        name: 'xh-call',
        recordKind: 'call',
        employee: 'e_xh',
        category: 'kickback',
        severity: 'info',
        status: 'resolved',
        raisedAgoHours: 30,
        dueInHours: null,
        retroactive: true,
      },
      // a protected employee's conversation: super admins only
      {
        name: 'ceo',
        recordKind: 'message',
        conversation: 'conv-ceo',
        employee: 'e_ceo',
        category: 'impersonation',
        severity: 'critical',
        status: 'open',
        raisedAgoHours: 0.5,
        dueInHours: 3.5,
      },
    ];
    for (const fixture of fixtures) await insertAlert(fixture);
  });
  after(async () => {
    await app.close();
    await ds.destroy();
    await db.drop();
  });

  test('[REG-05] a branch user sees only the alerts of their branch, and counts within it', async () => {
    const branch = await list('branch');
    assert.deepEqual(branch.names, ['lj-event', 'lj-overdue', 'pd-call', 'pd-open']);
    assert.deepEqual(branch.reply.counts, { open: 2, acknowledged: 0, escalated: 1, overdue: 1 });

    const all = await list('admin');
    // head office without super admin: everything but the protected employee's
    assert.deepEqual(all.names, ['lj-event', 'lj-overdue', 'pd-call', 'pd-open', 'xh-call', 'xh-soon']);
    assert.deepEqual(all.reply.counts, { open: 2, acknowledged: 1, escalated: 1, overdue: 1 });
    const boss = await list('boss');
    assert.ok(boss.names.includes('ceo'));
    assert.equal(boss.reply.counts.open, 3);

    const nobody = await list('nobody');
    assert.deepEqual(nobody.names, []);
    assert.deepEqual(nobody.reply.counts, { open: 0, acknowledged: 0, escalated: 0, overdue: 0 });
  });

  test('[REG-05] an alert outside the scope is a 404 for detail and action (never 403), and the attempt is on record', async () => {
    const outside = ids.get('xh-soon')!;
    const view = await api('branch', 'GET', `/v1/alerts/${outside}`);
    assert.equal(view.statusCode, 404, view.body);
    const unknown = await api('branch', 'GET', `/v1/alerts/${'0'.repeat(64)}`);
    assert.equal(unknown.statusCode, 404);
    assert.equal(view.json<{ code: string }>().code, unknown.json<{ code: string }>().code);
    const action = await act('branch', 'xh-soon', 'resolve', 'not mine');
    assert.equal(action.statusCode, 404, action.body);
    assert.equal((await rowOf('xh-soon')).status, 'acknowledged');
    const protectedOne = await api('admin', 'GET', `/v1/alerts/${ids.get('ceo')!}`);
    assert.equal(protectedOne.statusCode, 404);
    assert.equal((await api('nobody', 'GET', `/v1/alerts/${ids.get('pd-open')!}`)).statusCode, 404);

    const denied = await auditOf('alert.view_denied');
    assert.ok(denied.some((e) => e.actor === 'branch' && e.target === `compliance_alert:${outside}`));
    assert.ok((await auditOf('alert.action_denied')).some((e) => e.actor === 'branch'));
  });

  test('filters: status, severity, category, org unit, SLA state, time, retroactive, record', async () => {
    const names = async (query: string) => (await list('admin', query)).names;
    assert.deepEqual(await names('&status=acknowledged'), ['xh-soon']);
    assert.deepEqual(await names('&status=resolved,false_positive'), ['lj-event', 'xh-call']);
    assert.deepEqual(await names('&status=active'), ['lj-overdue', 'pd-call', 'pd-open', 'xh-soon']);
    assert.deepEqual(await names('&severity=critical'), ['pd-call', 'pd-open']);
    assert.deepEqual(await names('&category=complaint'), ['lj-overdue']);
    assert.deepEqual(await names('&orgUnitId=pudong'), ['lj-event', 'lj-overdue', 'pd-call', 'pd-open']);
    assert.deepEqual(await names('&orgUnitId=lujiazui'), ['lj-event', 'lj-overdue']);
    assert.deepEqual(await names('&orgUnitId=hq'), [
      'lj-event',
      'lj-overdue',
      'pd-call',
      'pd-open',
      'xh-call',
      'xh-soon',
    ]);
    assert.deepEqual(await names('&sla=overdue'), ['lj-overdue']);
    assert.deepEqual(await names('&sla=due_soon'), ['xh-soon']);
    assert.deepEqual(await names('&sla=ok'), ['pd-call', 'pd-open']);
    assert.deepEqual(await names('&sla=none'), ['lj-event', 'xh-call']);
    assert.deepEqual(await names('&retroactive=true'), ['xh-call']);
    assert.deepEqual(await names('&msgid=message-pd-open'), ['pd-open']);
    assert.deepEqual(await names('&callId=call-pd-call'), ['pd-call']);
    const from = new Date(Date.now() - 4 * HOUR).toISOString();
    const to = new Date(Date.now() - 1.5 * HOUR).toISOString();
    assert.deepEqual(await names(`&from=${from}&to=${to}`), ['lj-event', 'pd-call']);

    // the counts ignore status and SLA filters but keep the others
    const filtered = await list('admin', '&severity=warning&status=resolved');
    assert.deepEqual(filtered.reply.counts, { open: 1, acknowledged: 1, escalated: 0, overdue: 1 });

    const view = (await list('admin', '&msgid=message-pd-open')).reply.items[0]!;
    assert.equal(view.slaState, 'ok');
    assert.equal(view.orgUnitName, '浦东分行');
    assert.equal(view.archiveId, messageArchiveId(corpId, 'message-pd-open'));
    assert.deepEqual(view.hits, HITS);
    assert.equal(view.explanation, '承诺保本保息');
    assert.deepEqual(view.reg, ['REG-03']);
    assert.equal((await list('admin', '&category=complaint')).reply.items[0]!.slaState, 'overdue');

    // bad input
    for (const [query, code] of [
      ['&status=closed', 'bad_status'],
      ['&orgUnitId=nowhere', 'unknown_org_unit'],
      [`&from=${to}&to=${from}`, 'bad_range'],
      ['&severity=fatal', 'validation_failed'],
      ['&category=gossip', 'validation_failed'],
      ['&limit=0', 'validation_failed'],
    ] as const) {
      const res = await api('admin', 'GET', `/v1/alerts?corpId=${corpId}${query}`);
      assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
      assert.equal(res.json<{ code: string }>().code, code, query);
    }
  });

  test('keyset pagination: newest first, every alert once, signed cursors bound to their query', async () => {
    for (let i = 0; i < 7; i++)
      await insertAlert({
        name: `page-${i}`,
        corp: pageCorp,
        recordKind: 'call',
        employee: 'x',
        category: 'custom',
        severity: 'info',
        status: 'open',
        raisedAgoHours: i === 3 || i === 4 ? 2 : i, // two at the same instant: the id breaks the tie
        dueInHours: 10,
      });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api(
        'admin',
        'GET',
        `/v1/alerts?corpId=${pageCorp}&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(res.statusCode, 200, res.body);
      const reply = res.json<ComplianceAlertListReply>();
      assert.equal(reply.counts.open, 7);
      seen.push(...reply.items.map((a) => a.id));
      cursor = reply.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.equal(new Set(seen).size, 7);
    const all = (await api('admin', 'GET', `/v1/alerts?corpId=${pageCorp}`)).json<ComplianceAlertListReply>()
      .items;
    assert.deepEqual(
      seen,
      all.map((a) => a.id),
    );
    const times = all.map((a) => Date.parse(a.raisedAt));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );

    const first = (
      await api('admin', 'GET', `/v1/alerts?corpId=${pageCorp}&limit=3`)
    ).json<ComplianceAlertListReply>();
    const tampered = `${first.nextCursor!.slice(0, -2)}AA`;
    const bad = await api(
      'admin',
      'GET',
      `/v1/alerts?corpId=${pageCorp}&limit=3&cursor=${encodeURIComponent(tampered)}`,
    );
    assert.equal(bad.statusCode, 400);
    const other = await api(
      'admin',
      'GET',
      `/v1/alerts?corpId=${pageCorp}&severity=info&limit=3&cursor=${encodeURIComponent(first.nextCursor!)}`,
    );
    assert.equal(other.statusCode, 400);
    assert.equal(other.json<{ code: string }>().code, 'bad_cursor');
  });

  test('detail: the sealed hits opened, history with notes, the read audited', async () => {
    const id = ids.get('pd-open')!;
    const res = await api('branch', 'GET', `/v1/alerts/${id}`);
    assert.equal(res.statusCode, 200, res.body);
    const detail = res.json<ComplianceAlertDetail>();
    assert.equal(detail.kind, 'lexicon.guaranteed_return');
    assert.equal(detail.recordKind, 'message');
    assert.equal(detail.conversationId, 'conv-pd');
    assert.deepEqual(detail.hits, HITS);
    assert.deepEqual(
      detail.history.map((h) => [h.actor, h.action, h.toStatus, h.note]),
      [['system', 'raised', 'open', null]],
    );
    const views = await auditOf('alert.view');
    assert.ok(views.some((e) => e.actor === 'branch' && e.target === `compliance_alert:${id}`));
  });

  test('the lifecycle: acknowledge, comment, escalate up the tree, resolve with a note, reopen with a new due time, false positive', async () => {
    await insertAlert({
      name: 'life',
      recordKind: 'message',
      conversation: 'conv-lj',
      employee: 'e_lj',
      category: 'guaranteed_return',
      severity: 'critical',
      status: 'open',
      raisedAgoHours: 1,
      dueInHours: 3,
    });
    const due0 = (await rowOf('life')).due_at.getTime();

    const ack = await act('risk', 'life', 'acknowledge');
    assert.equal(ack.statusCode, 200, ack.body);
    assert.equal(ack.json<ComplianceAlertView>().status, 'acknowledged');
    assert.equal(ack.json<ComplianceAlertView>().lastActor, 'risk');
    let row = await rowOf('life');
    assert.equal(row.due_at.getTime(), due0, 'acknowledging does not stop the clock');
    assert.equal(Number(row.row_version), 1);

    const comment = await act('branch', 'life', 'comment', '客户来电询问');
    assert.equal(comment.statusCode, 200, comment.body);
    assert.equal(comment.json<ComplianceAlertView>().status, 'acknowledged');

    const escalate = await act('risk', 'life', 'escalate', '需分行负责人处理');
    assert.equal(escalate.statusCode, 200, escalate.body);
    row = await rowOf('life');
    assert.equal(row.status, 'escalated');
    assert.equal(row.assigned_org_unit_id, 'pudong');
    assert.equal(Number(row.escalation_level), 1);
    const again = await act('risk', 'life', 'escalate', '再升级');
    assert.equal(again.statusCode, 409, 'escalated is escalated already');

    const noNote = await act('risk', 'life', 'resolve');
    assert.equal(noNote.statusCode, 400);
    assert.equal(noNote.json<{ code: string }>().code, 'note_required');
    assert.equal((await act('risk', 'life', 'resolve', '   ')).statusCode, 400);
    const resolve = await act('risk', 'life', 'resolve', NOTE);
    assert.equal(resolve.statusCode, 200, resolve.body);
    assert.equal(resolve.json<ComplianceAlertView>().slaState, 'none');

    const late = await act('admin', 'life', 'acknowledge');
    assert.equal(late.statusCode, 409);
    assert.equal(late.json<{ code: string }>().code, 'invalid_transition');

    const before = Date.now();
    const reopen = await act('admin', 'life', 'reopen', '客户再次投诉');
    assert.equal(reopen.statusCode, 200, reopen.body);
    row = await rowOf('life');
    assert.equal(row.status, 'open');
    // critical: 4 h from now by default
    assert.ok(Math.abs(row.due_at.getTime() - (before + 4 * HOUR)) < 60_000, String(row.due_at));

    assert.equal((await act('admin', 'life', 'false_positive', '系统误报')).statusCode, 200);
    row = await rowOf('life');
    assert.equal(row.status, 'false_positive');
    assert.equal(row.last_actor, 'admin');

    const detail = (
      await api('admin', 'GET', `/v1/alerts/${ids.get('life')!}`)
    ).json<ComplianceAlertDetail>();
    assert.deepEqual(
      detail.history.map((h) => [h.actor, h.action, h.fromStatus, h.toStatus, h.note]),
      [
        ['system', 'raised', null, 'open', null],
        ['risk', 'acknowledge', 'open', 'acknowledged', null],
        ['branch', 'comment', 'acknowledged', null, '客户来电询问'],
        ['risk', 'escalate', 'acknowledged', 'escalated', '需分行负责人处理'],
        ['risk', 'resolve', 'escalated', 'resolved', NOTE],
        ['admin', 'reopen', 'resolved', 'open', '客户再次投诉'],
        ['admin', 'false_positive', 'open', 'false_positive', '系统误报'],
      ],
    );
    // every action audited: who, which alert, what (never the note's text)
    const actions = (await auditOf('alert.action')).filter(
      (e) => e.target === `compliance_alert:${ids.get('life')!}`,
    );
    assert.deepEqual(
      actions.map((e) => [e.actor, detailJson(e.detail).action]),
      [
        ['risk', 'acknowledge'],
        ['branch', 'comment'],
        ['risk', 'escalate'],
        ['risk', 'resolve'],
        ['admin', 'reopen'],
        ['admin', 'false_positive'],
      ],
    );
  });

  test('every invalid transition is refused with 409 and changes nothing', async () => {
    const statuses: ComplianceAlertStatus[] = [
      'open',
      'acknowledged',
      'escalated',
      'resolved',
      'false_positive',
    ];
    for (const status of statuses)
      await insertAlert({
        name: `tx-${status}`,
        recordKind: 'call',
        employee: 'e_xh',
        category: 'custom',
        severity: 'warning',
        status,
        raisedAgoHours: 1,
        dueInHours: 5,
      });
    let refused = 0;
    for (const [action, rule] of Object.entries(ALERT_TRANSITIONS) as [
      AlertAction,
      (typeof ALERT_TRANSITIONS)[AlertAction],
    ][])
      for (const status of statuses.filter((s) => !rule.from.includes(s))) {
        const res = await act('risk', `tx-${status}`, action, 'a note');
        assert.equal(res.statusCode, 409, `${action} from ${status}: ${res.body}`);
        assert.equal((await rowOf(`tx-${status}`)).status, status);
        refused += 1;
      }
    assert.ok(refused >= 10, `${refused} invalid pairs`);
    for (const status of statuses) assert.equal(Number((await rowOf(`tx-${status}`)).row_version), 0);
  });

  test('bulk actions: mixed results per alert, one audit entry', async () => {
    for (const name of ['bulk-a', 'bulk-b'])
      await insertAlert({
        name,
        recordKind: 'message',
        conversation: 'conv-pd',
        employee: 'e_pd',
        category: 'outside_platform',
        severity: 'warning',
        status: 'open',
        raisedAgoHours: 1,
        dueInHours: 20,
      });
    await insertAlert({
      name: 'bulk-done',
      recordKind: 'message',
      conversation: 'conv-pd',
      employee: 'e_pd',
      category: 'outside_platform',
      severity: 'warning',
      status: 'resolved',
      raisedAgoHours: 1,
      dueInHours: 20,
    });
    const request = {
      action: 'acknowledge',
      ids: [
        ids.get('bulk-a')!,
        ids.get('bulk-done')!,
        ids.get('xh-soon')!,
        'ab'.repeat(32),
        ids.get('bulk-b')!,
      ],
    };
    const res = await api('branch', 'POST', '/v1/alerts/actions', request);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(
      res.json<BulkAlertActionReply>().results.map((r) => [r.ok, r.error ?? null, r.status ?? null]),
      [
        [true, null, 'acknowledged'],
        [false, 'invalid_transition', 'resolved'],
        // outside the branch's scope: exactly like an id that does not exist
        [false, 'not_found', null],
        [false, 'not_found', null],
        [true, null, 'acknowledged'],
      ],
    );
    assert.equal((await rowOf('xh-soon')).status, 'acknowledged');
    const resolveAll = await api('branch', 'POST', '/v1/alerts/actions', {
      action: 'resolve',
      ids: [ids.get('bulk-a')!, ids.get('bulk-b')!],
    });
    assert.deepEqual(
      resolveAll.json<BulkAlertActionReply>().results.map((r) => r.error),
      ['note_required', 'note_required'],
    );
    const entries = await auditOf('alert.bulk_action');
    const last = detailJson(entries[0]!.detail);
    assert.equal(entries[0]!.actor, 'branch');
    assert.deepEqual(last.applied, [ids.get('bulk-a'), ids.get('bulk-b')]);
    assert.equal((last.refused as unknown[]).length, 3);
  });

  test('optimistic concurrency: of two acknowledges at the same moment, one wins', async () => {
    await insertAlert({
      name: 'race',
      recordKind: 'message',
      conversation: 'conv-pd',
      employee: 'e_pd',
      category: 'kickback',
      severity: 'critical',
      status: 'open',
      raisedAgoHours: 1,
      dueInHours: 3,
    });
    const [a, b] = await Promise.all([
      act('risk', 'race', 'acknowledge'),
      act('admin', 'race', 'acknowledge'),
    ]);
    assert.deepEqual([a.statusCode, b.statusCode].sort(), [200, 409]);
    const events = await db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM compliance_alert_event WHERE alert_id = ? AND action = 'acknowledge'",
      [ids.get('race')],
    );
    assert.equal(Number(events[0]!.n), 1);
    assert.equal(Number((await rowOf('race')).row_version), 1);
  });

  test('notes are sealed at rest: not in the alert tables, not in the audit trail', async () => {
    const rows = await db.query<{ sealed_note: Buffer | null }>(
      'SELECT sealed_note FROM compliance_alert_event WHERE sealed_note IS NOT NULL',
    );
    assert.ok(rows.length >= 4);
    const plain = Buffer.from(NOTE, 'utf8');
    for (const row of rows) assert.ok(!row.sealed_note!.includes(plain));
    for (const table of ['compliance_alert_event', 'compliance_alert', 'audit_event']) {
      for (const row of await db.query<Record<string, unknown>>(`SELECT * FROM ${table}`))
        for (const value of Object.values(row)) {
          const bytes = Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value) ?? '', 'utf8');
          assert.ok(!bytes.includes(plain), `${table} holds the note`);
        }
    }
  });

  test('roles: an auditor reads but cannot act (403); other roles cannot read', async () => {
    assert.equal((await api('auditor', 'GET', '/v1/alerts')).statusCode, 200);
    const act403 = await act('auditor', 'pd-open', 'acknowledge');
    assert.equal(act403.statusCode, 403);
    assert.equal((await rowOf('pd-open')).status, 'open');
    assert.equal(
      (
        await api('auditor', 'POST', '/v1/alerts/actions', {
          action: 'acknowledge',
          ids: [ids.get('pd-open')],
        })
      ).statusCode,
      403,
    );
    assert.equal((await api('security', 'GET', '/v1/alerts')).statusCode, 403);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/alerts' })).statusCode, 401);
    // bad request bodies
    for (const body of [{ action: 'delete' }, { action: 'comment', note: 'x'.repeat(2001) }, {}])
      assert.equal(
        (
          await act(
            'risk',
            'pd-open',
            (body as { action: AlertAction }).action,
            (body as { note?: string }).note,
          )
        ).statusCode,
        400,
      );
    assert.equal(
      (await api('risk', 'POST', '/v1/alerts/actions', { action: 'acknowledge', ids: [] })).statusCode,
      400,
    );
    assert.equal((await api('risk', 'GET', '/v1/alerts/not-hex')).statusCode, 400);
  });

  test('one audit entry per list request: filters and what was shown, no content', async () => {
    const before = (await auditOf('alert.list')).length;
    const shown = (await list('branch', '&severity=critical')).reply.items;
    const entries = await auditOf('alert.list');
    assert.equal(entries.length, before + 1);
    const entry = entries[entries.length - 1]!;
    assert.equal(entry.actor, 'branch');
    const detail = detailJson(entry.detail);
    assert.deepEqual(detail.filters, { corpId, severity: 'critical' });
    assert.equal(detail.count, shown.length);
    assert.deepEqual(
      detail.ids,
      shown.map((a) => a.id),
    );
    assert.ok(!JSON.stringify(detail).includes('保本'));
    assert.equal(await verifyAuditChain(ds), null);
  });

  test('a detail sealed for another alert is not shown: integrity alert raised once, read on record', async () => {
    await insertAlert({
      name: 'moved',
      recordKind: 'message',
      conversation: 'conv-pd',
      employee: 'e_pd',
      category: 'guaranteed_return',
      severity: 'critical',
      status: 'open',
      raisedAgoHours: 0.1,
      dueInHours: 3,
      foreignDetail: true,
    });
    const id = ids.get('moved')!;
    for (let i = 0; i < 2; i++) {
      const res = await api('admin', 'GET', `/v1/alerts/${id}`);
      assert.equal(res.statusCode, 200, res.body);
      const detail = res.json<ComplianceAlertDetail>();
      assert.deepEqual(detail.hits, []);
      assert.equal(detail.explanation, '');
    }
    const listed = (await list('admin', '&msgid=message-moved')).reply.items[0]!;
    assert.deepEqual(listed.hits, []);
    const integrity = await auditOf('integrity.binding');
    assert.ok(integrity.some((e) => e.target === `compliance_alert:${id}`));
    const alerts = await db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM completeness_alert WHERE kind = 'integrity.binding'",
    );
    assert.equal(Number(alerts[0]!.n), 1);
  });
});
