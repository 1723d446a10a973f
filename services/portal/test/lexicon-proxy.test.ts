/**
 * 词库管理 through the portal: the console's lexicon paths relayed to the compliance service with
 * the person's roles checked here (read: auditor, risk officer, admin; edit: risk officer, admin;
 * publish: admin), the portal's own caller credential, and every change in the audit trail. The
 * compliance side runs in-process on the same fresh database (its lexicon plugins only), listening
 * on a port as the deployed service does; callers are checked by the stack's key service.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type {
  LexiconDiffReply,
  LexiconEntry,
  LexiconImportReply,
  LexiconTestReply,
  LexiconVersionListReply,
  LexiconVersionView,
  RescanJobView,
  Role,
} from '@cz/contracts';
import {
  callerAuthPlugin,
  createServer,
  databasePlugin,
  envString,
  errorHandlerPlugin,
  mainDataSourceOptions,
  optionalClientTlsFromEnv,
  secureFetchFor,
} from '@cz/common';
import {
  callerTokenFile,
  createTestDatabase,
  loadStackEnv,
  testCallerAuth,
  type TestDatabase,
} from '@cz/testkit';
import { lexiconPlugin, lexiconRoutes as complianceLexiconRoutes } from '@cz/compliance';
import portalDatabase from '../src/plugins/external/database';
import authPlugin from '../src/plugins/app/auth';
import lexiconRelay, { type ComplianceRelayOptions } from '../src/routes/lexicon-proxy';
import { upsertUser } from '../src/users';
import { verifyAuditChain } from '../src/audit';

loadStackEnv();
const portalToken = readFileSync(callerTokenFile('portal'), 'utf8').trim();

async function complianceApp(db: TestDatabase) {
  const app = createServer('compliance', { logger: false });
  await app.register(errorHandlerPlugin);
  await app.register(callerAuthPlugin, testCallerAuth());
  await app.register(databasePlugin, mainDataSourceOptions(db.config));
  await app.register(lexiconPlugin, { settings: { refreshMs: 200 } });
  await app.register(complianceLexiconRoutes);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

async function portalApp(db: TestDatabase, compliance: ComplianceRelayOptions) {
  const app = createServer('portal', { logger: false });
  await app.register(errorHandlerPlugin);
  await app.register(portalDatabase, { database: db.config });
  await app.register(authPlugin, { sessionTtlMinutes: 60 });
  await app.register(lexiconRelay, compliance);
  await app.ready();
  return app;
}

const custom = (id: string, pattern: string, extra: Partial<LexiconEntry> = {}): LexiconEntry => ({
  id,
  kind: 'term',
  pattern,
  category: 'custom',
  severity: 'warning',
  explanation: '本机构自定义词',
  reg: ['REG-03'],
  enabled: true,
  ...extra,
});

describe('lexicon relay: portal → compliance (real MariaDB, key service)', () => {
  let db: TestDatabase;
  let compliance: Awaited<ReturnType<typeof complianceApp>>;
  let portal: Awaited<ReturnType<typeof portalApp>>;
  const sessions: Partial<Record<'auditor' | 'risk' | 'admin' | 'keeper', string>> = {};

  before(async () => {
    db = await createTestDatabase();
    compliance = await complianceApp(db);
    const { port } = compliance.server.address() as AddressInfo;
    portal = await portalApp(db, { url: `http://127.0.0.1:${port}`, token: portalToken });
    const users: [keyof typeof sessions, Role][] = [
      ['auditor', 'auditor'],
      ['risk', 'risk_officer'],
      ['admin', 'admin'],
      ['keeper', 'security_officer'],
    ];
    for (const [username, role] of users) {
      await upsertUser(portal.db, {
        username,
        displayName: username,
        roles: [role],
        password: `${username}#Pass2026`,
      });
      sessions[username] = (await portal.sessions.create(username)).token;
    }
  });
  after(async () => {
    await portal?.close();
    await compliance?.close();
    await db?.drop();
  });

  const as = (
    who: keyof typeof sessions | null,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
  ) =>
    portal.inject({
      method,
      url,
      headers: who ? { authorization: `Bearer ${sessions[who]}` } : {},
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const versions = async () =>
    (await as('auditor', 'GET', '/v1/lexicon/versions')).json<LexiconVersionListReply>();
  const auditRows = (action: string) =>
    db.query<{ actor: string; target: string; detail: string | Record<string, unknown> }>(
      'SELECT actor, target, detail FROM audit_event WHERE action = ? ORDER BY seq',
      [action],
    );
  const detailOf = (row: { detail: string | Record<string, unknown> }) =>
    typeof row.detail === 'string' ? (JSON.parse(row.detail) as Record<string, unknown>) : row.detail;

  test('roles: readers read; an auditor cannot edit; a risk officer edits but cannot publish; others and no session are refused', async () => {
    assert.equal((await as('auditor', 'GET', '/v1/lexicon/versions')).statusCode, 200);
    assert.equal((await as('risk', 'GET', '/v1/lexicon/versions/1/entries?limit=5')).statusCode, 200);
    assert.equal((await as(null, 'GET', '/v1/lexicon/versions')).statusCode, 401);
    assert.equal(
      (await as('keeper', 'GET', '/v1/lexicon/versions')).statusCode,
      403,
      'security officers do not',
    );

    const byAuditor = await as(
      'auditor',
      'PUT',
      '/v1/lexicon/draft/entries/acme-001',
      custom('acme-001', '内部暗语甲'),
    );
    assert.equal(byAuditor.statusCode, 403);
    assert.equal((await as('auditor', 'POST', '/v1/lexicon/rescans', {})).statusCode, 403);
    assert.equal((await versions()).draft, null, 'the refused edit never reached the compliance service');

    const byRisk = await as(
      'risk',
      'PUT',
      '/v1/lexicon/draft/entries/acme-001',
      custom('acme-001', '内部暗语甲'),
    );
    assert.equal(byRisk.statusCode, 201, byRisk.body);
    const list = await versions();
    assert.equal(list.draft, 2);
    assert.equal(list.items.find((v) => v.version === 2)?.createdBy, 'risk', 'the person, via x-cz-actor');

    const publishByRisk = await as('risk', 'POST', '/v1/lexicon/draft/publish', { note: '试图发布' });
    assert.equal(publishByRisk.statusCode, 403);
    assert.equal((await versions()).published, 1);
    const [saved] = await auditRows('lexicon.entry.save');
    assert.equal(saved?.actor, 'risk');
    assert.equal(saved?.target, 'lexicon-entry:acme-001');
    assert.deepEqual((detailOf(saved).entry as { pattern: string }).pattern, '内部暗语甲');
    assert.equal(detailOf(saved).created, true);
  });

  test('[REG-03] a bad entry and a bad import come back with the reasons; nothing applied, nothing audited', async () => {
    const bad = await as(
      'risk',
      'PUT',
      '/v1/lexicon/draft/entries/bad-regex',
      custom('bad-regex', '(a+)+$', { kind: 'regex' }),
    );
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json<{ message: string }>().message, /exponential|nested/);
    const before = (await versions()).items.find((v) => v.status === 'draft')!;
    const csv = [
      'id,kind,pattern,near,within,category,severity,explanation,reg,pinyin,negatable,enabled',
      'imp-001,term,新词一,,,custom,warning,说明,REG-03,,,true',
      'imp-001,term,新词二,,,custom,warning,说明,REG-03,,,true',
      'imp-002,term,新词三,,,gossip,warning,说明,REG-03,,,true',
      'imp-003,term,新词四,,,custom,urgent,说明,REG-03,,,true',
    ].join('\n');
    const res = await as('risk', 'POST', '/v1/lexicon/draft/import', { csv, mode: 'merge' });
    assert.equal(res.statusCode, 400, res.body);
    const reply = res.json<LexiconImportReply>();
    assert.deepEqual(
      reply.errors.map((e) => e.line),
      [3, 4, 5],
    );
    const after = (await versions()).items.find((v) => v.status === 'draft')!;
    assert.equal(after.digest, before.digest, 'nothing applied');
    assert.equal((await auditRows('lexicon.import')).length, 0);
    assert.equal((await auditRows('lexicon.entry.save')).length, 1, 'only the one accepted entry so far');
  });

  test('export → import round trip through the portal; diff; discard', async () => {
    const draft = (await versions()).draft!;
    const exported = await as('auditor', 'GET', `/v1/lexicon/versions/${draft}/export`);
    assert.equal(exported.statusCode, 200);
    assert.match(String(exported.headers['content-type']), /^text\/csv; charset=utf-8/);
    assert.match(String(exported.headers['content-disposition']), new RegExp(`lexicon-v${draft}\\.csv`));
    assert.deepEqual([...exported.rawPayload.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    const csv = exported.rawPayload.toString('utf8');
    const digestBefore = (await versions()).items.find((v) => v.version === draft)!.digest;

    assert.equal((await as('auditor', 'DELETE', '/v1/lexicon/draft')).statusCode, 403);
    assert.equal((await as('risk', 'DELETE', '/v1/lexicon/draft')).statusCode, 204);
    assert.equal((await versions()).draft, null);
    const imported = await as('risk', 'POST', '/v1/lexicon/draft/import', { csv, mode: 'replace' });
    assert.equal(imported.statusCode, 200, imported.body);
    assert.equal(imported.json<LexiconImportReply>().added, 1);
    const list = await versions();
    assert.equal(
      list.items.find((v) => v.version === list.draft)!.digest,
      digestBefore,
      'same entries again',
    );

    const diff = await as('auditor', 'GET', `/v1/lexicon/diff?from=1&to=${list.draft}`);
    assert.deepEqual(
      diff.json<LexiconDiffReply>().added.map((e) => e.id),
      ['acme-001'],
    );
    const [discarded] = await auditRows('lexicon.draft.discard');
    assert.equal(discarded?.actor, 'risk');
    const [importRow] = await auditRows('lexicon.import');
    assert.equal(detailOf(importRow!).mode, 'replace');
    assert.equal(detailOf(importRow!).added, 1);
  });

  test('the tester through the portal: offsets into the text; the text is in no audit row', async () => {
    const text = '【测试】客户经理说：这个是内部暗语甲，仅限内部';
    const res = await as('auditor', 'POST', '/v1/lexicon/test', { text, draft: true });
    assert.equal(res.statusCode, 200, res.body);
    const reply = res.json<LexiconTestReply>();
    const hit = reply.hits.find((h) => h.ruleId === 'acme-001');
    assert.ok(hit, JSON.stringify(reply.hits));
    assert.equal(text.slice(hit.start, hit.end), '内部暗语甲');
    const leaked = await db.query('SELECT seq FROM audit_event WHERE detail LIKE ?', ['%客户经理说%']);
    assert.deepEqual(leaked, []);
    const tooLong = await as('auditor', 'POST', '/v1/lexicon/test', { text: 'a'.repeat(1048577) });
    assert.equal(tooLong.statusCode, 400);
  });

  test('[REG-03] publish is for admins: the version list shows it, the compliance service scans with it at once, audited', async () => {
    const draft = (await versions()).draft!;
    const res = await as('admin', 'POST', '/v1/lexicon/draft/publish', {
      note: '加入本行暗语',
      rescan: { from: '2026-01-01T00:00:00Z', to: '2026-01-08T00:00:00Z' },
    });
    assert.equal(res.statusCode, 200, res.body);
    const view = res.json<LexiconVersionView & { rescan: RescanJobView }>();
    assert.equal(view.version, draft);
    assert.equal(view.publishedBy, 'admin');
    assert.equal(view.rescan.status, 'queued');
    const list = await versions();
    assert.equal(list.published, draft);
    assert.equal(list.items.find((v) => v.version === 1)?.status, 'superseded');
    assert.equal(compliance.lexicon.published()?.version, draft);
    const tested = (
      await as('auditor', 'POST', '/v1/lexicon/test', { text: '内部暗语甲' })
    ).json<LexiconTestReply>();
    assert.equal(tested.lexiconVersion, draft);
    const [published] = await auditRows('lexicon.publish');
    assert.equal(published?.actor, 'admin');
    assert.equal(published?.target, `lexicon-version:${draft}`);
    assert.equal(detailOf(published).note, '加入本行暗语');
    assert.equal((detailOf(published).rescan as { id: string }).id, view.rescan.id);
  });

  test('rescans: a risk officer starts and cancels one, an auditor follows it; audited', async () => {
    const started = await as('risk', 'POST', '/v1/lexicon/rescans', {
      from: '2026-02-01T00:00:00Z',
      to: '2026-02-02T00:00:00Z',
      ratePerSecond: 100,
    });
    assert.equal(started.statusCode, 202, started.body);
    const job = started.json<RescanJobView>();
    assert.equal(job.requestedBy, 'risk');
    assert.equal(
      (await as('auditor', 'GET', `/v1/lexicon/rescans/${job.id}`)).json<RescanJobView>().status,
      'queued',
    );
    assert.ok(
      (await as('auditor', 'GET', '/v1/lexicon/rescans'))
        .json<{ items: RescanJobView[] }>()
        .items.some((j) => j.id === job.id),
    );
    assert.equal((await as('auditor', 'POST', `/v1/lexicon/rescans/${job.id}/cancel`)).statusCode, 403);
    const cancelled = await as('risk', 'POST', `/v1/lexicon/rescans/${job.id}/cancel`);
    assert.equal(cancelled.json<RescanJobView>().status, 'cancelled');
    assert.equal((await as('risk', 'POST', '/v1/lexicon/rescans', { from: 'x', to: 'y' })).statusCode, 400);
    assert.equal((await as('auditor', 'GET', '/v1/lexicon/versions/999/entries')).statusCode, 404);
    // a username outside ASCII reaches the compliance service intact (percent-encoded on the way)
    await upsertUser(portal.db, {
      username: '风控张敏',
      displayName: '张敏',
      roles: ['risk_officer'],
      password: 'Zhang#Pass2026',
    });
    const zhang = (await portal.sessions.create('风控张敏')).token;
    const byZhang = await portal.inject({
      method: 'POST',
      url: '/v1/lexicon/rescans',
      headers: { authorization: `Bearer ${zhang}` },
      payload: { from: '2026-02-03T00:00:00Z', to: '2026-02-04T00:00:00Z' },
    });
    assert.equal(byZhang.statusCode, 202, byZhang.body);
    assert.equal(byZhang.json<RescanJobView>().requestedBy, '风控张敏');
    const [startRow] = await auditRows('lexicon.rescan.start');
    assert.equal(startRow?.target, `lexicon-rescan:${job.id}`);
    const [cancelRow] = await auditRows('lexicon.rescan.cancel');
    assert.equal(cancelRow?.actor, 'risk');
    assert.equal(await verifyAuditChain(portal.db), null, 'the audit chain is intact');
  });

  test('compliance down, not configured, or refusing the portal → 503; nothing audited', async () => {
    const rows = (await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM audit_event'))[0]!.n;
    const down = await portalApp(db, { url: 'http://127.0.0.1:9', token: portalToken });
    const unconfigured = await portalApp(db, {});
    const { port } = compliance.server.address() as AddressInfo;
    const archiverToken = readFileSync(callerTokenFile('archiver'), 'utf8').trim();
    const refused = await portalApp(db, { url: `http://127.0.0.1:${port}`, token: archiverToken });
    try {
      for (const relay of [down, unconfigured, refused]) {
        const res = await relay.inject({
          method: 'PUT',
          url: '/v1/lexicon/draft/entries/acme-002',
          headers: { authorization: `Bearer ${sessions.risk}` },
          payload: custom('acme-002', '内部暗语乙'),
        });
        assert.equal(res.statusCode, 503, res.body);
      }
    } finally {
      await down.close();
      await unconfigured.close();
      await refused.close();
    }
    assert.equal((await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM audit_event'))[0]!.n, rows);
  });
});

describe('lexicon relay → the running compliance service (HTTPS, the portal credential of the stack)', () => {
  let db: TestDatabase;
  let portal: Awaited<ReturnType<typeof portalApp>>;
  let session: string;

  before(async () => {
    db = await createTestDatabase();
    portal = await portalApp(db, {
      url: envString('CZ_COMPLIANCE_URL'),
      token: portalToken,
      fetch: secureFetchFor(optionalClientTlsFromEnv()),
    });
    await upsertUser(portal.db, {
      username: 'auditor',
      displayName: 'auditor',
      roles: ['auditor'],
      password: 'auditor#Pass2026',
    });
    session = (await portal.sessions.create('auditor')).token;
  });
  after(async () => {
    await portal?.close();
    await db?.drop();
  });

  test('[REG-03] the portal reads the versions and tests a text on the live service (read only)', async () => {
    const headers = { authorization: `Bearer ${session}` };
    const list = await portal.inject({ method: 'GET', url: '/v1/lexicon/versions', headers });
    assert.equal(list.statusCode, 200, list.body);
    const versions = list.json<LexiconVersionListReply>();
    assert.ok(versions.published !== null, 'a published version (the defaults at least)');
    assert.ok(Object.keys(versions.byCategory).length >= 9, JSON.stringify(versions.byCategory));
    const text = '这款产品保本保息';
    const tested = await portal.inject({
      method: 'POST',
      url: '/v1/lexicon/test',
      headers,
      payload: { text },
    });
    assert.equal(tested.statusCode, 200, tested.body);
    const reply = tested.json<LexiconTestReply>();
    assert.equal(reply.lexiconVersion, versions.published);
    const hit = reply.hits.find((h) => h.category === 'guaranteed_return');
    assert.ok(hit, JSON.stringify(reply.hits));
    assert.equal(text.slice(hit.start, hit.end), '保本保息');
  });
});
