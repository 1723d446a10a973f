import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import type { ConflictingVersionReply, LoginReply, SearchReply, StoredObjectReply } from '@cz/contracts';
import { callArchiveId, createMainDataSource, createServer, keyProviderFromEnv } from '@cz/common';
import {
  buildArchiver,
  buildIngest,
  buildRecordings,
  callerHeaders,
  createTestDatabase,
  devCallerToken,
  eventually,
  loadStackEnv,
  md5,
  type TestDatabase,
  testSettings,
  uniqueCorp,
  wav,
} from '@cz/testkit';
import portal, { setUserScope, upsertUser, verifyAuditChain } from '@cz/portal';

loadStackEnv();
const keys = keyProviderFromEnv();

/**
 * The whole call path on the real stack: CDR → ingest → Kafka → archiver; audio → recordings →
 * MinIO, announced on cz.call.v1 → archiver links it; an auditor plays it through the portal,
 * which checks the session, writes the audit trail and relays Range requests.
 */
describe('call centre end to end: CDR, recording, audited playback (real stack)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let ingestApp: ReturnType<typeof createServer>;
  let archiverApp: ReturnType<typeof createServer>;
  let recordingsApp: Awaited<ReturnType<typeof buildRecordings>>;
  let portalApp: ReturnType<typeof createServer>;
  const settings = testSettings();
  const corpId = uniqueCorp('flow');
  const audio = wav(700_000);
  let auditor: string;
  let keeper: string;

  const login = async (username: string, password: string) => {
    const res = await portalApp.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { username, password },
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<LoginReply>().token;
  };

  before(async () => {
    db = await createTestDatabase();
    dataSource = createMainDataSource(db.config);
    await dataSource.initialize();
    ingestApp = await buildIngest(keys, 'cz-flow-ingest');
    archiverApp = await buildArchiver(db, keys, 'cz-flow-archiver');
    recordingsApp = await buildRecordings(db, keys, settings);
    await recordingsApp.listen({ host: '127.0.0.1', port: 0 });
    const { port } = recordingsApp.server.address() as AddressInfo;
    portalApp = createServer('portal', { logger: false });
    await portalApp.register(portal, {
      database: db.config,
      keys,
      cursorKey: randomBytes(32),
      // the portal presents its own caller credential (here the dev caller's, granted recordings.read)
      recordings: { url: `http://127.0.0.1:${port}`, token: devCallerToken() },
    });
    await portalApp.ready();
    await upsertUser(dataSource, {
      username: 'auditor',
      displayName: '审计员',
      roles: ['auditor'],
      password: 'Auditor#2026',
    });
    await setUserScope(dataSource, 'auditor', { all: true, units: [] }, 'test');
    await upsertUser(dataSource, {
      username: 'keeper',
      displayName: '密钥管理员',
      roles: ['security_officer'],
      password: 'Keeper#2026',
    });
    auditor = await login('auditor', 'Auditor#2026');
    keeper = await login('keeper', 'Keeper#2026');
  });
  after(async () => {
    await portalApp.close();
    await recordingsApp.close();
    await archiverApp.close();
    await ingestApp.close();
    await dataSource.destroy();
    await db.drop();
  });

  test('[REG-02] CDR and recording are archived and linked; an auditor plays it through the portal and the read is audited', async () => {
    const cdr = {
      corpId,
      callId: 'FLOW-1',
      agentId: 'agent-9',
      customerNumber: '13911112222',
      direction: 'outbound',
      startTime: '2026-11-24T06:00:00Z',
      endTime: '2026-11-24T06:03:00Z',
      businessType: 'insurance',
    };
    assert.equal(
      (await ingestApp.inject({ method: 'POST', url: '/v1/calls', headers: callerHeaders(), payload: cdr }))
        .statusCode,
      202,
    );
    const callPk = callArchiveId(corpId, 'FLOW-1');
    await eventually('the CDR archived', async () =>
      (await db.query('SELECT id FROM call_record WHERE id = ?', [callPk])).length ? true : undefined,
    );

    const put = await recordingsApp.inject({
      method: 'PUT',
      url: `/v1/recordings/FLOW-1?corpId=${corpId}`,
      headers: { 'content-type': 'audio/x-wav', ...callerHeaders() },
      payload: audio,
    });
    assert.equal(put.statusCode, 201, put.body);
    const stored = put.json<StoredObjectReply>();
    await eventually('the archiver linked the recording to its call', async () => {
      const [row] = await db.query<{ recording_id: string | null }>(
        'SELECT recording_id FROM call_record WHERE id = ?',
        [callPk],
      );
      return row?.recording_id === stored.id ? true : undefined;
    });

    const url = `/v1/calls/FLOW-1/recording?corpId=${corpId}`;
    const ranged = await portalApp.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${auditor}`, range: 'bytes=1000-1999' },
    });
    assert.equal(ranged.statusCode, 206, ranged.body);
    assert.equal(ranged.headers['content-range'], `bytes 1000-1999/${audio.length}`);
    assert.equal(ranged.headers['content-type'], 'audio/wav');
    assert.equal(ranged.headers['accept-ranges'], 'bytes');
    assert.ok(ranged.rawPayload.equals(audio.subarray(1000, 2000)));
    const whole = await portalApp.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${auditor}` },
    });
    assert.equal(whole.statusCode, 200);
    assert.ok(whole.rawPayload.equals(audio));

    const audits = await db.query<{
      actor: string;
      action: string;
      target: string;
      detail: string | Record<string, unknown>;
    }>(`SELECT actor, action, target, detail FROM audit_event WHERE action = 'recording.play' ORDER BY seq`);
    assert.equal(audits.length, 2, 'each read is in the audit trail');
    const detail = (d: string | Record<string, unknown>) =>
      (typeof d === 'string' ? JSON.parse(d) : d) as Record<string, unknown>;
    assert.equal(audits[0]!.actor, 'auditor');
    assert.equal(audits[0]!.target, `call:${callPk}`);
    assert.equal(detail(audits[0]!.detail).range, 'bytes=1000-1999');
    assert.equal(detail(audits[0]!.detail).status, 206);
    assert.equal(detail(audits[1]!.detail).range, null);
    assert.equal(await verifyAuditChain(dataSource), null);
  });

  test('[ISSUE-10] a second, different recording of the call is kept for review: its recording_conflict alert reaches the call, a reviewer finds it by search, and the original stays the one played', async () => {
    const second = wav(300_000);
    const put = await recordingsApp.inject({
      method: 'PUT',
      url: `/v1/recordings/FLOW-1?corpId=${corpId}`,
      headers: { 'content-type': 'audio/wav', ...callerHeaders() },
      payload: second,
    });
    assert.equal(put.statusCode, 409, put.body);
    const conflict = put.json<ConflictingVersionReply>();
    assert.equal(conflict.code, 'conflicting_version_kept');
    // the archiver's completeness sweep (every 5 s) publishes the alert outbox to cz.alert.v1; its
    // consumer stores the alert and attaches it to the call
    await eventually('the recording_conflict alert attached to the call', async () => {
      const rows = await db.query<{ kind: string }>(
        `SELECT kind FROM alert WHERE corp_id = ? AND kind = 'recording_conflict'`,
        [corpId],
      );
      return rows.length === 1 ? true : undefined;
    });
    // (the in-process archiver reads the topics from the start: earlier runs' FLOW-1 calls are here too)
    const found = await eventually('the call found by its alert kind', async () => {
      const res = await portalApp.inject({
        method: 'GET',
        url: `/v1/search?kind=call&alertKind=recording_conflict`,
        headers: { authorization: `Bearer ${auditor}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      const hit = res
        .json<SearchReply>()
        .items.find((h) => h.kind === 'call' && h.call.corpId === corpId && h.call.callId === 'FLOW-1');
      return hit?.kind === 'call' ? hit : undefined;
    });
    assert.deepEqual(found.alerts?.kinds, ['recording_conflict']);
    assert.equal(found.alerts?.severity, 'critical');
    assert.equal(found.call.recordingId, conflict.original.id, 'the call keeps its original recording');
    const played = await portalApp.inject({
      method: 'GET',
      url: `/v1/calls/FLOW-1/recording?corpId=${corpId}`,
      headers: { authorization: `Bearer ${auditor}` },
    });
    assert.equal(played.statusCode, 200);
    assert.ok(played.rawPayload.equals(audio), 'the original is played');
  });

  test('playback needs a session with a reading role; unknown calls and bad ranges are refused without an audit entry', async () => {
    const before = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM audit_event WHERE action = 'recording.play'`,
    );
    const url = `/v1/calls/FLOW-1/recording?corpId=${corpId}`;
    assert.equal((await portalApp.inject({ method: 'GET', url })).statusCode, 401);
    assert.equal(
      (await portalApp.inject({ method: 'GET', url, headers: { authorization: `Bearer ${keeper}` } }))
        .statusCode,
      403,
    );
    const unknown = await portalApp.inject({
      method: 'GET',
      url: `/v1/calls/NOPE/recording?corpId=${corpId}`,
      headers: { authorization: `Bearer ${auditor}` },
    });
    assert.equal(unknown.statusCode, 404);
    const beyond = await portalApp.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${auditor}`, range: `bytes=${audio.length}-` },
    });
    assert.equal(beyond.statusCode, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${audio.length}`);
    const malformed = await portalApp.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${auditor}`, range: 'bytes=9-1' },
    });
    assert.equal(malformed.statusCode, 400);
    const afterCount = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM audit_event WHERE action = 'recording.play'`,
    );
    assert.equal(
      Number(afterCount[0]!.n),
      Number(before[0]!.n),
      'refused reads show no content and are not plays',
    );
  });

  test('chat media through the portal: audited, and untrusted types are downloads in a sandbox, never pages', async () => {
    const html = Buffer.from('<html><script>alert(document.cookie)</script></html>');
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(2000, 1)]);
    for (const [mediaId, body, type] of [
      ['m-html', html, 'text/html'],
      ['m-png', png, 'image/png'],
    ] as const) {
      const res = await recordingsApp.inject({
        method: 'PUT',
        url: `/v1/media/${corpId}/${mediaId}`,
        headers: { 'content-type': type, 'x-cz-md5': md5(body), ...callerHeaders() },
        payload: body,
      });
      assert.equal(res.statusCode, 201, res.body);
    }
    const get = (mediaId: string) =>
      portalApp.inject({
        method: 'GET',
        url: `/v1/media/${corpId}/${mediaId}`,
        headers: { authorization: `Bearer ${auditor}` },
      });
    const page = await get('m-html');
    assert.equal(page.statusCode, 200);
    assert.ok(page.rawPayload.equals(html));
    assert.equal(page.headers['content-disposition'], 'attachment');
    assert.match(String(page.headers['content-security-policy']), /sandbox/);
    const image = await get('m-png');
    assert.equal(image.statusCode, 200);
    assert.equal(image.headers['content-type'], 'image/png');
    assert.equal(image.headers['content-disposition'], undefined, 'images are shown inline');
    const audits = await db.query<{ target: string }>(
      `SELECT target FROM audit_event WHERE action = 'media.view' ORDER BY seq`,
    );
    assert.deepEqual(
      audits.map((a) => a.target),
      [`media:${corpId}/m-html`, `media:${corpId}/m-png`],
    );
    assert.equal((await get('m-missing')).statusCode, 404);
  });
});
