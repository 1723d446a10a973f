/**
 * Key custody without a single point of trust (issue 10), against the real MariaDB: the init
 * ceremony with enrolled officers' SM2 keys and a one-time bootstrap secret, shares bound to their
 * officers, callers issued / re-issued / widened / revoked only under dual control, credentials
 * delivered encrypted once, revocation effective within the cache window, operations enforced.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sm2GenerateKeyPair } from '@cz/common/crypto';
import type {
  CallerGrants,
  CallerListReply,
  CollectedCredential,
  IntrospectReply,
  KeyInitReply,
  KeyRequestView,
  KeyServiceStatus,
  OfficerListReply,
} from '@cz/contracts';
import { DEFAULT_KEY_SERVICE_SETTINGS, MAX_PRINCIPAL_CACHE_MS, decryptAsOfficer } from '@cz/keyservice';
import {
  OFFICERS,
  TEST_BOOTSTRAP_SECRET,
  bearer,
  buildKeyService,
  collectCredential,
  createKeysTestDatabase,
  enrolOfficers,
  eventually,
  issueCaller,
  officerOf,
  type KeyCeremony,
  type KeyServiceApp,
  type TestDatabase,
  type TestOfficer,
  initKeyService,
  tokenOf,
  unsealWith,
} from '@cz/testkit';

interface AuditRow {
  actor: string;
  action: string;
  outcome: string;
  code: string;
  target: string;
  detail: string;
}

type Reply = { statusCode: number; body: string; json: <T>() => T };

/** Whether the newest audit event is the refusal `code` (every refusal is audited). */
async function assertRefused(db: TestDatabase, res: Reply, status: number, code: string): Promise<void> {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.json<{ code: string }>().code, code);
  const [audit] = await db.query<AuditRow>('SELECT * FROM ks_audit_event ORDER BY seq DESC LIMIT 1');
  assert.equal(audit?.outcome, 'refused', `audited: ${JSON.stringify(audit)}`);
  assert.equal(audit?.code, code);
}

