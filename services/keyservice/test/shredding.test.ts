/**
 * Crypto-shredding by retention period (issue 10, item 4), on the real MariaDB with a key-service
 * test database of its own; the parts are wired by hand over a stub root key (the seal does not
 * matter here). Destruction goes through dual control (Approvals), which runs the retention guard
 * when the request is made and again inside the approval's transaction.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import { AppError, ConfigError, createDataSource } from '@cz/common';
import {
  openSealed,
  sealBufferV1,
  type DataClass,
  type KeyProvider,
  type WrappedKey,
} from '@cz/common/crypto';
import { createKeysTestDatabase, eventually, type TestDatabase } from '@cz/testkit';
import { KEYS_MIGRATIONS_TABLE, keysMigrations } from '../src/migrations/index';
import { Approvals } from '../src/core/approvals';
import { AuditTrail } from '../src/core/audit-trail';
import { Credentials } from '../src/core/credentials';
import { Custody } from '../src/core/custody';
import { DataKeys } from '../src/core/data-keys';
import { Keyrings, createFirstKeyrings, type RootKeySource } from '../src/core/keyrings';
import {
  encodeHandle,
  kekIdOf,
  newDataKeyId,
  newRootKey,
  newSm4Key,
  wrapDataKey,
} from '../src/core/material';
import type { Principal } from '../src/core/principal';
import {
  addMonths,
  binlogKeepsOldValues,
  DEFAULT_RETENTION_MONTHS,
  RetentionGuard,
  retentionFromEnv,
  TableLegalHolds,
  validateRetention,
} from '../src/core/retention';
import { RewrapJobs } from '../src/core/rewrap-jobs';

const officer = (name: string): Principal => ({
  kind: 'officer',
  name,
  classes: [],
  operations: [],
  corps: [],
});
const alice = officer('alice');
const bob = officer('bob');
const ALL_CLASSES: DataClass[] = ['chat', 'recording', 'pii', 'index', 'audit'];
const archiver: Principal = {
  kind: 'service',
  name: 'archiver',
  classes: ALL_CLASSES,
  operations: ['keys.seal', 'keys.unwrap', 'keys.index'],
  corps: ['*'],
};

/** Every day of a month, `YYYY-MM-DD`. */
const daysOf = (period: string): string[] => {
  const first = Date.parse(`${period}-01T00:00:00Z`);
  const next = Date.parse(`${addMonths(`${period}-01`, 1)}T00:00:00Z`);
  return Array.from({ length: (next - first) / 86400000 }, (_, i) =>
    new Date(first + i * 86400000).toISOString().slice(0, 10),
  );
};

async function refusedWith(work: () => Promise<unknown>, status: number, code: string): Promise<AppError> {
  let refusal: AppError | undefined;
  await assert.rejects(work, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.statusCode, status);
    refusal = err;
    return true;
  });
  return refusal!;
}

