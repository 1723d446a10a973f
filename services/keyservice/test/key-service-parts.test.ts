/**
 * The key service's parts one by one, each wired by hand over a fresh key-service test database
 * with only what it depends on (a stub root key where the seal does not matter): the audit trail,
 * credentials, keyrings, data keys, the seal with init, and the rewrap job.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import { AppError, createDataSource } from '@cz/common';
import { sm2GenerateKeyPair } from '@cz/common/crypto';
import { createKeysTestDatabase, eventually, type TestDatabase } from '@cz/testkit';
import { KEYS_MIGRATIONS_TABLE, keysMigrations } from '../src/migrations/index';
import { AuditTrail } from '../src/core/audit-trail';
import { Credentials, newToken } from '../src/core/credentials';
import { DataKeys } from '../src/core/data-keys';
import { Keyrings, createFirstKeyrings, type RootKeySource } from '../src/core/keyrings';
import { decodeHandle, newRootKey } from '../src/core/material';
import type { Principal } from '../src/core/principal';
import { RewrapJobs } from '../src/core/rewrap-jobs';
import { SealState } from '../src/core/seal';
import { Sealing } from '../src/core/sealing';
import { BOOTSTRAP_SECRET, initByHand, officerPrincipal } from './ceremony';

const alice: Principal = officerPrincipal('alice');
const KEY_OPERATIONS: Principal['operations'] = ['keys.seal', 'keys.unwrap', 'keys.index', 'keys.rewrap'];
const ingest: Principal = {
  kind: 'service',
  name: 'ingest',
  classes: ['chat', 'recording', 'pii', 'index', 'audit'],
  operations: KEY_OPERATIONS,
  corps: ['*'],
};
const portal: Principal = {
  kind: 'service',
  name: 'portal',
  classes: ['chat', 'index'],
  operations: KEY_OPERATIONS,
  corps: ['*'],
};

interface AuditRow {
  actor: string;
  action: string;
  outcome: string;
  code: string;
}

/** A fresh key-service database and a DataSource over it, for one part's tests. */
function useKeysDatabase(): { db: () => TestDatabase; dataSource: () => DataSource } {
  let db: TestDatabase;
  let dataSource: DataSource;
  before(async () => {
    db = await createKeysTestDatabase();
    dataSource = createDataSource({
      config: db.config,
      migrationsTableName: KEYS_MIGRATIONS_TABLE,
      migrations: keysMigrations,
    });
    await dataSource.initialize();
  });
  after(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });
  return { db: () => db, dataSource: () => dataSource };
}

const auditRows = (db: TestDatabase, action: string) =>
  db.query<AuditRow>(
    'SELECT actor, action, outcome, code FROM ks_audit_event WHERE action = ? ORDER BY seq',
    [action],
  );

/** A root key that is always there: keyrings and data keys without the seal. */
const stubRoot = (root: Buffer, usable = true): RootKeySource => ({
  rootKey: async () => root,
  usable: async () => usable,
});

describe('audit trail', () => {
  const { db, dataSource } = useKeysDatabase();

  test('refusals are audited with their code; refusals while sealed at most once a minute per caller', async () => {
    const audit = new AuditTrail(dataSource());
    await assert.rejects(
      audit.audited(alice, 'thing.do', 'thing:1', async () => {
        throw new AppError(409, 'not_now', 'not now');
      }),
      /not now/,
    );
    assert.deepEqual(await auditRows(db(), 'thing.do'), [
      { actor: 'officer:alice', action: 'thing.do', outcome: 'refused', code: 'not_now' },
    ]);

    const sealed = async () => {
      throw new AppError(503, 'sealed', 'sealed');
    };
    for (let i = 0; i < 3; i++) await assert.rejects(audit.audited(ingest, 'datakey.daily', 'k', sealed));
    await assert.rejects(audit.audited(portal, 'datakey.daily', 'k', sealed));
    assert.deepEqual(
      (await auditRows(db(), 'datakey.daily')).map((row) => `${row.actor} ${row.code}`),
      ['service:ingest sealed', 'service:portal sealed'],
    );

    await assert.rejects(
      audit.audited(alice, 'thing.crash', 't', async () => {
        throw new Error('a bug, not a refusal');
      }),
    );
    assert.deepEqual(await auditRows(db(), 'thing.crash'), []);
  });

  test('verify recomputes the chain and audits the check', async () => {
    const audit = new AuditTrail(dataSource());
    const result = await audit.verify(alice);
    assert.equal(result.intact, true);
    assert.ok(result.events >= 3);
    assert.deepEqual(await auditRows(db(), 'audit.verify'), [
      { actor: 'officer:alice', action: 'audit.verify', outcome: 'ok', code: '' },
    ]);
  });
});

