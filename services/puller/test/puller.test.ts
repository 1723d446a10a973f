/**
 * The Finance-SDK puller end to end on the real stack: MariaDB, Kafka, ingest and archiver in this
 * process, the puller's SDK children loading the compiled C test double (the proprietary Tencent
 * library cannot be had here; the double has the same C ABI and serves a scripted sequence).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fp from 'fastify-plugin';
import { Kafka, logLevel } from 'kafkajs';
import { Topics, type AlertV1 } from '@cz/contracts';
import {
  createServer,
  kafkaConfig,
  kafkaTransport,
  keyProviderFromEnv,
  optionalClientTlsFromEnv,
  wecomMediaId,
} from '@cz/common';
import { openBuffer } from '@cz/common/crypto';
import {
  buildFinanceSdkDouble,
  callerHeaders,
  type ChatLine,
  devCallerToken,
  createTestDatabase,
  type DoubleScript,
  eventually,
  loadStackEnv,
  md5Hex,
  rsaKeyPair,
  testCallerAuth,
  type TestDatabase,
  uniqueCorp,
  writeDoubleScript,
} from '@cz/testkit';
import archiver, { completenessTimeZone, dayIn, reconcileDay } from '@cz/archiver';
import ingest from '@cz/ingest';
import puller from '../src/app';
import type { PullerSettings } from '../src/config';

loadStackEnv();
const keys = keyProviderFromEnv();
const v1 = rsaKeyPair();
const v2 = rsaKeyPair();
const adminToken = randomBytes(24).toString('hex');
const admin = { authorization: `Bearer ${adminToken}` };

const text = (msgid: string, content: string, minute = 0) => ({
  msgid,
  action: 'send',
  from: 'liqiang',
  tolist: ['wmCustomer7'],
  msgtime: Date.UTC(2026, 10, 20, 2, minute),
  msgtype: 'text',
  text: { content },
});

const chat = (
  seq: number,
  msgid: string,
  publickeyVer = 1,
  message: unknown = text(msgid, `消息 ${seq}`, seq),
) => ({ seq, msgid, publickeyVer, message }) satisfies ChatLine;

describe('Finance-SDK puller (real stack, C test double)', () => {
  let db: TestDatabase;
  let scriptDir: string;
  let ingestApp: ReturnType<typeof createServer>;
  let archiverApp: ReturnType<typeof createServer>;
  let pullerApp: ReturnType<typeof createServer>;
  let settings: PullerSettings;
  const alertsSeen: AlertV1[] = [];
  const kafka = new Kafka({
    clientId: 'cz-puller-test',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const alertReader = kafka.consumer({ groupId: `cz-puller-test-alerts-${randomBytes(4).toString('hex')}` });

  const buildPuller = async (overrides: Partial<PullerSettings> = {}) => {
    const app = createServer('puller', { logger: process.env.CZ_TEST_LOGS === '1' });
    await app.register(fp(puller), { database: db.config, keys, settings: { ...settings, ...overrides } });
    await app.ready();
    return app;
  };

  before(async () => {
    const library = buildFinanceSdkDouble();
    db = await createTestDatabase();
    scriptDir = mkdtempSync(join(tmpdir(), 'cz-puller-test-'));
    const logger = process.env.CZ_TEST_LOGS === '1';
    archiverApp = createServer('archiver', { logger });
    await archiverApp.register(fp(archiver), {
      database: db.config,
      kafka: kafkaConfig('cz-archiver-puller-test'),
      keys,
      groupId: `cz-archiver-puller-test-${randomBytes(4).toString('hex')}`,
      completeness: { gapGraceMs: 1500, sweepIntervalMs: 300 },
      callers: testCallerAuth(),
    });
    await archiverApp.ready();
    ingestApp = createServer('ingest', { logger, bodyLimit: 8 * 1024 * 1024 });
    await ingestApp.register(ingest, {
      kafka: kafkaConfig('cz-ingest-puller-test'),
      keys,
      callers: testCallerAuth(),
    });
    await ingestApp.listen({ host: '127.0.0.1', port: 0 });
    const ingestPort = (ingestApp.server.address() as AddressInfo).port;
    settings = {
      sdkPath: library,
      ingestUrl: `http://127.0.0.1:${ingestPort}`,
      callerToken: devCallerToken(),
      recordingsUrl: process.env.CZ_RECORDINGS_URL ?? 'http://127.0.0.1:8084',
      tls: optionalClientTlsFromEnv(),
      batchLimit: 4,
      pollIntervalMs: 200,
      sdkTimeoutSec: 5,
      proxy: '',
      proxyPasswd: '',
      leaseMs: 15000,
      backoffInitialMs: 100,
      backoffMaxMs: 1000,
      corpScanIntervalMs: 500,
      mediaPerCycle: 5,
      mediaCycleBudgetMs: 15000,
      mediaMaxAttempts: 3,
      md5Attempts: 2,
      mediaMaxBytes: 64 * 1024 * 1024,
      childEnv: { CZ_FAKE_WEWORK_SCRIPT_DIR: scriptDir },
      adminToken,
    };
    pullerApp = await buildPuller();
    await alertReader.connect();
    await alertReader.subscribe({ topic: Topics.alerts, fromBeginning: true });
    await alertReader.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        // other suites put unreadable records on cz.alert.v1 on purpose (their DLQ tests): skip them
        const opened = await openBuffer(message.value, keys).catch(() => undefined);
        if (!opened) return;
        try {
          alertsSeen.push(JSON.parse(opened.toString()) as AlertV1);
        } catch {
          // not JSON: another suite's bad record
        }
      },
    });
  });

  after(async () => {
    await alertReader.disconnect();
    await pullerApp?.close();
    await ingestApp?.close();
    await archiverApp?.close();
    await db?.drop();
    rmSync(scriptDir, { recursive: true, force: true });
  });

  /** Writes the corp's script, then registers the corp through the puller's API (secret + keys). */
  const registerCorp = async (
    app: ReturnType<typeof createServer>,
    script: DoubleScript,
    versions = [1, 2],
  ) => {
    const written = writeDoubleScript(script, { dir: scriptDir });
    for (const ver of versions) {
      const pem = ver === 1 ? v1.privateKeyPem : v2.privateKeyPem;
      const reply = await app.inject({
        method: 'PUT',
        url: `/v1/puller/corps/${script.corpId}/keys/${ver}`,
        headers: admin,
        payload: { privateKeyPem: pem },
      });
      assert.equal(reply.statusCode, 200, reply.body);
    }
    const reply = await app.inject({
      method: 'PUT',
      url: `/v1/puller/corps/${script.corpId}`,
      headers: admin,
      payload: { secret: script.secret },
    });
    assert.equal(reply.statusCode, 204, reply.body);
    return written;
  };

  const archived = (corpId: string) =>
    db.query<{ msgid: string; seq: string; n: number }>(
      'SELECT msgid, MIN(seq) AS seq, COUNT(*) AS n FROM message WHERE corp_id = ? GROUP BY msgid ORDER BY MIN(seq), msgid',
      [corpId],
    );
  const checkpointOf = async (corpId: string) =>
    Number(
      (
        await db.query<{ seq: string }>('SELECT seq FROM wecom_pull_checkpoint WHERE corp_id = ?', [corpId])
      )[0]?.seq,
    );
  const alertsOf = (corpId: string) =>
    db.query<{ kind: string; from_seq: string | null; to_seq: string | null; msgid: string | null }>(
      `SELECT kind, from_seq, to_seq, JSON_UNQUOTE(JSON_EXTRACT(detail, '$.msgid')) AS msgid
         FROM completeness_alert WHERE corp_id = ? ORDER BY raised_at`,
      [corpId],
    );
  const script = (corpId: string, chats: ChatLine[], extra: Partial<DoubleScript> = {}): DoubleScript => ({
    corpId,
    secret: `secret-${corpId}`,
    publicKeys: { 1: v1.publicKeyPem, 2: v2.publicKeyPem },
    chats,
    ...extra,
  });

  let crashedCorp = '';

  test('[REG-01] the child dies mid-batch twice; after restarts the archive has every message exactly once, and the scripted seq gap raises an alert', async () => {
    const corpId = uniqueCorp('wwpull');
    crashedCorp = corpId;
    // seq 9 never comes: a gap. DecryptData segfaults on the 2nd record of batch [5,6,7,8];
    // GetChatData segfaults serving the batch that holds seq 11.
    const chats = [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12].map((seq) =>
      chat(seq, `msg-${seq}`, seq % 2 === 0 ? 2 : 1),
    );
    await registerCorp(pullerApp, script(corpId, chats, { crashDecryptOf: ['msg-6'], crashChatAtSeq: [11] }));

    const rows = await eventually(
      'all 11 records archived',
      async () => {
        const found = await archived(corpId);
        return found.length >= 11 ? found : undefined;
      },
      60000,
    );
    assert.deepEqual(
      rows.map((r) => [r.msgid, Number(r.seq), Number(r.n)]),
      chats.map((c) => [c.msgid, c.seq, 1]),
      'every message exactly once',
    );
    await eventually('checkpoint at 12', async () =>
      (await checkpointOf(corpId)) === 12 ? true : undefined,
    );
    // the service (this process) answered throughout; only its SDK children died
    const status = await pullerApp.inject({ method: 'GET', url: '/v1/puller/status' });
    assert.equal(status.statusCode, 200);
    const corp = status
      .json<{ corps: { corpId: string; childRestarts: number; childPid: number | null }[] }>()
      .corps.find((c) => c.corpId === corpId)!;
    assert.ok(corp.childRestarts >= 2, `expected ≥ 2 child restarts, saw ${corp.childRestarts}`);
    assert.ok(corp.childPid !== null && corp.childPid !== process.pid);

    const gap = await eventually('a seq_gap alert for seq 9', async () => {
      const found = (await alertsOf(corpId)).find((a) => a.kind === 'seq_gap');
      return found;
    });
    assert.deepEqual([Number(gap.from_seq), Number(gap.to_seq)], [9, 9]);
    const onKafka = await eventually('the seq_gap alert on cz.alert.v1', async () =>
      alertsSeen.find((a) => a.corpId === corpId && a.kind === 'seq_gap'),
    );
    assert.equal(onKafka.fromSeq, 9);
    assert.equal(onKafka.schema, 'cz.alert.v1');

    // Lost checkpoint (as if the puller died after ingest's 202): everything is pulled again,
    // and the archive still holds each message once; the archiver counts the duplicates.
    await pullerApp.close();
    await db.query('UPDATE wecom_pull_checkpoint SET seq = 0, lease_owner = NULL WHERE corp_id = ?', [
      corpId,
    ]);
    pullerApp = await buildPuller();
    await eventually(
      're-pulled up to 12',
      async () => ((await checkpointOf(corpId)) === 12 ? true : undefined),
      30000,
    );
    await eventually('the re-pulled records counted as duplicates', async () => {
      const [t] = await db.query<{ duplicates: string }>(
        'SELECT duplicates FROM wecom_seq_tracker WHERE corp_id = ?',
        [corpId],
      );
      return Number(t?.duplicates) >= 11 ? true : undefined;
    });
    const again = await archived(corpId);
    assert.equal(again.length, 11);
    assert.ok(again.every((r) => Number(r.n) === 1));

    // no plaintext of the messages, the secret or the keys at rest in the puller's tables
    for (const table of [
      'wecom_corp_source',
      'wecom_corp_key',
      'wecom_pull_checkpoint',
      'completeness_alert',
    ]) {
      for (const row of await db.query<Record<string, unknown>>(`SELECT * FROM ${table}`)) {
        for (const value of Object.values(row)) {
          const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
          for (const needle of ['消息 3', `secret-${corpId}`, 'PRIVATE KEY']) {
            assert.ok(!bytes.includes(Buffer.from(needle)), `"${needle}" in ${table}`);
          }
        }
      }
    }
  });

  test('[REG-07] the daily reconciliation record holds counts, first/last seq and the open gap, frozen with its SM3 digest', async () => {
    const corpId = crashedCorp;
    assert.ok(corpId, 'runs after the acceptance test');
    const zone = completenessTimeZone();
    const today = dayIn(zone, new Date());
    const { body, digest, created } = await reconcileDay(archiverApp.db, corpId, today, zone);
    assert.equal(created, true);
    assert.equal(body.stored, 11);
    assert.ok(body.received >= 22, 'first pull and the re-pull');
    assert.ok(body.duplicates >= 11);
    assert.equal(body.firstSeq, 1);
    assert.equal(body.lastSeq, 12);
    assert.deepEqual(body.openGaps, [{ fromSeq: 9, toSeq: 9, state: 'alerted' }]);
    assert.equal(body.missingSeqs, 1);
    assert.equal(body.alerts.seq_gap, 1);
    const [row] = await db.query<{ body: string; digest_sm3: string }>(
      'SELECT body, digest_sm3 FROM completeness_reconciliation WHERE corp_id = ? AND day = ?',
      [corpId, today],
    );
    assert.equal(row!.digest_sm3, digest);
    assert.equal(
      createHash('sm3').update(row!.body).digest('hex'),
      digest,
      'the digest covers the stored bytes',
    );
    // frozen: a second run returns the stored record, and the API refuses a day that is not over
    const again = await reconcileDay(archiverApp.db, corpId, today, zone);
    assert.deepEqual([again.created, again.digest], [false, digest]);
    const refused = await archiverApp.inject({
      method: 'POST',
      url: `/v1/completeness/${corpId}/reconciliations/${today}`,
      headers: callerHeaders(),
    });
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json<{ code: string }>().code, 'day_not_finished');
    const summary = await archiverApp.inject({
      method: 'GET',
      url: `/v1/completeness/${corpId}`,
      headers: callerHeaders(),
    });
    assert.deepEqual(
      summary
        .json<{ lowSeq: number; highSeq: number; openGaps: { fromSeq: number }[] }>()
        .openGaps.map((g) => g.fromSeq),
      [9],
    );
  });

  test('[REG-01] a child killed from outside (SIGKILL) during GetChatData is replaced; the archive still has every message once', async () => {
    const corpId = uniqueCorp('wwkill');
    const chats = [1, 2, 3, 4, 5, 6].map((seq) => chat(seq, `k-${seq}`));
    // every GetChatData call takes 600 ms, so the kill lands inside one
    await registerCorp(pullerApp, script(corpId, chats, { delayChatMs: 600 }), [1]);
    const statusOf = async () => {
      const reply = await pullerApp.inject({ method: 'GET', url: '/v1/puller/status' });
      return reply
        .json<{ corps: { corpId: string; childPid: number | null }[] }>()
        .corps.find((c) => c.corpId === corpId);
    };
    const victim = await eventually(
      'a running SDK child',
      async () => (await statusOf())?.childPid ?? undefined,
    );
    // kill it inside GetChatData, where the double sleeps (the main thread's wait channel is a
    // nanosleep), rather than at a guessed moment that a slow machine may miss
    await eventually('the SDK child inside GetChatData', async () =>
      readFileSync(`/proc/${victim}/wchan`, 'utf8').includes('nanosleep') ? true : undefined,
    );
    process.kill(victim, 'SIGKILL');
    assert.ok((await archived(corpId)).length < 6, 'the kill lands before every message is archived');
    const rows = await eventually(
      'all six archived',
      async () => {
        const found = await archived(corpId);
        return found.length >= 6 ? found : undefined;
      },
      30000,
    );
    assert.deepEqual(
      rows.map((r) => [r.msgid, Number(r.n)]),
      chats.map((c) => [c.msgid, 1]),
    );
    const replacement = await eventually(
      'a new SDK child',
      async () => (await statusOf())?.childPid ?? undefined,
    );
    assert.notEqual(replacement, victim);
  });

  test('[REG-01] seq going backwards: the record is still archived, the regression is alerted, the checkpoint never goes back', async () => {
    const corpId = uniqueCorp('wwback');
    // one GetChatData batch (limit 4) hands back 1, 3, then 2, then 4
    const chats = [
      chat(1, 'b1'),
      chat(3, 'b3'),
      chat(2, 'b2-late'),
      chat(4, 'b4'),
      chat(5, 'b5'),
      chat(6, 'b6'),
    ];
    await registerCorp(pullerApp, script(corpId, chats), [1]);
    await eventually(
      'six archived',
      async () => ((await archived(corpId)).length === 6 ? true : undefined),
      30000,
    );
    await eventually('checkpoint 6', async () => ((await checkpointOf(corpId)) === 6 ? true : undefined));
    const regression = (await alertsOf(corpId)).find((a) => a.kind === 'seq_regression');
    assert.ok(regression, 'seq_regression alert');
    assert.equal(Number(regression.from_seq), 2);
    assert.equal(regression.msgid, 'b2-late');
    // 2 arrived (late): no gap is left open for it, and none was alerted
    await archiverApp.completeness.sweep();
    assert.ok(!(await alertsOf(corpId)).some((a) => a.kind === 'seq_gap'));
    const [open] = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM completeness_gap WHERE corp_id = ? AND state IN ('suspected', 'alerted')`,
      [corpId],
    );
    assert.equal(Number(open!.n), 0);
  });

  test('duplicate seq: the same record twice is archived once; another msgid on a used seq is kept and alerted as a conflict', async () => {
    const corpId = uniqueCorp('wwdup');
    // one batch (limit 4): seq 2 three times — the same record twice, then another msgid
    const chats = [chat(1, 'd1'), chat(2, 'd2'), chat(2, 'd2'), chat(2, 'd2-other'), chat(3, 'd3')];
    await registerCorp(pullerApp, script(corpId, chats), [1]);
    const rows = await eventually('four distinct records', async () => {
      const found = await archived(corpId);
      return found.length >= 4 ? found : undefined;
    });
    assert.deepEqual(
      rows.map((r) => [r.msgid, Number(r.n)]),
      [
        ['d1', 1],
        ['d2', 1],
        ['d2-other', 1],
        ['d3', 1],
      ],
    );
    const conflict = await eventually('seq_conflict alert', async () =>
      (await alertsOf(corpId)).find((a) => a.kind === 'seq_conflict'),
    );
    assert.equal(Number(conflict.from_seq), 2);
    assert.equal(conflict.msgid, 'd2-other');
  });

  test('an unknown publickey_ver and a record ingest rejects are quarantined with their encrypted envelope; the checkpoint moves on, both are alerted, and the record is archived once its key arrives', async () => {
    const corpId = uniqueCorp('wwquar');
    const v9 = rsaKeyPair();
    const chats = [
      chat(1, 'q1'),
      { ...chat(2, 'q2-unknown-version', 9), encryptWith: v9.publicKeyPem },
      chat(3, 'q3-invalid', 1, {
        msgid: 'q3-invalid',
        action: 'send',
        msgtime: 1,
        msgtype: 'text',
        text: { content: 'x' },
      }),
      chat(4, 'q4'),
    ];
    await registerCorp(pullerApp, script(corpId, chats), [1, 2]);
    await eventually(
      'checkpoint 4',
      async () => ((await checkpointOf(corpId)) === 4 ? true : undefined),
      30000,
    );
    const quarantine = await db.query<{
      seq: string;
      msgid: string;
      stage: string;
      reason: string;
      sealed_envelope: Buffer;
    }>(
      'SELECT seq, msgid, stage, reason, sealed_envelope FROM wecom_pull_quarantine WHERE corp_id = ? ORDER BY seq',
      [corpId],
    );
    assert.deepEqual(
      quarantine.map((q) => [Number(q.seq), q.msgid, q.stage]),
      [
        [2, 'q2-unknown-version', 'key'],
        [3, 'q3-invalid', 'ingest'],
      ],
    );
    assert.match(quarantine[0]!.reason, /no private key for publickey_ver 9/);
    assert.match(quarantine[1]!.reason, /\/from|\/tolist/);
    // the envelope is kept (sealed) so it can be decrypted again once the key is supplied
    const envelope = JSON.parse((await openBuffer(quarantine[0]!.sealed_envelope, keys)).toString()) as {
      seq: number;
      encrypt_random_key: string;
    };
    assert.equal(envelope.seq, 2);
    assert.ok(envelope.encrypt_random_key.length > 100);
    await eventually('q1 and q4 archived', async () =>
      (await archived(corpId)).length === 2 ? true : undefined,
    );
    const kinds = (await alertsOf(corpId)).map((a) => a.kind);
    assert.equal(kinds.filter((k) => k === 'pull_quarantine').length, 2, kinds.join(','));

    // the operator adds key version 9: the running puller takes it and decrypts the record again
    const added = await pullerApp.inject({
      method: 'PUT',
      url: `/v1/puller/corps/${corpId}/keys/9`,
      headers: admin,
      payload: { privateKeyPem: v9.privateKeyPem },
    });
    assert.equal(added.statusCode, 200, added.body);
    const rows = await eventually(
      'q2 archived after its key arrived',
      async () => {
        const found = await archived(corpId);
        return found.length === 3 ? found : undefined;
      },
      30000,
    );
    assert.deepEqual(
      rows.map((r) => [r.msgid, Number(r.seq)]),
      [
        ['q1', 1],
        ['q2-unknown-version', 2],
        ['q4', 4],
      ],
    );
    const open = await db.query<{ msgid: string }>(
      'SELECT msgid FROM wecom_pull_quarantine WHERE corp_id = ? AND resolved_at IS NULL',
      [corpId],
    );
    assert.deepEqual(
      open.map((q) => q.msgid),
      ['q3-invalid'],
    );
  });

  test('corp secrets and keys are configured only with the admin secret; a key that is not RSA is refused', async () => {
    const corpId = uniqueCorp('wwadmin');
    const put = (headers: Record<string, string>, payload: Record<string, string>, path = '') =>
      pullerApp.inject({ method: 'PUT', url: `/v1/puller/corps/${corpId}${path}`, headers, payload });
    assert.equal((await put({}, { secret: 'x' })).statusCode, 401);
    assert.equal((await put({ authorization: `Bearer ${'0'.repeat(48)}` }, { secret: 'x' })).statusCode, 401);
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const refused = await put(admin, { privateKeyPem: ec.toString().padEnd(120, '\n') }, '/keys/1');
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json<{ code: string }>().code, 'invalid_private_key');
    const [n] = await db.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM wecom_corp_source WHERE corp_id = ?',
      [corpId],
    );
    assert.equal(Number(n!.n), 0);
  });

  test('the checkpoint does not move while ingest does not acknowledge', async () => {
    const corpId = uniqueCorp('wwdown');
    const offline = await buildPuller({ ingestUrl: 'http://127.0.0.1:9' });
    try {
      // the offline replica holds the corp's lease, so the healthy one cannot take the corp first
      await db.query(
        `INSERT INTO wecom_pull_checkpoint (corp_id, seq, lease_owner, lease_expires_at)
         VALUES (?, 0, ?, DATE_ADD(NOW(3), INTERVAL 1 HOUR))`,
        [corpId, offline.pullSupervisor.owner],
      );
      await registerCorp(offline, script(corpId, [chat(1, 'o1'), chat(2, 'o2')]), [1]);
      const status = await eventually('an ingest error reported', async () => {
        const reply = await offline.inject({ method: 'GET', url: '/v1/puller/status' });
        const corp = reply
          .json<{ corps: { corpId: string; lastError: string | null }[] }>()
          .corps.find((c) => c.corpId === corpId);
        return corp?.lastError ? corp : undefined;
      });
      assert.match(status.lastError!, /ingest unreachable/);
      assert.equal(await checkpointOf(corpId), 0);
    } finally {
      await offline.close();
    }
    // closing released the lease: the healthy replica takes the corp over and archives it
    await eventually(
      'o1, o2 archived by the healthy puller',
      async () => ((await archived(corpId)).length === 2 ? true : undefined),
      30000,
    );
  });

  test('[REG-01] media referenced by a record is fetched chunk by chunk, md5-verified and stored by recordings; a persistent md5 mismatch is kept with both digests and alerted', async () => {
    const corpId = uniqueCorp('wwmedia');
    const content = Buffer.concat([Buffer.from([0, 0xff, 0]), randomBytes(200_000)]);
    const odd = randomBytes(50_000);
    const media = (msgid: string, sdkfileid: string, md5sum: string, size: number) => ({
      msgid,
      action: 'send',
      from: 'liqiang',
      tolist: ['wmCustomer7'],
      msgtime: Date.UTC(2026, 10, 20, 3),
      msgtype: 'image',
      image: { sdkfileid, md5sum, filesize: size },
    });
    const goodId = `CtYBMzA2OTAy${randomBytes(6).toString('hex')}==`;
    const oddId = `CtYBMzA2OTAz${randomBytes(6).toString('hex')}==`;
    const wrongMd5 = md5Hex(Buffer.from('what WeCom claims'));
    await registerCorp(
      pullerApp,
      script(
        corpId,
        [
          chat(1, 'img1', 1, media('img1', goodId, md5Hex(content), content.length)),
          chat(2, 'img2', 1, media('img2', oddId, wrongMd5, odd.length)),
        ],
        {
          media: [
            { sdkfileid: goodId, content, chunkBytes: 32 * 1024, corruptFetches: 1 },
            { sdkfileid: oddId, content: odd, chunkBytes: 16 * 1024 },
          ],
        },
      ),
      [1],
    );
    const jobs = await eventually(
      'both media jobs finished',
      async () => {
        const rows = await db.query<{
          sdkfileid: string;
          status: string;
          expected_md5: string;
          actual_md5: string | null;
          bytes: string | null;
          last_error: string | null;
        }>(
          'SELECT sdkfileid, status, expected_md5, actual_md5, bytes, last_error FROM wecom_media_job WHERE corp_id = ? ORDER BY seq',
          [corpId],
        );
        return rows.length === 2 && rows.every((r) => r.status !== 'pending') ? rows : undefined;
      },
      30000,
    );
    // the first download of the good image was corrupted: retried, then stored
    assert.deepEqual(
      [jobs[0]!.status, jobs[0]!.actual_md5, Number(jobs[0]!.bytes)],
      ['done', md5Hex(content), content.length],
      jobs[0]!.last_error ?? '',
    );
    assert.deepEqual(
      [jobs[1]!.status, jobs[1]!.expected_md5, jobs[1]!.actual_md5],
      ['md5_mismatch', wrongMd5, md5Hex(odd)],
    );
    const mismatch = await eventually('media_md5_mismatch alert', async () =>
      (await alertsOf(corpId)).find((a) => a.kind === 'media_md5_mismatch'),
    );
    assert.equal(mismatch.msgid, 'img2');

    // read both back from recordings (the dev caller reads every corp) and compare byte for byte
    for (const [sdkfileid, expected] of [
      [goodId, content],
      [oddId, odd],
    ] as const) {
      const response = await fetch(
        `${settings.recordingsUrl}/v1/media/${corpId}/${wecomMediaId(sdkfileid)}?format=original`,
        {
          headers: callerHeaders(),
        },
      );
      assert.equal(response.status, 200);
      assert.ok(Buffer.from(await response.arrayBuffer()).equals(expected), 'stored bytes are the media');
    }
  });
});