describe('init ceremony: enrolled officers, a one-time bootstrap secret, shares only in ciphertext', () => {
  let db: TestDatabase;
  let app: KeyServiceApp;
  let enrolled: { name: string; publicKey: string; privateKey: string }[];
  let reply: KeyInitReply;
  const tokens = new Map<string, string>();
  const shares = new Map<string, string>();

  const status = async () =>
    (await app.inject({ method: 'GET', url: '/v1/sys/status' })).json<KeyServiceStatus>();
  const init = (bootstrapSecret?: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/sys/init',
      payload: bootstrapSecret === undefined ? { threshold: 3 } : { threshold: 3, bootstrapSecret },
    });
  const unseal = (payload: object, token?: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/sys/unseal',
      payload,
      ...(token ? { headers: bearer(token) } : {}),
    });

  before(async () => {
    db = await createKeysTestDatabase();
    app = await buildKeyService(db);
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  test('[KEY-INIT-1] enrolment and init without or with a wrong bootstrap secret are refused', async () => {
    const pair = sm2GenerateKeyPair();
    await assertRefused(
      db,
      await app.inject({
        method: 'POST',
        url: '/v1/sys/enrol',
        payload: { name: 'mallory', publicKey: pair.publicKey, bootstrapSecret: 'x'.repeat(32) },
      }),
      401,
      'wrong_bootstrap_secret',
    );
    enrolled = await enrolOfficers(app);
    assert.equal((await init()).statusCode, 400, 'no secret: the schema refuses');
    await assertRefused(
      db,
      await init('wrong-bootstrap-secret-of-some-length'),
      401,
      'wrong_bootstrap_secret',
    );
    assert.equal((await status()).initialized, false);
  });

  test('[KEY-INIT-2] a key service without a configured bootstrap secret cannot be initialised', async () => {
    const other = await createKeysTestDatabase();
    const bare = await buildKeyService(other, { bootstrapSecret: undefined });
    try {
      const res = await bare.inject({
        method: 'POST',
        url: '/v1/sys/init',
        payload: { threshold: 2, bootstrapSecret: TEST_BOOTSTRAP_SECRET },
      });
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json<{ code: string }>().code, 'bootstrap_disabled');
    } finally {
      await bare.close();
      await other.drop();
    }
  });

  test('[KEY-INIT-3] init returns each share and credential encrypted to its officer only', async () => {
    const res = await init(TEST_BOOTSTRAP_SECRET);
    assert.equal(res.statusCode, 200, res.body);
    reply = res.json<KeyInitReply>();
    assert.equal(reply.shares, OFFICERS.length);
    assert.deepEqual(reply.officers.map((o) => o.name).sort(), [...OFFICERS].sort());
    for (const officer of enrolled) {
      const sealed = reply.officers.find((o) => o.name === officer.name)!;
      // no share or credential in the clear: the runner sees only SM2 ciphertexts
      assert.doesNotMatch(res.body, /cko_/);
      const share = decryptAsOfficer(sealed.encryptedShare, officer.privateKey);
      assert.match(share, /^[A-Za-z0-9_-]{44}$/);
      assert.ok(!res.body.includes(share), 'the share is not in the reply');
      const token = decryptAsOfficer(sealed.encryptedCredential, officer.privateKey);
      assert.match(token, /^cko_/);
      shares.set(officer.name, share);
      tokens.set(officer.name, token);
      // another officer's key does not open it
      const stranger = enrolled.find((o) => o.name !== officer.name)!;
      assert.throws(() => decryptAsOfficer(sealed.encryptedShare, stranger.privateKey));
    }
    // nothing of it in the audit trail either
    const trail = (await db.query<AuditRow>('SELECT * FROM ks_audit_event')).map((e) => e.detail).join('\n');
    for (const secret of [...shares.values(), ...tokens.values()]) assert.ok(!trail.includes(secret));
    const officers = await app.inject({
      method: 'GET',
      url: '/v1/officers',
      headers: bearer(tokens.get('alice')!),
    });
    assert.equal(officers.statusCode, 200, officers.body);
    const list = officers.json<OfficerListReply>().officers;
    assert.equal(list.length, OFFICERS.length);
    for (const officer of list) {
      assert.equal(officer.state, 'active');
      assert.match(officer.publicKeyFingerprint ?? '', /^[0-9a-f]{64}$/);
    }
  });

  test('[KEY-INIT-4] a second init is refused, and enrolment after init too (the secret is used up)', async () => {
    await assertRefused(db, await init(TEST_BOOTSTRAP_SECRET), 409, 'already_initialized');
    await assertRefused(
      db,
      await app.inject({
        method: 'POST',
        url: '/v1/sys/enrol',
        payload: {
          name: 'late',
          publicKey: sm2GenerateKeyPair().publicKey,
          bootstrapSecret: TEST_BOOTSTRAP_SECRET,
        },
      }),
      409,
      'already_initialized',
    );
  });

  test('[KEY-UNSEAL-1] share submitted by a non-officer refused: no credential → 401, a service credential → 403, another officer’s share → 403', async () => {
    const share = shares.get('alice')!;
    const anonymous = await unseal({ share });
    assert.equal(anonymous.statusCode, 401, anonymous.body);
    await assertRefused(db, await unseal({ share }, tokens.get('bob')), 403, 'not_your_share');
    assert.equal((await status()).progress, 0, 'nothing was counted');
    // a service credential is not an officer's
    const caller = await issueCaller(app, officer('alice'), officer('bob'), {
      name: 'ingest',
      classes: ['chat'],
      operations: ['keys.seal'],
      corps: ['*'],
    });
    const byService = await unseal({ share }, caller);
    assert.equal(byService.statusCode, 403, byService.body);
    assert.equal((await status()).progress, 0);
  });

  test('[KEY-UNSEAL-2] an unseal round can be reset only by an officer (401 otherwise)', async () => {
    let res = await unseal({ share: shares.get('alice')! }, tokens.get('alice'));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await status()).progress, 1);
    res = await unseal({ reset: true });
    assert.equal(res.statusCode, 401, res.body);
    assert.equal((await status()).progress, 1, 'the round goes on');
    res = await unseal({ reset: true }, tokens.get('carol'));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await status()).progress, 0);
    const [audit] = await db.query<AuditRow>(
      "SELECT * FROM ks_audit_event WHERE action = 'unseal.reset' ORDER BY seq DESC LIMIT 1",
    );
    assert.equal(audit?.actor, 'officer:carol');
  });

  test('[KEY-UNSEAL-3] shares decrypted by their officers unseal the service', async () => {
    for (const name of ['erin', 'bob', 'dave']) {
      const res = await unseal({ share: shares.get(name)! }, tokens.get(name));
      assert.equal(res.statusCode, 200, res.body);
    }
    assert.equal((await status()).sealed, false);
  });

  function officer(name: string): TestOfficer {
    const keys = enrolled.find((o) => o.name === name)!;
    return { ...keys, token: tokens.get(name)! };
  }
});