describe('credentials', () => {
  const { db, dataSource } = useKeysDatabase();

  test('a stored credential authenticates; re-issuing a caller revokes its old token at once', async () => {
    const credentials = new Credentials(dataSource());
    await dataSource().transaction((tx) =>
      credentials.enrolOfficer(tx, 'alice', sm2GenerateKeyPair().publicKey),
    );
    const officerToken = newToken('cko');
    assert.equal(await credentials.authenticate(officerToken), null, 'enrolled, no credential yet');
    await dataSource().transaction((tx) => credentials.activateOfficer(tx, 'alice', officerToken));
    assert.deepEqual(await credentials.authenticate(officerToken), alice);
    assert.equal(await credentials.authenticate(newToken('cko')), null);

    const grants = { classes: portal.classes, operations: portal.operations, corps: portal.corps };
    const first = await dataSource().transaction((tx) =>
      credentials.issueService(tx, 'portal', grants, 'test'),
    );
    assert.match(first, /^cks_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await credentials.authenticate(first), portal);
    await assert.rejects(
      dataSource().transaction((tx) => credentials.issueService(tx, 'portal', grants, 'test')),
      /caller_exists|a caller named portal exists/,
    );
    const second = await dataSource().transaction((tx) => credentials.reissueService(tx, 'portal', 'test'));
    assert.equal(await credentials.authenticate(first), null, 'the cache does not keep the old token');
    assert.deepEqual((await credentials.authenticate(second))?.classes, ['chat', 'index']);
    await dataSource().transaction((tx) => credentials.revoke(tx, 'service', 'portal', 'test'));
    assert.equal(await credentials.authenticate(second), null, 'revoked');
    const stored = await db().query<{ token_hash: string | null }>('SELECT token_hash FROM ks_principal');
    assert.ok(
      stored.every((row) => !row.token_hash?.includes(second)),
      'only hashes are stored',
    );
  });
});

describe('keyrings', () => {
  const { db, dataSource } = useKeysDatabase();
  const root = newRootKey();

  before(async () => {
    await dataSource().transaction((tx) => createFirstKeyrings(tx, root, new Date()));
  });

  test('KEKs are unwrapped with the root key, cached, and overwritten when forgotten', async () => {
    const keyrings = new Keyrings(dataSource(), stubRoot(root), new AuditTrail(dataSource()));
    const ring = await keyrings.keyring('chat');
    assert.equal(ring.latestVersion, 1);
    const kek = await keyrings.kek('chat', 1);
    assert.equal(kek.length, 16);
    assert.equal(await keyrings.kek('chat', 1), kek, 'cached');
    await assert.rejects(keyrings.kek('chat', 2), /no version 2/);
    keyrings.forget();
    assert.ok(kek.every((byte) => byte === 0));

    const wrongRoot = new Keyrings(dataSource(), stubRoot(newRootKey()), new AuditTrail(dataSource()));
    await assert.rejects(wrongRoot.kek('chat', 1), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'kek_integrity');
      return true;
    });
  });

  test('automatic rotation runs when its period has passed, and only while usable', async () => {
    const audit = new AuditTrail(dataSource());
    const keyrings = new Keyrings(dataSource(), stubRoot(root), audit);
    await db().query("UPDATE ks_keyring SET auto_rotate_seconds = 60 WHERE data_class = 'pii'");
    const { rotatedAt } = await keyrings.keyring('pii', true);
    const after = (seconds: number) => new Date(rotatedAt.getTime() + seconds * 1000);

    const sealed = new Keyrings(dataSource(), stubRoot(root, false), audit);
    assert.deepEqual(await sealed.autoRotate(after(3600)), []);
    assert.deepEqual(await keyrings.autoRotate(after(59)), []);
    assert.deepEqual(await keyrings.autoRotate(after(60)), [{ dataClass: 'pii', version: 2 }]);
    assert.equal((await keyrings.keyring('pii')).latestVersion, 2);
    assert.equal((await keyrings.keyring('chat')).latestVersion, 1);
    assert.deepEqual(await auditRows(db(), 'keyring.auto_rotate'), [
      { actor: 'system', action: 'keyring.auto_rotate', outcome: 'ok', code: '' },
    ]);
    const views = await keyrings.list();
    assert.deepEqual(
      views.map((view) => [view.dataClass, view.latestVersion, view.autoRotatePeriodSeconds]),
      [
        ['audit', 1, 0],
        ['chat', 1, 0],
        ['index', 1, 0],
        ['pii', 2, 60],
        ['recording', 1, 0],
      ],
    );
  });
});

