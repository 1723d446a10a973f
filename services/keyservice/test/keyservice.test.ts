/**
 * The key service against the real MariaDB (a fresh cz_test_* database with the key-service
 * schema): Shamir init/unseal, versioned KEKs, data keys, dual control, rewrap, crypto-shredding
 * and the audit chain. Every bad input is refused with its own code, changes nothing, and is
 * audited.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { combine, split } from 'shamir-secret-sharing';
import type {
  AuditVerifyReply,
  DataKeyReply,
  KeyRequestView,
  KeyServiceStatus,
  KeyringListReply,
  RewrapJobView,
} from '@cz/contracts';
import {
  bearer,
  buildKeyService,
  createKeysTestDatabase,
  eventually,
  initKeyService,
  type KeyCeremony,
  type KeyServiceApp,
  type TestShare,
  TEST_BOOTSTRAP_SECRET,
  type TestDatabase,
  tokenOf,
  unsealWith,
} from '@cz/testkit';
import { unwrapKek } from '../src/core/material';

interface AuditRow {
  seq: string;
  actor: string;
  action: string;
  outcome: string;
  code: string;
  target: string;
  detail: string;
}

describe('key service (real MariaDB)', () => {
  let db: TestDatabase;
  let app: KeyServiceApp;
  let init: KeyCeremony;
  let ingest: Record<string, string>;
  let portal: Record<string, string>;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let carol: Record<string, string>;

  const status = async () =>
    (await app.inject({ method: 'GET', url: '/v1/sys/status' })).json<KeyServiceStatus>();
  const post = (url: string, headers: Record<string, string>, payload?: object) =>
    payload === undefined
      ? app.inject({ method: 'POST', url, headers })
      : app.inject({ method: 'POST', url, headers, payload });
  /** a share goes in with its own officer's credential */
  const asOwner = (share: TestShare) => bearer(share.token);
  const submit = (share: TestShare) => post('/v1/sys/unseal', asOwner(share), { share: share.share });
  const daily = (dataClass = 'chat', headers = ingest) => post('/v1/datakeys/daily', headers, { dataClass });
  const unwrap = (key: { kekId: string; kekVersion: number; wrapped: string }, headers = ingest) =>
    post('/v1/datakeys/unwrap', headers, {
      kekId: key.kekId,
      kekVersion: key.kekVersion,
      wrapped: key.wrapped,
    });
  const keyring = async (dataClass: string) =>
    (await app.inject({ method: 'GET', url: '/v1/keyrings', headers: alice }))
      .json<KeyringListReply>()
      .keyrings.find((k) => k.dataClass === dataClass)!;
  const request = async (headers: Record<string, string>, body: Record<string, unknown>) => {
    const res = await post('/v1/requests', headers, body);
    assert.equal(res.statusCode, 201, res.body);
    return res.json<KeyRequestView>();
  };
  const approve = (id: string, headers: Record<string, string>) =>
    post(`/v1/requests/${id}/approve`, headers);
  const lastAudit = async () =>
    (await db.query<AuditRow>('SELECT * FROM ks_audit_event ORDER BY seq DESC LIMIT 1'))[0]!;
  const auditCount = async () =>
    Number((await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM ks_audit_event'))[0]!.n);

  /** Asserts the reply is the refusal `code`, and that the newest audit event records it. */
  async function assertRefused(
    res: { statusCode: number; body: string; json: <T>() => T },
    status: number,
    code: string,
  ): Promise<void> {
    assert.equal(res.statusCode, status, res.body);
    assert.equal(res.json<{ code: string }>().code, code);
    const audit = await lastAudit();
    assert.equal(audit.outcome, 'refused', `audited: ${JSON.stringify(audit)}`);
    assert.equal(audit.code, code);
  }

  before(async () => {
    db = await createKeysTestDatabase();
    app = await buildKeyService(db);
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  test('[REG-06] init issues the shares once; the service starts sealed and serves no key', async () => {
    assert.deepEqual(await status(), {
      initialized: false,
      sealed: true,
      threshold: 0,
      shares: 0,
      progress: 0,
    });
    init = await initKeyService(app);
    assert.equal(init.shares.length, 5);
    assert.equal(new Set(init.shares.map((s) => s.share)).size, 5);
    ingest = bearer(tokenOf(init, 'callers', 'ingest'));
    portal = bearer(tokenOf(init, 'callers', 'portal'));
    alice = bearer(tokenOf(init, 'officers', 'alice'));
    bob = bearer(tokenOf(init, 'officers', 'bob'));
    carol = bearer(tokenOf(init, 'officers', 'carol'));
    assert.deepEqual(await status(), {
      initialized: true,
      sealed: true,
      threshold: 3,
      shares: 5,
      progress: 0,
    });

    const sealed = await daily();
    assert.equal(sealed.statusCode, 503);
    assert.equal(sealed.json<{ code: string }>().code, 'sealed');
    assert.match(sealed.json<{ message: string }>().message, /0 of 3/);

    const again = await post('/v1/sys/init', {}, { threshold: 2, bootstrapSecret: TEST_BOOTSTRAP_SECRET });
    await assertRefused(again, 409, 'already_initialized');
    assert.equal(
      Number((await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM ks_principal'))[0]!.n),
      7,
      'nothing was added by the refused init (5 officers, 2 callers)',
    );
  });

  test('[REG-06] unseal refuses a wrong, a malformed and a duplicate share; too few shares keep it sealed', async () => {
    // a well-formed share of another secret, with the x-coordinate of a real one
    const real = Buffer.from(init.shares[0]!.share, 'base64url');
    const [foreign] = await split(new Uint8Array(randomBytes(32)), 5, 3);
    const wrong = Buffer.from(foreign!);
    wrong[32] = real[32]!;
    await assertRefused(
      await post('/v1/sys/unseal', asOwner(init.shares[0]!), { share: wrong.toString('base64url') }),
      400,
      'wrong_share',
    );
    assert.equal((await status()).progress, 0, 'a wrong share does not count');

    await assertRefused(
      await post('/v1/sys/unseal', asOwner(init.shares[0]!), { share: 'c2hvcnQ' }),
      400,
      'malformed_share',
    );

    let res = await submit(init.shares[0]!);
    assert.equal(res.json<KeyServiceStatus>().progress, 1);
    await assertRefused(await submit(init.shares[0]!), 409, 'duplicate_share');
    assert.equal((await status()).progress, 1, 'a duplicate does not count');

    res = await submit(init.shares[3]!);
    assert.deepEqual(res.json<KeyServiceStatus>(), {
      initialized: true,
      sealed: true,
      threshold: 3,
      shares: 5,
      progress: 2,
    });
    // too few shares: still sealed, every key operation refused
    const tooFew = await daily();
    assert.equal(tooFew.statusCode, 503);
    assert.equal(tooFew.json<{ code: string }>().code, 'sealed');
    assert.match(tooFew.json<{ message: string }>().message, /2 of 3/);
    const refusal = await db.query<AuditRow>(
      "SELECT * FROM ks_audit_event WHERE action = 'datakey.daily' AND code = 'sealed'",
    );
    assert.ok(refusal.length >= 1, 'the refused key operation is audited');

    res = await submit(init.shares[4]!);
    assert.equal(res.statusCode, 200);
    assert.equal(res.json<KeyServiceStatus>().sealed, false);
    assert.equal((await daily()).statusCode, 200);

    const steps = await db.query<AuditRow>(
      "SELECT * FROM ks_audit_event WHERE action LIKE 'unseal%' ORDER BY seq",
    );
    assert.deepEqual(
      steps.map((s) => `${s.action}:${s.outcome}:${s.code}`),
      [
        'unseal.share:refused:wrong_share',
        'unseal.share:refused:malformed_share',
        'unseal.share:ok:',
        'unseal.share:refused:duplicate_share',
        'unseal.share:ok:',
        'unseal.complete:ok:',
      ],
    );
    for (const step of steps) {
      for (const { share } of init.shares)
        assert.ok(!step.detail.includes(share), 'no share in the audit trail');
    }
  });

  test('[REG-06] the root key and KEKs are never stored in clear; a restart is sealed again', async () => {
    const root = Buffer.from(
      await combine(init.shares.slice(1, 4).map((s) => new Uint8Array(Buffer.from(s.share, 'base64url')))),
    );
    const keks = await db.query<{ data_class: 'chat'; version: number; wrapped_kek: Buffer }>(
      'SELECT data_class, version, wrapped_kek FROM ks_kek_version',
    );
    assert.equal(keks.length, 5, 'one KEK version per data class');
    const secrets = [root, ...keks.map((k) => unwrapKek(root, k.data_class, k.version, k.wrapped_kek))];
    const needles = secrets.flatMap((s) => [
      s,
      Buffer.from(s.toString('hex')),
      Buffer.from(s.toString('base64url')),
    ]);
    for (const { TABLE_NAME } of await db.query<{ TABLE_NAME: string }>(
      'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
    )) {
      for (const row of await db.query<Record<string, unknown>>(`SELECT * FROM \`${TABLE_NAME}\``)) {
        for (const value of Object.values(row)) {
          const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
          for (const needle of needles)
            assert.ok(!bytes.includes(needle), `key material in clear in ${TABLE_NAME}`);
        }
      }
    }

    const key = (await daily()).json<DataKeyReply>();
    const restarted = await buildKeyService(db);
    try {
      const res = await restarted.inject({
        method: 'POST',
        url: '/v1/datakeys/unwrap',
        headers: ingest,
        payload: { kekId: key.kekId, kekVersion: key.kekVersion, wrapped: key.wrapped },
      });
      assert.equal(res.statusCode, 503, 'the root key lives in memory only');
      assert.equal(res.json<{ code: string }>().code, 'sealed');
      await unsealWith(restarted, init.shares.slice(2, 5));
      const opened = await restarted.inject({
        method: 'POST',
        url: '/v1/datakeys/unwrap',
        headers: ingest,
        payload: { kekId: key.kekId, kekVersion: key.kekVersion, wrapped: key.wrapped },
      });
      assert.equal(opened.json<{ plaintext: string }>().plaintext, key.plaintext);
    } finally {
      await restarted.close();
    }
  });

  test('[REG-06] a combination that does not rebuild the root key is refused (stored check value)', async () => {
    const [config] = await db.query<{ root_check: string }>('SELECT root_check FROM ks_config');
    await db.query('UPDATE ks_config SET root_check = ?', ['f'.repeat(64)]);
    const other = await buildKeyService(db);
    try {
      await unsealWith(other, init.shares.slice(0, 2));
      const res = await other.inject({
        method: 'POST',
        url: '/v1/sys/unseal',
        headers: asOwner(init.shares[2]!),
        payload: { share: init.shares[2]!.share },
      });
      await assertRefused(res, 400, 'wrong_share_combination');
      const after = (await other.inject({ method: 'GET', url: '/v1/sys/status' })).json<KeyServiceStatus>();
      assert.equal(after.sealed, true);
      assert.equal(after.progress, 0, 'the round was reset');
    } finally {
      await other.close();
      await db.query('UPDATE ks_config SET root_check = ?', [config!.root_check]);
    }
  });

  test('callers authenticate; officers and services cannot use each other’s API; classes are enforced', async () => {
    const none = await daily('chat', {});
    assert.equal(none.statusCode, 401);
    const forged = await daily('chat', bearer(`cks_${randomBytes(32).toString('base64url')}`));
    assert.equal(forged.statusCode, 401);
    assert.equal((await daily('chat', alice)).statusCode, 403, 'an officer gets no data keys');
    assert.equal((await app.inject({ method: 'GET', url: '/v1/keyrings', headers: ingest })).statusCode, 403);
    await assertRefused(await daily('pii', portal), 403, 'class_not_allowed');
    assert.equal((await daily('chat', portal)).statusCode, 200);
    const auth = await db.query<AuditRow>("SELECT * FROM ks_audit_event WHERE action = 'authenticate'");
    assert.ok(auth.some((a) => a.code === 'unauthorized') && auth.some((a) => a.code === 'forbidden'));
  });

  test('[REG-06] daily keys: one per class and day, the same for every caller; per-object keys are fresh', async () => {
    const first = (await daily('chat')).json<DataKeyReply>();
    const second = (await daily('chat', portal)).json<DataKeyReply>();
    assert.equal(first.wrapped, second.wrapped);
    assert.equal(first.plaintext, second.plaintext);
    assert.ok(first.useUntil && Date.parse(first.useUntil) > Date.now());
    const recording = (await daily('recording')).json<DataKeyReply>();
    assert.notEqual(recording.plaintext, first.plaintext);
    assert.equal(recording.kekId, 'keyservice/recording');

    const a = (await post('/v1/datakeys/generate', ingest, { dataClass: 'pii' })).json<DataKeyReply>();
    const b = (await post('/v1/datakeys/generate', ingest, { dataClass: 'pii' })).json<DataKeyReply>();
    assert.notEqual(a.plaintext, b.plaintext);
    assert.equal(Buffer.from(a.wrapped, 'base64url').length, 24, 'SM4 key wrap of a 16-byte key');
    assert.equal((await unwrap(a)).json<{ plaintext: string }>().plaintext, a.plaintext);

    const index1 = await post('/v1/indexkeys', ingest, { purpose: 'phone' });
    const index2 = await post('/v1/indexkeys', portal, { purpose: 'phone' });
    const other = await post('/v1/indexkeys', ingest, { purpose: 'chat-words' });
    assert.equal(index1.json<{ key: string }>().key, index2.json<{ key: string }>().key);
    assert.notEqual(index1.json<{ key: string }>().key, other.json<{ key: string }>().key);
    assert.equal(Buffer.from(index1.json<{ key: string }>().key, 'base64url').length, 32);
  });

  test('[REG-06] a tampered wrapped key is refused (blob and handle), audited', async () => {
    const blob = (await post('/v1/datakeys/generate', ingest, { dataClass: 'chat' })).json<DataKeyReply>();
    const bytes = Buffer.from(blob.wrapped, 'base64url');
    bytes[5]! ^= 0x01;
    await assertRefused(
      await unwrap({ ...blob, wrapped: bytes.toString('base64url') }),
      400,
      'unwrap_failed',
    );

    const handle = (await daily('chat')).json<DataKeyReply>();
    const h = Buffer.from(handle.wrapped, 'base64url');
    h[h.length - 1]! ^= 0x01;
    await assertRefused(await unwrap({ ...handle, wrapped: h.toString('base64url') }), 400, 'unwrap_failed');
    // the right handle under another class's KEK id is no key of that class
    await assertRefused(await unwrap({ ...handle, kekId: 'keyservice/pii' }), 400, 'unwrap_failed');
  });

  test('[REG-06] an unknown key version or keyring is refused, audited', async () => {
    const blob = (await post('/v1/datakeys/generate', ingest, { dataClass: 'chat' })).json<DataKeyReply>();
    await assertRefused(await unwrap({ ...blob, kekVersion: 99 }), 400, 'unknown_key_version');
    await assertRefused(await unwrap({ ...blob, kekVersion: 0 }), 400, 'unknown_key_version');
    await assertRefused(await unwrap({ ...blob, kekId: 'local/chat' }), 400, 'unknown_key_version');
  });

  test('[REG-06][REG-15] rotation needs a second officer: approval by the requester and a replayed approval are refused', async () => {
    const before = (await post('/v1/datakeys/generate', ingest, { dataClass: 'chat' })).json<DataKeyReply>();
    assert.equal(before.kekVersion, 1);
    const rotation = await request(alice, { kind: 'rotate', dataClass: 'chat', reason: 'annual rotation' });
    assert.equal(rotation.status, 'pending');
    assert.equal(rotation.requestedBy, 'alice');

    await assertRefused(await approve(rotation.id, alice), 403, 'same_officer');
    assert.equal((await keyring('chat')).latestVersion, 1, 'nothing changed');

    const approved = await approve(rotation.id, bob);
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json<KeyRequestView>().status, 'executed');
    assert.equal(approved.json<KeyRequestView>().decidedBy, 'bob');
    assert.equal((await keyring('chat')).latestVersion, 2);

    const audited = await auditCount();
    await assertRefused(await approve(rotation.id, bob), 409, 'request_not_pending');
    await assertRefused(await approve(rotation.id, carol), 409, 'request_not_pending');
    assert.equal((await keyring('chat')).latestVersion, 2, 'a replayed approval rotates nothing');
    assert.equal(await auditCount(), audited + 2);

    const after = (await post('/v1/datakeys/generate', ingest, { dataClass: 'chat' })).json<DataKeyReply>();
    assert.equal(after.kekVersion, 2, 'new data keys use the new version');
    assert.equal(
      (await unwrap(before)).json<{ plaintext: string }>().plaintext,
      before.plaintext,
      'old versions still decrypt',
    );

    const trail = await db.query<AuditRow>(
      "SELECT * FROM ks_audit_event WHERE target = ? OR action LIKE 'request.%' ORDER BY seq",
      [`request:${rotation.id}`],
    );
    const steps = trail
      .filter((t) => t.target === `request:${rotation.id}`)
      .map((t) => `${t.actor} ${t.action} ${t.outcome}`);
    assert.deepEqual(steps, [
      'officer:alice request.create.rotate ok',
      'officer:alice request.approve refused',
      'officer:bob request.approve.rotate ok',
      'officer:bob request.approve refused',
      'officer:carol request.approve refused',
    ]);
  });

  test('[REG-15] an expired request and an unknown request cannot be approved', async () => {
    const rotation = await request(alice, { kind: 'rotate', dataClass: 'audit', reason: 'test expiry' });
    await db.query('UPDATE ks_request SET expires_at = ? WHERE id = ?', [
      new Date(Date.now() - 1000),
      rotation.id,
    ]);
    await assertRefused(await approve(rotation.id, bob), 410, 'request_expired');
    assert.equal((await keyring('audit')).latestVersion, 1);
    await assertRefused(await approve('0'.repeat(32), bob), 404, 'request_not_found');
  });

  test('[REG-06][REG-15] rewrap moves stored data keys to the newest version; then old versions can be retired', async () => {
    // history: 40 days of chat keys created under version 2, then a rotation to 3
    const store = app.keyStore;
    const days = Array.from({ length: 40 }, (_, i) =>
      new Date(Date.UTC(2024, 0, 1) + i * 86400000).toISOString().slice(0, 10),
    );
    assert.equal(await store.createDailyKeys('chat', days, 'test'), 40);
    const oldDay = (
      await db.query<{ id: Buffer }>(
        "SELECT id FROM ks_data_key WHERE data_class = 'chat' AND day = '2024-01-05'",
      )
    )[0]!;
    const handle = Buffer.concat([Buffer.from('CZDK', 'latin1'), Buffer.from([1]), oldDay.id]).toString(
      'base64url',
    );
    const oldKey = (await unwrap({ kekId: 'keyservice/chat', kekVersion: 2, wrapped: handle })).json<{
      plaintext: string;
    }>();
    const v2blob = (await post('/v1/datakeys/generate', ingest, { dataClass: 'chat' })).json<DataKeyReply>();
    assert.equal(v2blob.kekVersion, 2);
    const rotation = await request(bob, {
      kind: 'rotate',
      dataClass: 'chat',
      reason: 'before retiring v1 and v2',
    });
    assert.equal((await approve(rotation.id, carol)).statusCode, 200);

    // raising min_decryption_version while stored keys still need v1/v2 is refused at approval
    const retire = await request(alice, {
      kind: 'set_min_decryption_version',
      dataClass: 'chat',
      version: 3,
      reason: 'retire v1 and v2',
    });
    await assertRefused(await approve(retire.id, bob), 409, 'rewrap_required');
    assert.equal((await keyring('chat')).minDecryptionVersion, 1, 'nothing changed');

    const started = await post('/v1/rewrap', alice, { dataClass: 'chat' });
    assert.equal(started.statusCode, 202, started.body);
    const job = started.json<RewrapJobView>();
    assert.ok(job.total >= 41, `total ${job.total}`);
    const done = await eventually('rewrap done', async () => {
      const view = (
        await app.inject({ method: 'GET', url: `/v1/rewrap/${job.id}`, headers: alice })
      ).json<RewrapJobView>();
      return view.status === 'running' ? undefined : view;
    });
    assert.equal(done.status, 'done');
    assert.equal(done.done, job.total);
    assert.equal(done.failed, 0);
    assert.deepEqual(Object.keys((await keyring('chat')).dataKeys.byVersion), ['3']);
    // the data key itself did not change: the same handle opens to the same key
    assert.equal(
      (await unwrap({ kekId: 'keyservice/chat', kekVersion: 2, wrapped: handle })).json<{
        plaintext: string;
      }>().plaintext,
      oldKey.plaintext,
    );

    const retired = await approve(retire.id, bob);
    assert.equal(retired.statusCode, 200, retired.body);
    assert.equal((await keyring('chat')).minDecryptionVersion, 3);
    // a blob wrapped under v2 is now below min_decryption_version; a daily-key handle still opens
    await assertRefused(await unwrap(v2blob), 400, 'key_version_retired');
    assert.equal(
      (await unwrap({ kekId: 'keyservice/chat', kekVersion: 2, wrapped: handle })).json<{
        plaintext: string;
      }>().plaintext,
      oldKey.plaintext,
    );
    const actions = (
      await db.query<AuditRow>("SELECT * FROM ks_audit_event WHERE action LIKE 'rewrap.%' ORDER BY seq")
    ).map((a) => `${a.actor} ${a.action} ${a.outcome}`);
    assert.deepEqual(actions, ['officer:alice rewrap.start ok', 'system rewrap.finish ok']);
  });

  test('[REG-06][REG-15] crypto-shredding: refused while deletion is not allowed, then destroys the old days only', async () => {
    // key material goes by whole calendar months: February, not March
    const days = ['2020-02-28', '2020-02-29', '2020-03-01'];
    await app.keyStore.createDailyKeys('recording', days, 'test');
    await assertRefused(
      await post('/v1/requests', alice, {
        kind: 'destroy_data_keys',
        dataClass: 'recording',
        before: '2020-03-01',
        reason: 'retention ended',
      }),
      409,
      'deletion_not_allowed',
    );
    const allow = await request(alice, {
      kind: 'set_deletion_allowed',
      dataClass: 'recording',
      allowed: true,
      reason: 'retention policy',
    });
    assert.equal((await approve(allow.id, carol)).statusCode, 200);
    const destroy = await request(carol, {
      kind: 'destroy_data_keys',
      dataClass: 'recording',
      before: '2020-03-01',
      reason: 'retention ended',
    });
    const executed = await approve(destroy.id, bob);
    assert.equal(executed.statusCode, 200, executed.body);
    assert.equal(executed.json<KeyRequestView>().result?.destroyed, 2);

    const rows = await db.query<{ day: string; id: Buffer; wrapped_key: Buffer | null }>(
      "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, id, wrapped_key FROM ks_data_key WHERE data_class = 'recording' AND day IN (?) ORDER BY day",
      [days],
    );
    assert.deepEqual(
      rows.map((r) => r.wrapped_key === null),
      [true, true, false],
    );
    const handleOf = (id: Buffer) =>
      Buffer.concat([Buffer.from('CZDK', 'latin1'), Buffer.from([1]), id]).toString('base64url');
    await assertRefused(
      await unwrap({ kekId: 'keyservice/recording', kekVersion: 1, wrapped: handleOf(rows[0]!.id) }),
      410,
      'key_destroyed',
    );
    assert.equal(
      (await unwrap({ kekId: 'keyservice/recording', kekVersion: 1, wrapped: handleOf(rows[2]!.id) }))
        .statusCode,
      200,
    );
  });

  test('[REG-06] automatic rotation follows the period set under dual control', async () => {
    const policy = await request(bob, {
      kind: 'set_auto_rotate_period',
      dataClass: 'pii',
      periodSeconds: 1,
      reason: 'test',
    });
    assert.equal((await approve(policy.id, alice)).statusCode, 200);
    const before = (await keyring('pii')).latestVersion;
    assert.deepEqual(await app.keyStore.autoRotate(new Date(Date.now() - 10000)), [], 'not due yet');
    const rotated = await app.keyStore.autoRotate(new Date(Date.now() + 2000));
    assert.deepEqual(rotated, [{ dataClass: 'pii', version: before + 1 }]);
    assert.equal((await keyring('pii')).latestVersion, before + 1);
    const audit = await lastAudit();
    assert.equal(`${audit.actor} ${audit.action}`, 'system keyring.auto_rotate');
  });

  test('[REG-15] the audit chain verifies, and an edited event is found', async () => {
    const intact = (
      await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: carol })
    ).json<AuditVerifyReply>();
    assert.equal(intact.intact, true);
    assert.ok(intact.events > 30, `${intact.events} events`);
    const [victim] = await db.query<{ seq: string }>(
      "SELECT seq FROM ks_audit_event WHERE action = 'request.approve.rotate' LIMIT 1",
    );
    await db.query("UPDATE ks_audit_event SET actor = 'officer:mallory' WHERE seq = ?", [victim!.seq]);
    const broken = (
      await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: carol })
    ).json<AuditVerifyReply>();
    assert.equal(broken.intact, false);
    assert.equal(broken.firstBroken, victim!.seq);
  });
});