describe('[REG-01][REG-02][REG-06] crypto-shredding by retention period', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let keyrings: Keyrings;
  let dataKeys: DataKeys;
  let audit: AuditTrail;
  let approvals: Approvals;
  let today: string;
  let root: Buffer;
  let stubRoot: RootKeySource & { readonly sealed: boolean };

  interface KeyRow {
    id: Buffer;
    day: string;
    period: string | null;
    wrapped_key: Buffer | null;
    destroyed_at: Date | null;
  }
  const keyRows = (dataClass: DataClass, period: string) =>
    db.query<KeyRow>(
      `SELECT id, DATE_FORMAT(day, '%Y-%m-%d') AS day, period, wrapped_key, destroyed_at FROM ks_data_key
       WHERE data_class = ? AND DATE_FORMAT(day, '%Y-%m') = ? ORDER BY day`,
      [dataClass, period],
    );
  const periodKekRow = async (dataClass: DataClass, period: string) =>
    (
      await db.query<{ wrapped_kek: Buffer | null; destroyed_at: Date | null; kek_version: number }>(
        'SELECT wrapped_kek, destroyed_at, kek_version FROM ks_period_kek WHERE data_class = ? AND period = ?',
        [dataClass, period],
      )
    )[0];
  const handleOf = (dataClass: DataClass, id: Buffer): WrappedKey => ({
    kekId: kekIdOf(dataClass),
    kekVersion: 1,
    wrapped: encodeHandle(id),
  });
  /** Seals with the stored daily key `id` of a (past) day, opens through the key service's unwrap. */
  const keysOfDay = (dataClass: DataClass, id: Buffer): KeyProvider => ({
    newDataKey: async () => ({
      plaintext: await dataKeys.unwrap(archiver, handleOf(dataClass, id)),
      wrapped: handleOf(dataClass, id),
    }),
    unwrapDataKey: (wrapped) => dataKeys.unwrap(archiver, wrapped),
  });
  const destroy = async (dataClass: DataClass, before: string) => {
    const request = await approvals.createRequest(alice, {
      kind: 'destroy_data_keys',
      dataClass,
      before,
      reason: 'retention ended',
    });
    return approvals.approve(bob, request.id);
  };

  before(async () => {
    db = await createKeysTestDatabase();
    dataSource = createDataSource({
      config: db.config,
      migrationsTableName: KEYS_MIGRATIONS_TABLE,
      migrations: keysMigrations,
    });
    await dataSource.initialize();
    root = newRootKey();
    await dataSource.transaction((tx) => createFirstKeyrings(tx, root, new Date()));
    stubRoot = { rootKey: async () => root, usable: async () => true, sealed: false };
    audit = new AuditTrail(dataSource);
    keyrings = new Keyrings(dataSource, stubRoot, audit);
    dataKeys = new DataKeys(
      dataSource,
      480,
      stubRoot,
      keyrings,
      audit,
      new RetentionGuard(DEFAULT_RETENTION_MONTHS, new TableLegalHolds(dataSource)),
    );
    const custody = new Custody(dataSource, 3600000, new Credentials(dataSource), audit);
    approvals = new Approvals(dataSource, 3600000, keyrings, dataKeys, audit, custody);
    today = dataKeys.dayOf().day;
    for (const dataClass of ALL_CLASSES) {
      const allow = await approvals.createRequest(alice, {
        kind: 'set_deletion_allowed',
        dataClass,
        allowed: true,
        reason: 'retention policy',
      });
      await approvals.approve(bob, allow.id);
    }
  });

  after(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  test('[ATTACK] shredding inside retention → 409, the reason names the earliest allowed date; nothing destroyed', async () => {
    // the month before last: chat records there are under their 5-year minimum for years yet
    const recentPeriod = addMonths(today, -2).slice(0, 7);
    await dataKeys.createDailyKeys('chat', daysOf(recentPeriod).slice(0, 3), 'test');
    const before = addMonths(today, -1);
    const refusal = await refusedWith(
      () =>
        approvals.createRequest(alice, {
          kind: 'destroy_data_keys',
          dataClass: 'chat',
          before,
          reason: 'too early',
        }),
      409,
      'retention_not_expired',
    );
    const allowedFrom = addMonths(before, 60);
    assert.match(refusal.message, new RegExp(`allowed from ${allowedFrom}`));
    assert.match(refusal.message, /60 months/);
    assert.equal((await approvals.listRequests('pending')).length, 0, 'no request was stored');
    assert.ok((await keyRows('chat', recentPeriod)).every((row) => row.wrapped_key !== null));

    // recordings: 2 years. 23 months ago is inside, 25 months ago is past it
    const recordingBefore = addMonths(today, -23);
    await refusedWith(() => destroy('recording', recordingBefore), 409, 'retention_not_expired');
    const [event] = await db.query<{ actor: string; outcome: string; code: string }>(
      "SELECT actor, outcome, code FROM ks_audit_event WHERE action = 'request.create.destroy_data_keys' ORDER BY seq DESC LIMIT 1",
    );
    assert.deepEqual(
      { ...event },
      { actor: 'officer:alice', outcome: 'refused', code: 'retention_not_expired' },
    );
  });

  test('[bad input] a destruction boundary inside a month → 400 (whole periods only)', async () => {
    await refusedWith(() => destroy('chat', '2012-06-15'), 400, 'invalid_request');
  });

  test('shredding a period past retention destroys its period KEK and daily keys: no wrapped bytes left anywhere, its objects fail with key_destroyed, other periods unaffected', async () => {
    await dataKeys.createDailyKeys(
      'chat',
      [...daysOf('2012-04'), ...daysOf('2012-05'), ...daysOf('2012-06')],
      'test',
    );
    await dataKeys.createDailyKeys('pii', daysOf('2012-05'), 'test');
    const april = await keyRows('chat', '2012-04');
    const may = await keyRows('chat', '2012-05');
    const june = await keyRows('chat', '2012-06');
    assert.equal(may.length, 31);
    assert.ok([...april, ...may, ...june].every((row) => row.period !== null && row.wrapped_key !== null));
    const aprilKek = (await periodKekRow('chat', '2012-04'))?.wrapped_kek;
    const mayKek = (await periodKekRow('chat', '2012-05'))?.wrapped_kek;
    assert.ok(aprilKek && mayKek, 'the first daily key of a month made its period KEK');

    const record = Buffer.from('客户 13800138000 询问理财产品', 'utf8');
    const sealedMay = await sealBufferV1(record, keysOfDay('chat', may[10]!.id), 'chat');
    const sealedJune = await sealBufferV1(record, keysOfDay('chat', june[0]!.id), 'chat');
    const juneKeys = await Promise.all(
      june.map((row) => dataKeys.unwrap(archiver, handleOf('chat', row.id))),
    );
    const piiMay = await dataKeys.unwrap(archiver, handleOf('pii', (await keyRows('pii', '2012-05'))[0]!.id));
    assert.deepEqual((await openSealed(sealedMay, keysOfDay('chat', may[10]!.id))).plaintext, record);

    const destroyedBytes = [aprilKek, mayKek, ...[...april, ...may].map((row) => row.wrapped_key!)];
    const executed = await destroy('chat', '2012-06-01');
    assert.equal(executed.status, 'executed');
    assert.deepEqual(executed.result, {
      before: '2012-06-01',
      periods: ['2012-04', '2012-05'],
      destroyed: 30 + 31,
      periodKeks: 2,
    });

    // raw rows: nothing of April and May can be unwrapped by anyone, with or without the shares
    for (const row of [...(await keyRows('chat', '2012-04')), ...(await keyRows('chat', '2012-05'))]) {
      assert.equal(row.wrapped_key, null, `${row.day} still holds wrapped bytes`);
      assert.ok(row.destroyed_at);
    }
    for (const period of ['2012-04', '2012-05']) {
      const kek = await periodKekRow('chat', period);
      assert.equal(kek?.wrapped_kek, null, `period KEK ${period} still holds wrapped bytes`);
      assert.ok(kek?.destroyed_at);
    }
    for (const bytes of destroyedBytes) {
      for (const [table, column] of [
        ['ks_data_key', 'wrapped_key'],
        ['ks_period_kek', 'wrapped_kek'],
        ['ks_kek_version', 'wrapped_kek'],
        ['ks_index_key', 'wrapped_key'],
      ]) {
        const [found] = await db.query<{ n: string }>(
          `SELECT COUNT(*) AS n FROM ${table} WHERE ${column} = ?`,
          [bytes],
        );
        assert.equal(Number(found!.n), 0, `destroyed bytes found in ${table}`);
      }
      // and never in the audit trail or a request's result
      const [mentioned] = await db.query<{ n: string }>(
        `SELECT (SELECT COUNT(*) FROM ks_audit_event WHERE LOCATE(?, detail) > 0 OR LOCATE(?, detail) > 0)
              + (SELECT COUNT(*) FROM ks_request WHERE LOCATE(?, result) > 0 OR LOCATE(?, result) > 0) AS n`,
        [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('hex'), bytes.toString('base64')],
      );
      assert.equal(Number(mentioned!.n), 0);
    }

    // what was destroyed is audited: class, months, counts
    const [event] = await db.query<{ actor: string; detail: string }>(
      "SELECT actor, detail FROM ks_audit_event WHERE action = 'datakey.destroy' ORDER BY seq DESC LIMIT 1",
    );
    assert.equal(event!.actor, 'officer:bob');
    assert.deepEqual(JSON.parse(event!.detail), {
      dataClass: 'chat',
      before: '2012-06-01',
      periods: ['2012-04', '2012-05'],
      destroyed: 61,
      periodKeks: 2,
    });

    // an object sealed under a destroyed day's key no longer opens
    await refusedWith(() => openSealed(sealedMay, keysOfDay('chat', may[10]!.id)), 410, 'key_destroyed');
    // June, and May of another class, are untouched
    assert.deepEqual((await openSealed(sealedJune, keysOfDay('chat', june[0]!.id))).plaintext, record);
    for (const [index, row] of june.entries()) {
      assert.deepEqual(await dataKeys.unwrap(archiver, handleOf('chat', row.id)), juneKeys[index]);
    }
    assert.deepEqual(
      await dataKeys.unwrap(archiver, handleOf('pii', (await keyRows('pii', '2012-05'))[0]!.id)),
      piiMay,
    );
    assert.ok((await periodKekRow('chat', '2012-06'))?.wrapped_kek);

    // a destroyed month never gets key material again
    await refusedWith(() => dataKeys.createDailyKeys('chat', ['2012-05-31'], 'test'), 410, 'key_destroyed');
    await refusedWith(() => dataKeys.createDailyKeys('chat', ['2012-04-15'], 'test'), 410, 'key_destroyed');
    // and a second destruction of the same months finds nothing left
    assert.deepEqual((await destroy('chat', '2012-06-01')).result, {
      before: '2012-06-01',
      periods: [],
      destroyed: 0,
      periodKeks: 0,
    });
  });

  test('[ATTACK] a period under legal hold → 409 legal_hold, at request time and at approval; released, it goes', async () => {
    await dataKeys.createDailyKeys('recording', [...daysOf('2013-02'), ...daysOf('2013-03')], 'test');
    await db.query(
      `INSERT INTO ks_legal_hold (data_class, from_day, to_day, reason, created_by, created_at)
       VALUES ('recording', '2013-02-10', '2013-02-20', 'case 2026-017', 'officer:carol', NOW(3))`,
    );
    const [hold] = await db.query<{ id: string }>('SELECT MAX(id) AS id FROM ks_legal_hold');
    const refusal = await refusedWith(() => destroy('recording', '2013-03-01'), 409, 'legal_hold');
    assert.match(refusal.message, /2013-02-10 to 2013-02-20/);

    // a hold placed after the request was made still stops the approval
    await db.query('UPDATE ks_legal_hold SET released_at = NOW(3) WHERE id = ?', [hold!.id]);
    const request = await approvals.createRequest(alice, {
      kind: 'destroy_data_keys',
      dataClass: 'recording',
      before: '2013-04-01',
      reason: 'retention ended',
    });
    await db.query(
      `INSERT INTO ks_legal_hold (data_class, from_day, to_day, reason, created_by, created_at)
       VALUES ('recording', '2013-03-05', '2013-03-05', 'case 2026-018', 'officer:carol', NOW(3))`,
    );
    await refusedWith(() => approvals.approve(bob, request.id), 409, 'legal_hold');
    assert.equal((await approvals.getRequest(request.id)).status, 'pending');
    assert.ok((await keyRows('recording', '2013-02')).every((row) => row.wrapped_key !== null));
    assert.ok((await periodKekRow('recording', '2013-03'))?.wrapped_kek);

    // a hold on chat holds the personal data and index keys of the same records
    await dataKeys.createDailyKeys('pii', daysOf('2013-01'), 'test');
    await db.query(
      `INSERT INTO ks_legal_hold (data_class, from_day, to_day, reason, created_by, created_at)
       VALUES ('chat', '2013-01-01', '2013-01-31', 'case 2026-019', 'officer:carol', NOW(3))`,
    );
    await refusedWith(() => destroy('pii', '2013-02-01'), 409, 'legal_hold');

    // the hold before the boundary only: the months before it go
    assert.deepEqual((await destroy('recording', '2013-03-01')).result, {
      before: '2013-03-01',
      periods: ['2013-02'],
      destroyed: 28,
      periodKeks: 1,
    });
    assert.ok((await periodKekRow('recording', '2013-03'))?.wrapped_kek, 'the held month stays');
  });

  test('a retention lengthened after the request is enforced at approval', async () => {
    await dataKeys.createDailyKeys('audit', daysOf('2014-01'), 'test');
    const request = await approvals.createRequest(alice, {
      kind: 'destroy_data_keys',
      dataClass: 'audit',
      before: '2014-02-01',
      reason: 'retention ended',
    });
    const longer = new DataKeys(
      dataSource,
      480,
      stubRoot,
      keyrings,
      audit,
      new RetentionGuard({ ...DEFAULT_RETENTION_MONTHS, audit: 1200 }, new TableLegalHolds(dataSource)),
    );
    const custody = new Custody(dataSource, 3600000, new Credentials(dataSource), audit);
    const strictApprovals = new Approvals(dataSource, 3600000, keyrings, longer, audit, custody);
    const refusal = await refusedWith(
      () => strictApprovals.approve(bob, request.id),
      409,
      'retention_not_expired',
    );
    assert.match(refusal.message, /allowed from 2114-02-01/);
    assert.ok((await keyRows('audit', '2014-01')).every((row) => row.wrapped_key !== null));
  });

  test('daily keys stored before period KEKs keep opening, move under their period KEK by rewrap, and shred with it', async () => {
    // a key as the key service stored it before period KEKs: wrapped directly under chat's KEK v1
    const legacy = [
      { id: newDataKeyId(), day: '2011-07-01', key: newSm4Key() },
      { id: newDataKeyId(), day: '2011-07-02', key: newSm4Key() },
      { id: newDataKeyId(), day: '2011-08-01', key: newSm4Key() },
    ];
    const kek = await keyrings.kek('chat', 1);
    for (const { id, day, key } of legacy) {
      await db.query(
        "INSERT INTO ks_data_key (id, data_class, day, kek_version, wrapped_key, created_at) VALUES (?, 'chat', ?, 1, ?, NOW(3))",
        [id, day, wrapDataKey(kek, key)],
      );
    }
    for (const { id, key } of legacy) {
      assert.deepEqual(await dataKeys.unwrap(archiver, handleOf('chat', id)), key);
    }
    const sealed = await sealBufferV1(Buffer.from('old record'), keysOfDay('chat', legacy[2]!.id), 'chat');

    // rotation, then a rewrap job: the old keys move under their months' KEKs, at the new version
    await dataSource.transaction((tx) => keyrings.rotateIn(tx, 'chat', 'test'));
    const rewrapJobs = new RewrapJobs(dataSource, stubRoot, keyrings, dataKeys, audit);
    const job = await rewrapJobs.start(alice, 'chat');
    const finished = await eventually('the rewrap job to finish', async () => {
      const view = await rewrapJobs.get(job.id);
      return view.status === 'running' ? undefined : view;
    });
    await rewrapJobs.close();
    assert.deepEqual([finished.status, finished.failed, finished.done], ['done', 0, job.total]);
    const moved = await db.query<{ period: string | null; kek_version: number | null }>(
      'SELECT period, kek_version FROM ks_data_key WHERE id IN (?) ORDER BY day',
      [legacy.map((row) => row.id)],
    );
    assert.deepEqual(
      moved.map((row) => ({ ...row })),
      [
        { period: '2011-07', kek_version: null },
        { period: '2011-07', kek_version: null },
        { period: '2011-08', kek_version: null },
      ],
    );
    assert.equal((await periodKekRow('chat', '2011-07'))?.kek_version, 2);
    assert.equal(
      await dataKeys.countWrappedBelow(dataSource, 'chat', 2),
      0,
      'every chat key now hangs from v2',
    );
    for (const { id, key } of legacy) {
      assert.deepEqual(await dataKeys.unwrap(archiver, handleOf('chat', id)), key, 'the same data key');
    }
    assert.deepEqual(
      (await openSealed(sealed, keysOfDay('chat', legacy[2]!.id))).plaintext,
      Buffer.from('old record'),
    );

    // destroyed with their month
    assert.deepEqual((await destroy('chat', '2011-08-01')).result, {
      before: '2011-08-01',
      periods: ['2011-07'],
      destroyed: 2,
      periodKeks: 1,
    });
    await refusedWith(() => dataKeys.unwrap(archiver, handleOf('chat', legacy[0]!.id)), 410, 'key_destroyed');
    assert.deepEqual(await dataKeys.unwrap(archiver, handleOf('chat', legacy[2]!.id)), legacy[2]!.key);
  });

  test('a key stored before period KEKs is shredded in place when no rewrap moved it', async () => {
    const id = newDataKeyId();
    await db.query(
      "INSERT INTO ks_data_key (id, data_class, day, kek_version, wrapped_key, created_at) VALUES (?, 'index', '2010-01-05', 1, ?, NOW(3))",
      [id, wrapDataKey(await keyrings.kek('index', 1), newSm4Key())],
    );
    assert.deepEqual((await destroy('index', '2010-02-01')).result, {
      before: '2010-02-01',
      periods: ['2010-01'],
      destroyed: 1,
      periodKeks: 0,
    });
    const [row] = await db.query<{ wrapped_key: Buffer | null }>(
      'SELECT wrapped_key FROM ks_data_key WHERE id = ?',
      [id],
    );
    assert.equal(row!.wrapped_key, null);
    // its month is closed for good: a tombstone, no key material
    const tombstone = await periodKekRow('index', '2010-01');
    assert.equal(tombstone?.wrapped_kek, null);
    assert.ok(tombstone?.destroyed_at);
    await refusedWith(() => dataKeys.createDailyKeys('index', ['2010-01-06'], 'test'), 410, 'key_destroyed');
  });
});

