/**
 * The officers' read-only listings behind the console page (密钥管理), against the real MariaDB:
 * who signed in, recent rewrap jobs, and recent audit events each with its own link checked — an
 * edited event shows as broken there and in the whole-chain verification. Officers only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  AuditVerifyReply,
  ErrorReply,
  KeyAuditEventListReply,
  OfficerSelfReply,
  RewrapJobListReply,
  RewrapJobView,
} from '@cz/contracts';
import {
  bearer,
  buildKeyService,
  createKeysTestDatabase,
  eventually,
  initKeyService,
  officerOf,
  tokenOf,
  unsealWith,
  type KeyCeremony,
  type KeyServiceApp,
  type TestDatabase,
} from '@cz/testkit';

describe('key service: the console listings (real MariaDB)', () => {
  let db: TestDatabase;
  let app: KeyServiceApp;
  let ceremony: KeyCeremony;
  let alice: Record<string, string>;

  const get = (url: string, headers: Record<string, string> = alice) =>
    app.inject({ method: 'GET', url, headers });

  before(async () => {
    db = await createKeysTestDatabase();
    app = await buildKeyService(db);
    ceremony = await initKeyService(app);
    await unsealWith(app, ceremony.shares.slice(0, ceremony.threshold));
    alice = bearer(officerOf(ceremony, 'alice').token);
  });

  after(async () => {
    await app?.close();
    await db?.drop();
  });

  test('GET /v1/officers/me names the officer whose credential it is', async () => {
    const res = await get('/v1/officers/me');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json<OfficerSelfReply>(), { name: 'alice', kind: 'officer' });
  });

  test('[REG-06] the listings refuse a missing credential (401) and a service credential (403)', async () => {
    const service = bearer(tokenOf(ceremony, 'callers', 'ingest'));
    for (const url of ['/v1/officers/me', '/v1/rewrap', '/v1/audit/events']) {
      assert.equal((await get(url, {})).statusCode, 401, url);
      const refused = await get(url, service);
      assert.equal(refused.statusCode, 403, url);
      assert.equal(refused.json<ErrorReply>().code, 'forbidden');
    }
  });

  test('GET /v1/rewrap lists jobs newest first with their progress', async () => {
    const started = await app.inject({ method: 'POST', url: '/v1/rewrap', headers: alice, payload: {} });
    assert.equal(started.statusCode, 202, started.body);
    const job = started.json<RewrapJobView>();
    const listed = await eventually('the rewrap job listed as done', async () => {
      const reply = (await get('/v1/rewrap?limit=5')).json<RewrapJobListReply>();
      const newest = reply.jobs[0];
      return newest?.id === job.id && newest.status === 'done' ? newest : undefined;
    });
    assert.equal(listed.requestedBy, 'officer:alice');
    assert.equal(listed.done, listed.total);
    assert.equal((await get('/v1/rewrap?limit=0')).statusCode, 400);
  });

  test('GET /v1/audit/events: newest first, pages back, every link intact', async () => {
    const first = (await get('/v1/audit/events?limit=5')).json<KeyAuditEventListReply>();
    assert.equal(first.events.length, 5);
    const seqs = first.events.map((event) => Number(event.seq));
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => b - a),
      'newest first',
    );
    assert.ok(first.events.every((event) => event.linkIntact));
    assert.ok(first.nextBefore);
    const second = (
      await get(`/v1/audit/events?limit=5&before=${first.nextBefore}`)
    ).json<KeyAuditEventListReply>();
    assert.equal(Number(second.events[0]!.seq), seqs[seqs.length - 1]! - 1, 'the next page continues');
    // the whole chain, page by page, down to the first event (whose link is the genesis)
    let before: string | null = first.nextBefore;
    let oldest = first.events[first.events.length - 1]!;
    while (before) {
      const page: KeyAuditEventListReply = (
        await get(`/v1/audit/events?limit=200&before=${before}`)
      ).json<KeyAuditEventListReply>();
      assert.ok(page.events.every((event) => event.linkIntact));
      oldest = page.events[page.events.length - 1] ?? oldest;
      before = page.nextBefore;
    }
    assert.equal(oldest.seq, '1');
    // shares, credentials and keys are never in the trail
    const text = JSON.stringify(first) + JSON.stringify(second);
    for (const officer of ceremony.officers) assert.ok(!text.includes(officer.token));
    for (const share of ceremony.shares) assert.ok(!text.includes(share.share));
    assert.equal((await get('/v1/audit/events?before=abc')).statusCode, 400);
  });

  test('[REG-07] an edited audit event shows as a broken link, and the verification names it first broken', async () => {
    const [victim] = await db.query<{ seq: string }>(
      'SELECT seq FROM ks_audit_event ORDER BY seq LIMIT 1 OFFSET 3',
    );
    assert.ok(victim);
    await db.query(`UPDATE ks_audit_event SET target = CONCAT(target, '-edited') WHERE seq = ?`, [
      victim.seq,
    ]);
    const events: KeyAuditEventListReply['events'] = [];
    let before: string | null = null;
    do {
      const page: KeyAuditEventListReply = (
        await get(`/v1/audit/events?limit=200${before ? `&before=${before}` : ''}`)
      ).json<KeyAuditEventListReply>();
      events.push(...page.events);
      before = page.nextBefore;
    } while (before);
    const broken = events.filter((event) => !event.linkIntact).map((event) => event.seq);
    assert.deepEqual(broken, [String(victim.seq)]);
    const verified = (await get('/v1/audit/verify')).json<AuditVerifyReply>();
    assert.equal(verified.intact, false);
    assert.equal(verified.firstBroken, String(victim.seq));
  });
});
