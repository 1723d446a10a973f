/**
 * Lexicon management on the compliance service (real MariaDB, real key service for callers): the
 * defaults seeded once as version 1, the draft (edit, import, discard), CSV export and import,
 * diff, publish (every replica switches), the tester, retroactive scan jobs, and bad input.
 * Only the lexicon's own plugins run here; the flow's consumers are tested with the flow.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type {
  LexiconDiffReply,
  LexiconEntry,
  LexiconEntryListReply,
  LexiconImportReply,
  LexiconTestReply,
  LexiconVersionListReply,
  LexiconVersionView,
  RescanJobListReply,
  RescanJobView,
} from '@cz/contracts';
import {
  callerAuthPlugin,
  createServer,
  databasePlugin,
  errorHandlerPlugin,
  mainDataSourceOptions,
} from '@cz/common';
import {
  callerHeaders,
  callerTokenFile,
  createTestDatabase,
  eventually,
  loadStackEnv,
  testCallerAuth,
  type TestDatabase,
} from '@cz/testkit';
import lexiconPlugin from '../src/plugins/app/lexicon';
import lexiconRoutes from '../src/routes/lexicon';
import { DEFAULT_LEXICON } from '../src/lexicon/default-lexicon';
import { lexiconDigest } from '../src/lexicon/canonical';

loadStackEnv();
const dev = callerHeaders();

async function lexiconApp(db: TestDatabase) {
  const app = createServer('compliance', { logger: false });
  await app.register(errorHandlerPlugin);
  await app.register(callerAuthPlugin, testCallerAuth());
  await app.register(databasePlugin, mainDataSourceOptions(db.config));
  await app.register(lexiconPlugin, { settings: { refreshMs: 200 } });
  await app.register(lexiconRoutes);
  await app.ready();
  return app;
}
type App = Awaited<ReturnType<typeof lexiconApp>>;

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

const CSV_HEADER = 'id,kind,pattern,near,within,category,severity,explanation,reg,pinyin,negatable,enabled';

describe('lexicon store and API (real MariaDB)', () => {
  let db: TestDatabase;
  let app: App;
  let replica: App;
  const built: App[] = [];

  before(async () => {
    db = await createTestDatabase();
    // two replicas starting together on an empty database: the defaults are loaded once
    const started = await Promise.allSettled([lexiconApp(db), lexiconApp(db)]);
    built.push(...started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])));
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    [app, replica] = built as [App, App];
  });
  after(async () => {
    for (const started of built) await started.close();
    await db?.drop();
  });

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers = {}) =>
    app.inject({
      method,
      url,
      headers: { ...dev, ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const versions = async () => (await call('GET', '/v1/lexicon/versions')).json<LexiconVersionListReply>();

  test('the defaults are version 1, published by system, loaded once by replicas starting together', async () => {
    const rows = await db.query<{ version: number; status: string }>(
      'SELECT version, status FROM lexicon_version',
    );
    assert.deepEqual(
      rows.map((r) => [Number(r.version), r.status]),
      [[1, 'published']],
    );
    const list = await versions();
    assert.equal(list.published, 1);
    assert.equal(list.draft, null);
    const [v1] = list.items;
    assert.equal(v1!.publishedBy, 'system');
    assert.equal(v1!.entryCount, DEFAULT_LEXICON.length);
    assert.equal(v1!.digest, lexiconDigest(DEFAULT_LEXICON), 'digest = SM3 of the canonical entries');
    const total = Object.values(list.byCategory).reduce((a, b) => a + b, 0);
    assert.equal(total, DEFAULT_LEXICON.length, 'byCategory covers every entry');
    assert.equal(app.lexicon.published()?.version, 1);
    assert.equal(replica.lexicon.published()?.version, 1);
  });

  test('entries of a version: search, filters, pages; unknown version is 404', async () => {
    const first = DEFAULT_LEXICON[0]!;
    const all = (await call('GET', '/v1/lexicon/versions/1/entries?limit=500')).json<LexiconEntryListReply>();
    assert.equal(all.total, DEFAULT_LEXICON.length);
    const found = (
      await call('GET', `/v1/lexicon/versions/1/entries?q=${encodeURIComponent(first.pattern)}`)
    ).json<LexiconEntryListReply>();
    assert.ok(found.items.some((e) => e.id === first.id));
    const byCategory = (
      await call('GET', `/v1/lexicon/versions/1/entries?category=${first.category}&limit=1`)
    ).json<LexiconEntryListReply>();
    assert.equal(byCategory.items.length, 1);
    assert.ok(byCategory.items.every((e) => e.category === first.category));
    assert.equal((await call('GET', '/v1/lexicon/versions/999/entries')).statusCode, 404);
    assert.equal((await call('GET', '/v1/lexicon/versions/999/export')).statusCode, 404);
    assert.equal((await call('GET', '/v1/lexicon/draft/entries')).statusCode, 404, 'no draft yet');
    assert.equal((await call('GET', '/v1/lexicon/diff?from=1&to=999')).statusCode, 404);
  });

  test('the first edit creates the draft as a copy of the published version; the published one is untouched', async () => {
    const res = await call('PUT', '/v1/lexicon/draft/entries/acme-001', custom('acme-001', '内部专用暗语甲'));
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(res.json<LexiconEntry>(), custom('acme-001', '内部专用暗语甲'));
    const list = await versions();
    assert.equal(list.draft, 2);
    assert.equal(list.published, 1);
    const draft = list.items.find((v) => v.version === 2)!;
    assert.equal(draft.status, 'draft');
    assert.equal(draft.createdBy, 'dev', 'without x-cz-actor the calling service is the actor');
    assert.equal(draft.entryCount, DEFAULT_LEXICON.length + 1);
    const published = (
      await call('GET', '/v1/lexicon/versions/1/entries?q=acme')
    ).json<LexiconEntryListReply>();
    assert.equal(published.total, 0);
    // changing the entry again keeps one draft and changes its digest
    const again = await call(
      'PUT',
      '/v1/lexicon/draft/entries/acme-001',
      custom('acme-001', '内部专用暗语甲', { severity: 'critical' }),
      { 'x-cz-actor': 'risk' },
    );
    assert.equal(again.statusCode, 200, 'replaced, not created');
    const after = (await versions()).items.find((v) => v.version === 2)!;
    assert.notEqual(after.digest, draft.digest);
    assert.equal(after.createdBy, 'dev');
    const entries = (await call('GET', '/v1/lexicon/draft/entries?q=acme')).json<LexiconEntryListReply>();
    assert.equal(entries.items[0]?.severity, 'critical');
  });

  test('[REG-03] bad entries are refused at save time with the reason, nothing saved', async () => {
    const before = (await versions()).items.find((v) => v.version === 2)!;
    const cases: { entry: LexiconEntry; reason: RegExp }[] = [
      { entry: custom('bad-regex', '保本(', { kind: 'regex' }), reason: /regular expression|regex/i },
      {
        entry: custom('evil-regex', '(a+)+$', { kind: 'regex' }),
        reason: /exponential|catastroph|nested|unsafe/i,
      },
      { entry: custom('near-missing', '保证', { kind: 'proximity' }), reason: /near|within/ },
    ];
    for (const { entry, reason } of cases) {
      const res = await call('PUT', `/v1/lexicon/draft/entries/${entry.id}`, entry);
      assert.equal(res.statusCode, 400, `${entry.id}: ${res.body}`);
      assert.match(res.json<{ message: string }>().message, reason, entry.id);
    }
    const mismatch = await call('PUT', '/v1/lexicon/draft/entries/other-id', custom('acme-002', '词'));
    assert.equal(mismatch.statusCode, 400);
    assert.equal(mismatch.json<{ code: string }>().code, 'id_mismatch');
    const unknownCategory = await call('PUT', '/v1/lexicon/draft/entries/acme-003', {
      ...custom('acme-003', '词'),
      category: 'gossip',
    });
    assert.equal(unknownCategory.statusCode, 400);
    const afterAll = (await versions()).items.find((v) => v.version === 2)!;
    assert.equal(afterAll.digest, before.digest, 'nothing of the refused entries was saved');
  });

  test('[REG-03] import with duplicates, unknown categories, bad severities, bad regex and missing columns: every line reported, nothing applied', async () => {
    const before = (await versions()).items.find((v) => v.version === 2)!;
    const csv = [
      CSV_HEADER,
      'imp-001,term,合规新词一,,,custom,warning,说明,REG-03,,,true',
      'imp-002,term,合规新词二,,,gossip,warning,说明,REG-03,,,true',
      'imp-001,term,合规新词三,,,custom,warning,说明,REG-03,,,true',
      'imp-003,term,合规新词四,,,custom,urgent,说明,REG-03,,,true',
      'imp-004,regex,"保本(",,,custom,warning,说明,REG-03,,,true',
      'imp-005,term,合规新词五,,,custom',
      'imp-006,term,合规新词六,,,custom,info,说明,REG-03,,,true',
    ].join('\r\n');
    const res = await call('POST', '/v1/lexicon/draft/import', { csv, mode: 'merge' });
    assert.equal(res.statusCode, 400, res.body);
    const reply = res.json<LexiconImportReply>();
    const byLine = new Map(reply.errors.map((e) => [e.line, e.error]));
    assert.match(byLine.get(3) ?? '', /unknown category "gossip"/);
    assert.match(byLine.get(4) ?? '', /duplicate id "imp-001" \(first on line 2\)/);
    assert.match(byLine.get(5) ?? '', /bad severity "urgent"/);
    assert.match(byLine.get(6) ?? '', /regular expression|regex/i);
    assert.match(byLine.get(7) ?? '', /expected 12 columns, found 6/);
    assert.equal(reply.errors.length, 5, JSON.stringify(reply.errors));
    assert.equal(reply.applied, 0);
    const afterImport = (await versions()).items.find((v) => v.version === 2)!;
    assert.equal(afterImport.digest, before.digest, 'the good lines were not applied either');
    const none = (await call('GET', '/v1/lexicon/draft/entries?q=imp-')).json<LexiconEntryListReply>();
    assert.equal(none.total, 0);

    const missingColumn = await call('POST', '/v1/lexicon/draft/import', {
      csv: 'id,kind,pattern\r\nx-1,term,词\r\n',
      mode: 'merge',
    });
    assert.equal(missingColumn.statusCode, 400);
    assert.match(missingColumn.json<LexiconImportReply>().errors[0]!.error, /missing columns: near/);
  });

  test('export → import round trip: CSV with BOM, quotes, commas and line breaks comes back identical', async () => {
    const tricky = custom('acme-quote', '内部专用暗语乙', {
      explanation: '含"引号"、逗号,\n以及换行的说明 ',
      reg: ['REG-03', 'REG-11'],
      pinyin: false,
      negatable: false,
    });
    assert.equal((await call('PUT', '/v1/lexicon/draft/entries/acme-quote', tricky)).statusCode, 201);
    const draftBefore = (await versions()).items.find((v) => v.version === 2)!;
    const exported = await call('GET', '/v1/lexicon/versions/2/export');
    assert.equal(exported.statusCode, 200);
    assert.match(String(exported.headers['content-type']), /^text\/csv; charset=utf-8/);
    assert.match(String(exported.headers['content-disposition']), /lexicon-v2\.csv/);
    const raw = exported.rawPayload;
    assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM for Excel');
    const csv = raw.toString('utf8');
    assert.ok(csv.slice(1).startsWith(CSV_HEADER));

    // the draft goes, a new one is made from the published version, then replaced by the file
    assert.equal((await call('DELETE', '/v1/lexicon/draft')).statusCode, 204);
    assert.equal((await call('DELETE', '/v1/lexicon/draft')).statusCode, 404, 'nothing left to discard');
    assert.equal((await versions()).draft, null);
    const imported = await call('POST', '/v1/lexicon/draft/import', { csv, mode: 'replace' });
    assert.equal(imported.statusCode, 200, imported.body);
    const counts = imported.json<LexiconImportReply>();
    assert.equal(counts.added, 2, 'acme-001 and acme-quote');
    assert.equal(counts.removed, 0);
    const draftAfter = (await versions()).items.find((v) => v.status === 'draft')!;
    assert.equal(draftAfter.digest, draftBefore.digest, 'same entries, same digest');
    const back = (await call('GET', '/v1/lexicon/draft/entries?q=acme-quote')).json<LexiconEntryListReply>();
    assert.deepEqual(back.items[0], tricky);
  });

  test('diff from the published version to the draft', async () => {
    const list = await versions();
    const diff = (
      await call('GET', `/v1/lexicon/diff?from=${list.published}&to=${list.draft}`)
    ).json<LexiconDiffReply>();
    assert.deepEqual(
      diff.added.map((e) => e.id),
      ['acme-001', 'acme-quote'],
    );
    assert.deepEqual(diff.removed, []);
    assert.deepEqual(diff.changed, []);
    const first = DEFAULT_LEXICON[0]!;
    const changed = { ...first, severity: first.severity === 'info' ? 'warning' : 'info' } as LexiconEntry;
    assert.equal((await call('PUT', `/v1/lexicon/draft/entries/${first.id}`, changed)).statusCode, 200);
    const second = DEFAULT_LEXICON[1];
    if (second)
      assert.equal((await call('DELETE', `/v1/lexicon/draft/entries/${second.id}`)).statusCode, 204);
    const diff2 = (
      await call('GET', `/v1/lexicon/diff?from=${list.published}&to=${list.draft}`)
    ).json<LexiconDiffReply>();
    assert.equal(diff2.changed.length, 1);
    assert.equal(diff2.changed[0]!.before.severity, first.severity);
    assert.equal(diff2.changed[0]!.after.severity, changed.severity);
    if (second) assert.deepEqual(diff2.removed, [second]);
    assert.equal((await call('DELETE', '/v1/lexicon/draft/entries/no-such-entry')).statusCode, 404);
  });

  test('the tester: offsets into the given text, the draft on request', async () => {
    const text = '客户经理说：这个是内部专用暗语甲，别外传';
    const onDraft = await call('POST', '/v1/lexicon/test', { text, draft: true });
    assert.equal(onDraft.statusCode, 200, onDraft.body);
    const reply = onDraft.json<LexiconTestReply>();
    assert.equal(reply.draft, true);
    assert.equal(reply.lexiconVersion, (await versions()).draft);
    const hit = reply.hits.find((h) => h.ruleId === 'acme-001');
    assert.ok(hit, JSON.stringify(reply.hits));
    assert.equal(text.slice(hit.start, hit.end), '内部专用暗语甲');
    assert.equal(hit.category, 'custom');
    const onPublished = (await call('POST', '/v1/lexicon/test', { text })).json<LexiconTestReply>();
    assert.equal(onPublished.lexiconVersion, 1);
    assert.ok(!onPublished.hits.some((h) => h.ruleId === 'acme-001'), 'not published yet');
    const empty = (await call('POST', '/v1/lexicon/test', { text: '' })).json<LexiconTestReply>();
    assert.deepEqual(empty.hits, []);
  });

  test('[REG-03] publish: the draft becomes published, the old version superseded, every replica switches; a rescan can be queued with it', async () => {
    const draft = (await versions()).draft!;
    const res = await call(
      'POST',
      '/v1/lexicon/draft/publish',
      {
        note: '加入本行暗语',
        rescan: { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', ratePerSecond: 500 },
      },
      { 'x-cz-actor': 'admin' },
    );
    assert.equal(res.statusCode, 200, res.body);
    const view = res.json<LexiconVersionView & { previous: number; rescan: RescanJobView }>();
    assert.equal(view.version, draft);
    assert.equal(view.status, 'published');
    assert.equal(view.publishedBy, 'admin');
    assert.equal(view.note, '加入本行暗语');
    assert.equal(view.previous, 1);
    assert.equal(view.rescan.version, draft);
    assert.equal(view.rescan.status, 'queued');
    assert.equal(view.rescan.requestedBy, 'admin');
    const list = await versions();
    assert.equal(list.published, draft);
    assert.equal(list.draft, null);
    assert.equal(list.items.find((v) => v.version === 1)?.status, 'superseded');
    assert.ok((list.byCategory.custom ?? 0) >= 2, 'byCategory counts the published version');
    assert.equal(app.lexicon.published()?.version, draft, 'this replica at once');
    await eventually(
      'the other replica to switch',
      async () => (replica.lexicon.published()?.version === draft ? true : undefined),
      5000,
    );
    const tested = (
      await call('POST', '/v1/lexicon/test', { text: '内部专用暗语甲' })
    ).json<LexiconTestReply>();
    assert.equal(tested.lexiconVersion, draft);
    assert.ok(tested.hits.some((h) => h.ruleId === 'acme-001'));
    // older versions stay available compiled, for retroactive scans
    assert.equal((await app.lexicon.compiled(1)).version, 1);
    await assert.rejects(app.lexicon.compiled(999));
    assert.equal(await app.lexicon.draft(), null);
    assert.equal(
      (await call('POST', '/v1/lexicon/draft/publish', { note: 'again' })).statusCode,
      404,
      'no draft',
    );
  });

  test('rescan jobs: queue, list, status, cancel; the request is checked', async () => {
    const period = { from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' };
    const queued = await call('POST', '/v1/lexicon/rescans', { ...period, corpId: 'rescan-corp' });
    assert.equal(queued.statusCode, 202, queued.body);
    const job = queued.json<RescanJobView>();
    assert.equal(job.status, 'queued');
    assert.equal(job.version, (await versions()).published);
    assert.equal(job.ratePerSecond, 2000);
    assert.equal(job.corpId, 'rescan-corp');
    const listed = (await call('GET', '/v1/lexicon/rescans')).json<RescanJobListReply>();
    assert.ok(listed.items.some((j) => j.id === job.id));
    assert.equal((await call('GET', `/v1/lexicon/rescans/${job.id}`)).json<RescanJobView>().id, job.id);
    const cancelled = await call('POST', `/v1/lexicon/rescans/${job.id}/cancel`);
    assert.equal(cancelled.json<RescanJobView>().status, 'cancelled');
    assert.equal((await call('POST', `/v1/lexicon/rescans/${job.id}/cancel`)).statusCode, 200, 'idempotent');

    const other = (
      await call('POST', '/v1/lexicon/rescans', { ...period, version: 1 })
    ).json<RescanJobView>();
    assert.equal(other.version, 1, 'a superseded version may be re-run');
    await db.query("UPDATE compliance_rescan SET status = 'done' WHERE id = ?", [other.id]);
    assert.equal((await call('POST', `/v1/lexicon/rescans/${other.id}/cancel`)).statusCode, 409);

    const refused: [unknown, number][] = [
      [{ from: period.to, to: period.from }, 400],
      [{ ...period, version: 999 }, 404],
      [{ ...period, orgUnitId: 'branch-1' }, 400],
      [{ ...period, corpId: 'rescan-corp', orgUnitId: 'no-such-unit' }, 404],
      [{ ...period, ratePerSecond: 1 }, 400],
      [{ from: 'yesterday', to: period.to }, 400],
    ];
    for (const [body, status] of refused) {
      const res = await call('POST', '/v1/lexicon/rescans', body);
      assert.equal(res.statusCode, status, `${JSON.stringify(body)} → ${res.body}`);
    }
    // a draft cannot be re-run
    await call('PUT', '/v1/lexicon/draft/entries/acme-009', custom('acme-009', '草稿词'));
    const draft = (await versions()).draft!;
    assert.equal((await call('POST', '/v1/lexicon/rescans', { ...period, version: draft })).statusCode, 400);
    assert.equal((await call('GET', `/v1/lexicon/rescans/${'0'.repeat(32)}`)).statusCode, 404);
    assert.equal((await call('POST', `/v1/lexicon/rescans/${'0'.repeat(32)}/cancel`)).statusCode, 404);
    assert.equal((await call('GET', '/v1/lexicon/rescans/not-an-id')).statusCode, 400);
  });

  test('a 1 MiB text is scanned in bounded time; 1 MiB + 1 character is refused', async () => {
    const sentence = '您好，这款理财产品的业绩比较基准是百分之三点五，具体以合同为准。';
    const text = sentence.repeat(Math.ceil(1048576 / sentence.length)).slice(0, 1048576);
    const started = Date.now();
    const res = await call('POST', '/v1/lexicon/test', { text });
    const ms = Date.now() - started;
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    assert.ok(ms < 30000, `1 MiB scanned in ${ms} ms`);
    const tooLong = await call('POST', '/v1/lexicon/test', { text: `${text}。` });
    assert.equal(tooLong.statusCode, 400);
  });

  test('callers: none is 401, one without compliance.lexicon is 403, a malformed actor is 400', async () => {
    const none = await app.inject({ method: 'GET', url: '/v1/lexicon/versions' });
    assert.equal(none.statusCode, 401);
    const archiverToken = readFileSync(callerTokenFile('archiver'), 'utf8').trim();
    const wrong = await app.inject({
      method: 'POST',
      url: '/v1/lexicon/test',
      headers: callerHeaders(archiverToken),
      payload: { text: '保本保息' },
    });
    assert.equal(wrong.statusCode, 403);
    const badActor = await call('PUT', '/v1/lexicon/draft/entries/acme-010', custom('acme-010', '词十'), {
      'x-cz-actor': encodeURIComponent('admin; DROP TABLE'),
    });
    assert.equal(badActor.statusCode, 400);
  });
});