describe('retention policy', () => {
  test('the legal minimum is the floor: chat 5 years, recordings 2, pii and index with chat', () => {
    assert.deepEqual(
      validateRetention({ ...DEFAULT_RETENTION_MONTHS, chat: 84, pii: 84, index: 96 }).chat,
      84,
    );
    assert.throws(() => validateRetention({ ...DEFAULT_RETENTION_MONTHS, chat: 59 }), ConfigError);
    assert.throws(() => validateRetention({ ...DEFAULT_RETENTION_MONTHS, recording: 12 }), ConfigError);
    assert.throws(() => validateRetention({ ...DEFAULT_RETENTION_MONTHS, audit: 5 }), ConfigError);
    assert.throws(() => validateRetention({ ...DEFAULT_RETENTION_MONTHS, chat: 2.5 }), ConfigError);
    assert.throws(
      () => validateRetention({ ...DEFAULT_RETENTION_MONTHS, chat: 84 }),
      /pii \(60 months\) may not be kept shorter than chat \(84 months\)/,
    );
  });

  test('[bad input] a retention below the legal minimum in the environment stops the key service', () => {
    const saved = { ...process.env };
    try {
      process.env.CZ_KEYS_RETENTION_MONTHS_CHAT = '72';
      assert.deepEqual(retentionFromEnv(), { chat: 72, recording: 24, pii: 72, index: 72, audit: 60 });
      process.env.CZ_KEYS_RETENTION_MONTHS_RECORDING = '18';
      assert.throws(() => retentionFromEnv(), /recording must be kept .* from 24 \(the legal minimum\)/);
    } finally {
      process.env = saved;
    }
  });

  test('the binlog would keep destroyed keys unless it logs statements or minimal row images', () => {
    assert.equal(binlogKeepsOldValues({ logBin: false, format: 'ROW', rowImage: 'FULL' }), false);
    assert.equal(binlogKeepsOldValues({ logBin: true, format: 'STATEMENT', rowImage: 'FULL' }), false);
    assert.equal(binlogKeepsOldValues({ logBin: true, format: 'ROW', rowImage: 'MINIMAL' }), false);
    assert.equal(binlogKeepsOldValues({ logBin: true, format: 'ROW', rowImage: 'FULL' }), true);
    assert.equal(binlogKeepsOldValues({ logBin: true, format: 'MIXED', rowImage: 'NOBLOB' }), true);
  });
});