describe('callers under dual control (real MariaDB)', () => {
  let db: TestDatabase;
  let app: KeyServiceApp;
  let replica: KeyServiceApp;
  let ceremony: KeyCeremony;
  let alice: TestOfficer;
  let bob: TestOfficer;
  let carol: TestOfficer;
  /** a service allowed to introspect (what ingest, archiver and recordings hold) */
  let gate: string;
  const REPLICA_CACHE_MS = 1500;

  const as = (token: string) => bearer(token);
  const post = (url: string, token: string, payload?: object) =>
    app.inject({ method: 'POST', url, headers: as(token), ...(payload ? { payload } : {}) });
  const get = (url: string, token: string) => app.inject({ method: 'GET', url, headers: as(token) });
  const requestView = (res: Reply) => {
    assert.equal(res.statusCode, 202, res.body);
    return res.json<KeyRequestView>();
  };
  const callers = async () => (await get('/v1/callers', alice.token)).json<CallerListReply>().callers;
  const introspect = async (token: string, on: KeyServiceApp = app) =>
    (
      await on.inject({
        method: 'POST',
        url: '/v1/callers/introspect',
        headers: as(gate),
        payload: { token },
      })
    ).json<IntrospectReply>();

  before(async () => {
    db = await createKeysTestDatabase();
    app = await buildKeyService(db);
    ceremony = await initKeyService(app, [
      { name: 'gate', operations: ['callers.introspect'], corps: [] },
      { name: 'ingest', classes: ['chat', 'index'], operations: ['keys.seal', 'keys.index'], corps: ['*'] },
    ]);
    await unsealWith(app, ceremony.shares.slice(0, 3));
    // a second replica on the same database, with a short principal cache
    replica = await buildKeyService(db, { principalCacheMs: REPLICA_CACHE_MS });
    await unsealWith(replica, ceremony.shares.slice(0, 3));
    [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) => officerOf(ceremony, n)) as [
      TestOfficer,
      TestOfficer,
      TestOfficer,
    ];
    gate = tokenOf(ceremony, 'callers', 'gate');
  });
  after(async () => {
    await replica?.close();
    await app?.close();
    await db?.drop();
  });

  test('[KEY-CALLER-1] single-officer caller issuance → pending until a second officer approves', async () => {
    const request = requestView(
      await post('/v1/callers', alice.token, {
        name: 'crm',
        classes: ['chat'],
        operations: ['keys.seal'],
        corps: ['ww-bank'],
        reason: 'the CRM files chat records',
      }),
    );
    assert.equal(request.kind, 'caller.issue');
    assert.equal(request.status, 'pending');
    assert.equal(request.dataClass, null);
    assert.equal(
      (await callers()).find((c) => c.name === 'crm'),
      undefined,
      'nothing issued yet',
    );
    // nothing to collect while pending
    const early = await get(`/v1/requests/${request.id}/credential`, alice.token);
    assert.equal(early.statusCode, 404, early.body);
    const approved = await post(`/v1/requests/${request.id}/approve`, bob.token);
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json<KeyRequestView>().credential, 'waiting');
    assert.doesNotMatch(approved.body, /cks_/, 'the approver does not see the credential');
    const crm = (await callers()).find((c) => c.name === 'crm');
    assert.deepEqual(
      { classes: crm?.classes, operations: crm?.operations, corps: crm?.corps, state: crm?.state },
      { classes: ['chat'], operations: ['keys.seal'], corps: ['ww-bank'], state: 'active' },
    );
    // only the requester collects it, once, encrypted to their key
    const byBob = await get(`/v1/requests/${request.id}/credential`, bob.token);
    assert.equal(byBob.statusCode, 403, byBob.body);
    const collected = await get(`/v1/requests/${request.id}/credential`, alice.token);
    assert.equal(collected.statusCode, 200, collected.body);
    const token = decryptAsOfficer(collected.json<CollectedCredential>().encryptedToken, alice.privateKey);
    assert.match(token, /^cks_/);
    const again = await get(`/v1/requests/${request.id}/credential`, alice.token);
    assert.equal(again.statusCode, 409, again.body);
    const [row] = await db.query<{ credential_ciphertext: string | null }>(
      'SELECT credential_ciphertext FROM ks_request WHERE id = ?',
      [request.id],
    );
    assert.equal(row?.credential_ciphertext, null, 'only the hash is kept once collected');
    const who = await introspect(token);
    assert.ok(who.active);
    assert.deepEqual(who.active && who.caller, {
      name: 'crm',
      kind: 'service',
      classes: ['chat'],
      operations: ['keys.seal'],
      corps: ['ww-bank'],
    });
  });

  test('[KEY-CALLER-2] self-approval refused (403, audited), nothing issued', async () => {
    const request = requestView(await post('/v1/callers', alice.token, { name: 'selfie', classes: ['pii'] }));
    await assertRefused(
      db,
      await post(`/v1/requests/${request.id}/approve`, alice.token),
      403,
      'same_officer',
    );
    assert.equal(
      (await callers()).find((c) => c.name === 'selfie'),
      undefined,
    );
    // reject needs a reason, and takes it
    const noReason = await post(`/v1/requests/${request.id}/reject`, bob.token, {});
    assert.equal(noReason.statusCode, 400, noReason.body);
    const rejected = await post(`/v1/requests/${request.id}/reject`, bob.token, { reason: 'not needed' });
    assert.equal(rejected.statusCode, 200, rejected.body);
    assert.equal(rejected.json<KeyRequestView>().decisionReason, 'not needed');
  });

  test('[KEY-CALLER-3] re-issue of an existing name via issue refused (409 caller_exists); re-issue is its own request', async () => {
    const before = await introspect(tokenOf(ceremony, 'callers', 'ingest'));
    await assertRefused(
      db,
      await post('/v1/callers', alice.token, { name: 'ingest', classes: ['pii'] }),
      409,
      'caller_exists',
    );
    assert.ok(before.active, 'the real ingest credential still works');
    assert.ok((await introspect(tokenOf(ceremony, 'callers', 'ingest'))).active);
    // a re-issue rotates the credential under dual control; the old one stops working
    const request = requestView(
      await post('/v1/callers/ingest/reissue', carol.token, { reason: 'rotate after staff change' }),
    );
    assert.equal((await post(`/v1/requests/${request.id}/approve`, alice.token)).statusCode, 200);
    const fresh = await collectCredential(app, carol, request.id);
    assert.equal((await introspect(fresh)).active, true);
    assert.equal((await introspect(tokenOf(ceremony, 'callers', 'ingest'))).active, false);
    const daily = await app.inject({
      method: 'POST',
      url: '/v1/datakeys/daily',
      headers: as(fresh),
      payload: { dataClass: 'chat' },
    });
    assert.equal(daily.statusCode, 200, daily.body);
  });

  test('[KEY-CALLER-4] operations enforced: a caller without keys.unwrap cannot unwrap; widening is dual control too', async () => {
    const token = await issueCaller(app, bob, carol, {
      name: 'sealer',
      classes: ['chat'],
      operations: ['keys.seal'],
      corps: ['*'],
    });
    const daily = await app.inject({
      method: 'POST',
      url: '/v1/datakeys/daily',
      headers: as(token),
      payload: { dataClass: 'chat' },
    });
    assert.equal(daily.statusCode, 200, daily.body);
    const key = daily.json<{ kekId: string; kekVersion: number; wrapped: string }>();
    const unwrapPayload = { kekId: key.kekId, kekVersion: key.kekVersion, wrapped: key.wrapped };
    const unwrap = () =>
      app.inject({ method: 'POST', url: '/v1/datakeys/unwrap', headers: as(token), payload: unwrapPayload });
    await assertRefused(db, await unwrap(), 403, 'operation_not_allowed');
    for (const [url, payload] of [
      ['/v1/indexkeys', { purpose: 'search-token' }],
      ['/v1/callers/introspect', { token: gate }],
    ] as const) {
      const res = await app.inject({ method: 'POST', url, headers: as(token), payload });
      assert.equal(res.statusCode, 403, `${url}: ${res.body}`);
    }
    // classes deny by default too: chat only
    const pii = await app.inject({
      method: 'POST',
      url: '/v1/datakeys/daily',
      headers: as(token),
      payload: { dataClass: 'pii' },
    });
    assert.equal(pii.statusCode, 403, pii.body);
    // a caller issued with nothing can do nothing
    const nothing = await issueCaller(app, bob, carol, { name: 'nothing' });
    const refused = await app.inject({
      method: 'POST',
      url: '/v1/datakeys/daily',
      headers: as(nothing),
      payload: { dataClass: 'chat' },
    });
    assert.equal(refused.statusCode, 403, refused.body);
    // widening: pending until approved
    const request = requestView(
      await post('/v1/callers/sealer/widen', bob.token, {
        operations: ['keys.unwrap'],
        reason: 'reads back',
      }),
    );
    assert.equal((await unwrap()).statusCode, 403, 'not before approval');
    assert.equal((await post(`/v1/requests/${request.id}/approve`, carol.token)).statusCode, 200);
    const opened = await unwrap();
    assert.equal(opened.statusCode, 200, opened.body);
  });

  test('[KEY-REVOKE-1] revoked credential → 401 within the cache window, audited', async () => {
    const token = await issueCaller(app, alice, bob, {
      name: 'doomed',
      classes: ['chat'],
      operations: ['keys.seal'],
      corps: ['*'],
    });
    const daily = (on: KeyServiceApp) =>
      on.inject({
        method: 'POST',
        url: '/v1/datakeys/daily',
        headers: as(token),
        payload: { dataClass: 'chat' },
      });
    assert.equal((await daily(app)).statusCode, 200);
    assert.equal((await daily(replica)).statusCode, 200, 'the replica caches the credential now');
    const request = requestView(await post('/v1/callers/doomed/revoke', alice.token, { reason: 'leaked' }));
    assert.equal((await daily(app)).statusCode, 200, 'pending: still valid');
    assert.equal((await post(`/v1/requests/${request.id}/approve`, carol.token)).statusCode, 200);
    const revokedAt = Date.now();
    assert.equal((await daily(app)).statusCode, 401, 'at once on the replica that revoked it');
    assert.equal((await introspect(token)).active, false);
    // the other replica answers from its cache until the window ends, then refuses
    await eventually(
      'the replica refuses the revoked credential',
      async () => ((await daily(replica)).statusCode === 401 ? true : undefined),
      REPLICA_CACHE_MS * 4,
    );
    assert.ok(Date.now() - revokedAt <= REPLICA_CACHE_MS + 1000, 'within the cache window');
    const view = (await callers()).find((c) => c.name === 'doomed');
    assert.equal(view?.state, 'revoked');
    assert.equal(view?.revokedBy, 'alice+carol');
    const [audit] = await db.query<AuditRow>(
      "SELECT * FROM ks_audit_event WHERE action = 'request.approve.caller.revoke' ORDER BY seq DESC LIMIT 1",
    );
    assert.equal(audit?.actor, 'officer:carol');
    assert.match(audit?.detail ?? '', /doomed/);
    // grants by name (mTLS callers): gone
    const grants = await app.inject({ method: 'GET', url: '/v1/callers/doomed/grants', headers: as(gate) });
    assert.equal(grants.statusCode, 404, grants.body);
    const live = await app.inject({ method: 'GET', url: '/v1/callers/sealer/grants', headers: as(gate) });
    assert.equal(live.statusCode, 200, live.body);
    assert.equal(live.json<CallerGrants>().name, 'sealer');
  });

  test('[KEY-REVOKE-2] the default cache window is ≤ 30 s here (≤ 60 s end to end with the consumers’ 30 s)', () => {
    assert.ok(DEFAULT_KEY_SERVICE_SETTINGS.principalCacheMs <= 30000);
    assert.ok(MAX_PRINCIPAL_CACHE_MS <= 30000);
    assert.ok(app.keyStore.credentials.cacheMs <= 30000);
  });

  test('[KEY-REVOKE-3] revoked officer refused (dual control; the last two officers cannot be revoked)', async () => {
    const erin = officerOf(ceremony, 'erin');
    assert.equal((await get('/v1/keyrings', erin.token)).statusCode, 200);
    const erinsRequest = requestView(
      await post('/v1/callers', erin.token, { name: 'erins-tool', classes: ['pii'] }),
    );
    const request = requestView(
      await post('/v1/officers/erin/revoke', alice.token, { reason: 'left the bank' }),
    );
    await assertRefused(
      db,
      await post(`/v1/requests/${request.id}/approve`, alice.token),
      403,
      'same_officer',
    );
    assert.equal((await post(`/v1/requests/${request.id}/approve`, bob.token)).statusCode, 200);
    const refused = await get('/v1/keyrings', erin.token);
    assert.equal(refused.statusCode, 401, refused.body);
    const withdrawn = (await get(`/v1/requests/${erinsRequest.id}`, alice.token)).json<KeyRequestView>();
    assert.equal(
      withdrawn.status,
      'rejected',
      'a revoked officer’s pending request cannot be approved any more',
    );
    const share = ceremony.shares.find((s) => s.officer === 'erin')!;
    const unseal = await app.inject({
      method: 'POST',
      url: '/v1/sys/unseal',
      headers: as(erin.token),
      payload: { share: share.share },
    });
    assert.equal(unseal.statusCode, 401, 'a revoked officer submits no share');
    const officers = (await get('/v1/officers', alice.token)).json<OfficerListReply>().officers;
    assert.equal(officers.find((o) => o.name === 'erin')?.state, 'revoked');
    // three left: revoking two more would leave one — the second is refused
    for (const name of ['dave', 'carol']) {
      const next = requestView(await post(`/v1/officers/${name}/revoke`, alice.token, { reason: 'test' }));
      assert.equal((await post(`/v1/requests/${next.id}/approve`, bob.token)).statusCode, 200);
    }
    await assertRefused(
      db,
      await post('/v1/officers/bob/revoke', alice.token, { reason: 'test' }),
      409,
      'too_few_officers',
    );
  });

  test('[KEY-CALLER-5] officer routes need an officer; introspection needs callers.introspect', async () => {
    const ingest = await issueCaller(app, alice, bob, {
      name: 'writer',
      classes: ['chat'],
      operations: ['keys.seal'],
      corps: ['*'],
    });
    assert.equal((await post('/v1/callers', ingest, { name: 'evil' })).statusCode, 403);
    assert.equal(
      (await app.inject({ method: 'POST', url: '/v1/callers', payload: { name: 'evil' } })).statusCode,
      401,
    );
    const res = await app.inject({
      method: 'POST',
      url: '/v1/callers/introspect',
      headers: as(ingest),
      payload: { token: gate },
    });
    assert.equal(res.statusCode, 403, res.body);
    assert.deepEqual(await introspect('cks_unknown'), { active: false });
  });
});
