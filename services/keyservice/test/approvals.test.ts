/**
 * Dual control on its own: the approvals module wired by hand (no Fastify, no HTTP) over a fresh
 * key-service test database, with the parts it depends on passed in explicitly. A request is
 * executed only by a second officer, once, before it expires, and only if its precondition holds;
 * every refusal changes nothing and is audited.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import { AppError, createDataSource } from '@cz/common';
import { createKeysTestDatabase, type TestDatabase } from '@cz/testkit';
import { KEYS_MIGRATIONS_TABLE, keysMigrations } from '../src/migrations/index';
import { Approvals } from '../src/core/approvals';
import { AuditTrail } from '../src/core/audit-trail';
import { Credentials } from '../src/core/credentials';
import { DataKeys } from '../src/core/data-keys';
import { Keyrings } from '../src/core/keyrings';
import type { Principal } from '../src/core/principal';
import { SealState } from '../src/core/seal';
import { Sealing } from '../src/core/sealing';
import { Custody } from '../src/core/custody';
import { BOOTSTRAP_SECRET, initByHand, officerPrincipal } from './ceremony';

const officer = (name: string): Principal => officerPrincipal(name);
const alice = officer('alice');
const bob = officer('bob');

async function refusedWith(work: () => Promise<unknown>, status: number, code: string): Promise<void> {
  await assert.rejects(work, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.statusCode, status);
    return true;
  });
}

describe('approvals (dual control) over a test database', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let keyrings: Keyrings;
  let dataKeys: DataKeys;
  let audit: AuditTrail;
  let approvals: Approvals;
  let custody: Custody;

  const lastAudit = async () =>
    (
      await db.query<{ actor: string; action: string; outcome: string; code: string }>(
        'SELECT actor, action, outcome, code FROM ks_audit_event ORDER BY seq DESC LIMIT 1',
      )
    )[0]!;

  before(async () => {
    db = await createKeysTestDatabase();
    dataSource = createDataSource({
      config: db.config,
      migrationsTableName: KEYS_MIGRATIONS_TABLE,
      migrations: keysMigrations,
    });
    await dataSource.initialize();
    audit = new AuditTrail(dataSource);
    const credentials = new Credentials(dataSource);
    const sealing = new Sealing(dataSource, new SealState(600000), audit, credentials, BOOTSTRAP_SECRET);
    keyrings = new Keyrings(dataSource, sealing, audit);
    sealing.onSeal(() => keyrings.forget());
    dataKeys = new DataKeys(dataSource, 480, sealing, keyrings, audit);
    custody = new Custody(dataSource, 3600000, credentials, audit);
    approvals = new Approvals(dataSource, 3600000, keyrings, dataKeys, audit, custody);

    const init = await initByHand(dataSource, sealing, credentials, ['alice', 'bob', 'carol'], 2);
    for (const { officer, share } of init.shares.slice(0, 2)) await sealing.unseal(officer, { share });
    assert.equal(sealing.sealed, false);
  });

  after(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  test('the requester cannot approve; a second officer executes it, once', async () => {
    const request = await approvals.createRequest(alice, {
      kind: 'rotate',
      dataClass: 'chat',
      reason: 'yearly rotation',
    });
    assert.equal(request.status, 'pending');
    assert.equal(request.requestedBy, 'alice');

    await refusedWith(() => approvals.approve(alice, request.id), 403, 'same_officer');
    assert.deepEqual(await lastAudit(), {
      actor: 'officer:alice',
      action: 'request.approve',
      outcome: 'refused',
      code: 'same_officer',
    });
    assert.equal((await approvals.getRequest(request.id)).status, 'pending');
    assert.equal((await keyrings.keyring('chat', true)).latestVersion, 1);

    const approved = await approvals.approve(bob, request.id);
    assert.equal(approved.status, 'executed');
    assert.equal(approved.decidedBy, 'bob');
    assert.deepEqual(approved.result, { version: 2 });
    assert.equal((await keyrings.keyring('chat')).latestVersion, 2);

    await refusedWith(() => approvals.approve(bob, request.id), 409, 'request_not_pending');
    assert.equal((await keyrings.keyring('chat', true)).latestVersion, 2);
    assert.deepEqual(
      (await approvals.listRequests('executed')).map((r) => r.id),
      [request.id],
    );
  });

  test('requests whose precondition fails are refused when made', async () => {
    await refusedWith(
      () =>
        approvals.createRequest(alice, {
          kind: 'set_min_decryption_version',
          dataClass: 'audit',
          version: 2,
          reason: 'no such version yet',
        }),
      400,
      'invalid_version',
    );
    await refusedWith(
      () =>
        approvals.createRequest(alice, {
          kind: 'destroy_data_keys',
          dataClass: 'chat',
          before: '2024-01-01',
          reason: 'deletion is not allowed on this keyring',
        }),
      409,
      'deletion_not_allowed',
    );
    await refusedWith(
      () => approvals.createRequest(alice, { kind: 'set_deletion_allowed', dataClass: 'chat', reason: 'x' }),
      400,
      'invalid_request',
    );
    assert.equal((await approvals.listRequests('pending')).length, 0, 'nothing was stored');
  });

  test('retiring a version still in use is refused at approval, with nothing changed', async () => {
    await dataKeys.createDailyKeys('pii', ['2024-03-01'], 'test'); // under version 1
    await approvals.approve(
      bob,
      (await approvals.createRequest(alice, { kind: 'rotate', dataClass: 'pii', reason: 'rotate' })).id,
    );
    const retire = await approvals.createRequest(alice, {
      kind: 'set_min_decryption_version',
      dataClass: 'pii',
      version: 2,
      reason: 'retire version 1',
    });
    await refusedWith(() => approvals.approve(bob, retire.id), 409, 'rewrap_required');
    assert.equal((await approvals.getRequest(retire.id)).status, 'pending');
    assert.equal((await keyrings.keyring('pii', true)).minDecryptionVersion, 1);
  });

  test('a rejected request is never executed', async () => {
    const request = await approvals.createRequest(alice, {
      kind: 'set_auto_rotate_period',
      dataClass: 'recording',
      periodSeconds: 86400,
      reason: 'daily rotation',
    });
    const rejected = await approvals.reject(bob, request.id, 'not now');
    assert.equal(rejected.status, 'rejected');
    assert.equal(rejected.decisionReason, 'not now');
    await refusedWith(() => approvals.approve(bob, request.id), 409, 'request_not_pending');
    assert.equal((await keyrings.keyring('recording', true)).autoRotateSeconds, 0);
  });

  test('an expired request cannot be approved', async () => {
    // the time to live is a dependency: a negative one makes every new request already expired
    const expiring = new Approvals(dataSource, -1000, keyrings, dataKeys, audit, custody);
    const request = await expiring.createRequest(alice, {
      kind: 'rotate',
      dataClass: 'recording',
      reason: 'too late',
    });
    await refusedWith(() => expiring.approve(bob, request.id), 410, 'request_expired');
    assert.equal((await keyrings.keyring('recording', true)).latestVersion, 1);
  });
});