describe('data keys', () => {
  const { db, dataSource } = useKeysDatabase();
  const root = newRootKey();
  let dataKeys: DataKeys;

  before(async () => {
    await dataSource().transaction((tx) => createFirstKeyrings(tx, root, new Date()));
    const audit = new AuditTrail(dataSource());
    const keyrings = new Keyrings(dataSource(), stubRoot(root), audit);
    dataKeys = new DataKeys(dataSource(), 480, stubRoot(root), keyrings, audit);
  });

  test('a day is the calendar day in the configured time zone', () => {
    assert.deepEqual(dataKeys.dayOf(new Date('2024-01-01T15:59:59Z')), {
      day: '2024-01-01',
      endsAt: new Date('2024-01-01T16:00:00Z'),
    });
    assert.equal(dataKeys.dayOf(new Date('2024-01-01T16:00:00Z')).day, '2024-01-02');
  });

  test("today's key is one per class and day; handles and wrapped blobs unwrap; classes are enforced", async () => {
    const first = await dataKeys.dailyKey(ingest, 'chat');
    const again = await dataKeys.dailyKey(portal, 'chat');
    assert.deepEqual(again.plaintext, first.plaintext);
    assert.ok(decodeHandle(first.wrapped), 'a daily key travels as a handle');
    assert.deepEqual(await dataKeys.unwrap(portal, first), first.plaintext);

    const generated = await dataKeys.generateDataKey(ingest, 'recording');
    assert.deepEqual(await dataKeys.unwrap(ingest, generated), generated.plaintext);
    await assert.rejects(dataKeys.unwrap(portal, generated), /may not use recording keys/);
    assert.deepEqual(
      (await auditRows(db(), 'datakey.unwrap')).map((row) => `${row.actor} ${row.outcome} ${row.code}`),
      ['service:portal refused class_not_allowed'],
    );

    const indexKey = await dataKeys.indexKey(portal, 'phone');
    assert.deepEqual(await dataKeys.indexKey(ingest, 'phone'), indexKey);
  });

  test('destroying old daily keys crypto-shreds them', async () => {
    assert.equal(
      await dataKeys.createDailyKeys('pii', ['2019-01-30', '2019-01-31', '2019-02-01'], 'test'),
      3,
    );
    assert.equal(await dataKeys.createDailyKeys('pii', ['2019-02-01'], 'test'), 0, 'never twice');
    // whole months past their retention only (shredding.test.ts tests the guard)
    const shredded = await dataSource().transaction((tx) =>
      dataKeys.destroyBefore(tx, 'pii', '2019-02-01', 'test'),
    );
    assert.equal(shredded.destroyed, 2);
    const rows = await db().query<{ day: string; wrapped: number }>(
      "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, wrapped_key IS NOT NULL AS wrapped FROM ks_data_key WHERE data_class = 'pii' ORDER BY day",
    );
    assert.deepEqual(
      rows.map((row) => `${row.day} ${Number(row.wrapped)}`),
      ['2019-01-30 0', '2019-01-31 0', '2019-02-01 1'],
    );
    assert.equal(await dataKeys.countWrappedBelow(dataSource(), 'pii', 2), 1);
  });
});

describe('sealing and the rewrap job', () => {
  const { db, dataSource } = useKeysDatabase();

  test('init leaves the service sealed; unseal, then seal forgets what was derived from the root key', async () => {
    const audit = new AuditTrail(dataSource());
    const credentials = new Credentials(dataSource());
    const sealing = new Sealing(dataSource(), new SealState(600000), audit, credentials, BOOTSTRAP_SECRET);
    let forgotten = 0;
    sealing.onSeal(() => forgotten++);
    assert.deepEqual(await sealing.status(), {
      initialized: false,
      sealed: true,
      threshold: 0,
      shares: 0,
      progress: 0,
    });
    await assert.rejects(sealing.rootKey(), /not been initialised/);
    const init = await initByHand(dataSource(), sealing, credentials, ['alice', 'bob', 'carol'], 2);
    assert.equal(init.shares.length, 3);
    await assert.rejects(sealing.rootKey(), /sealed: 0 of 2/);
    assert.equal(await sealing.usable(), false);
    await sealing.unseal(init.shares[2]!.officer, { share: init.shares[2]!.share });
    await sealing.unseal(init.shares[0]!.officer, { share: init.shares[0]!.share });
    assert.equal(await sealing.usable(), true);

    const keyrings = new Keyrings(dataSource(), sealing, audit);
    sealing.onSeal(() => keyrings.forget());
    const dataKeys = new DataKeys(dataSource(), 480, sealing, keyrings, audit);
    const rewrapJobs = new RewrapJobs(dataSource(), sealing, keyrings, dataKeys, audit);
    const days = ['2024-02-01', '2024-02-02', '2024-02-03'];
    await dataKeys.createDailyKeys('chat', days, 'test');
    await dataSource().transaction((tx) => keyrings.rotateIn(tx, 'chat', 'test'));

    const job = await rewrapJobs.start(alice, 'chat');
    assert.equal(job.total, 3);
    const finished = await eventually('the rewrap job to finish', async () => {
      const view = await rewrapJobs.get(job.id);
      return view.status === 'running' ? undefined : view;
    });
    assert.deepEqual([finished.status, finished.done, finished.failed], ['done', 3, 0]);
    assert.equal(await dataKeys.countWrappedBelow(dataSource(), 'chat', 2), 0);
    await rewrapJobs.close();

    const status = await sealing.sealNow(alice);
    assert.equal(status.sealed, true);
    assert.equal(forgotten, 1);
    await assert.rejects(keyrings.kek('chat', 2), /sealed/);
    assert.deepEqual(
      (await auditRows(db(), 'seal')).map((row) => row.actor),
      ['officer:alice'],
    );
  });
});
