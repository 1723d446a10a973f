import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Client } from 'minio';
import { createMinioClient, kafkaConfig, keyProviderFromEnv, minioConfig } from '@cz/common';
import type { ConflictingVersionReply, StoredObjectReply } from '@cz/contracts';
import { SEALED_MAGIC } from '@cz/common/crypto';
import {
  amr,
  archiveCall,
  buildRecordings,
  callEventsOf,
  createTestDatabase,
  eventually,
  loadStackEnv,
  md5,
  MiB,
  sm3,
  TEST_BUCKET,
  type TestDatabase,
  testSettings,
  uniqueCorp,
  wav,
} from '@cz/testkit';
import { bearer, StubCallerDirectory } from './stub-callers';

loadStackEnv();
const keys = keyProviderFromEnv();
const DAY = 24 * 3600 * 1000;

async function readObject(minio: Client, key: string, versionId: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await minio.getObject(TEST_BUCKET, key, { versionId }))
    chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function incompleteUploads(minio: Client, prefix: string): Promise<string[]> {
  // minio-js lists the uploads, then their parts: an upload aborted in between answers
  // NoSuchUpload, which means it is gone — list again
  for (let attempt = 1; ; attempt++) {
    try {
      const keysFound: string[] = [];
      for await (const item of minio.listIncompleteUploads(TEST_BUCKET, prefix, true)) {
        keysFound.push((item as { key: string }).key);
      }
      return keysFound;
    } catch (err) {
      if ((err as { code?: string }).code !== 'NoSuchUpload' || attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describe('recordings: streaming sealed upload and Range playback (real MinIO, MariaDB, Kafka)', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof buildRecordings>>;
  let minio: Client;
  const settings = testSettings();
  const callers = new StubCallerDirectory();
  const callerAuth = { directory: callers };
  /** the call centre's connector and the puller: uploads for every corp */
  const writer = callers.issue('call-centre', ['recordings.write']);
  /** the portal: reads for every corp */
  const reader = callers.issue('portal', ['recordings.read']);
  const auth = bearer(reader);

  before(async () => {
    db = await createTestDatabase();
    app = await buildRecordings(db, keys, settings, undefined, undefined, callerAuth);
    minio = createMinioClient(minioConfig());
  });
  after(async () => {
    await app.close();
    await db.drop();
  });

  const put = (
    corpId: string,
    callId: string,
    payload: Buffer | Readable,
    headers: Record<string, string> = {},
  ) =>
    app.inject({
      method: 'PUT',
      url: `/v1/recordings/${callId}?corpId=${corpId}`,
      headers: { 'content-type': 'audio/wav', ...bearer(writer), ...headers },
      payload,
    });
  const rowsOf = (corpId: string) =>
    db.query<{ id: string; status: string; slot: number | null; object_key: string; error: string | null }>(
      'SELECT id, status, slot, object_key, error FROM recording_object WHERE corp_id = ? ORDER BY started_at',
      [corpId],
    );

  describe('a stored recording', () => {
    const corpId = uniqueCorp('rec');
    const audio = wav(6 * MiB + 12345); // two multipart parts of 5 MiB + the rest
    let stored: StoredObjectReply;

    before(async () => {
      await archiveCall(db, keys, corpId, 'CALL-1');
      const res = await put(corpId, 'CALL-1', Readable.from([audio.subarray(0, 1000), audio.subarray(1000)]));
      assert.equal(res.statusCode, 201, res.body);
      stored = res.json<StoredObjectReply>();
    });

    test('[REG-02][REG-06] is sealed (no plaintext in MinIO), COMPLIANCE-locked for 2 years, and recorded by versionId', async () => {
      assert.equal(stored.plaintextSize, audio.length);
      assert.equal(stored.sm3, sm3(audio));
      assert.equal(stored.md5, md5(audio));
      assert.equal(stored.contentType, 'audio/wav');
      assert.equal(stored.announced, true);
      const [row] = await db.query<Record<string, unknown>>('SELECT * FROM recording_object WHERE id = ?', [
        stored.id,
      ]);
      assert.equal(row!.status, 'complete');
      assert.equal(row!.version_id, stored.versionId);
      assert.equal(Number(row!.sealed_size), stored.sealedSize);
      const key = row!.object_key as string;

      const object = await readObject(minio, key, stored.versionId);
      assert.equal(object.length, stored.sealedSize);
      assert.ok(object.subarray(0, 4).equals(SEALED_MAGIC), 'the object is a sealed CZS1 object');
      assert.ok(
        (row!.sealed_header as Buffer).equals(object.subarray(0, (row!.sealed_header as Buffer).length)),
      );
      for (const at of [44, 70_000, 3 * MiB, audio.length - 64]) {
        assert.ok(!object.includes(audio.subarray(at, at + 32)), `plaintext bytes at ${at} found in MinIO`);
      }

      const retention = (await minio.getObjectRetention(TEST_BUCKET, key, {
        versionId: stored.versionId,
      })) as {
        mode: string;
        retainUntilDate: string;
      };
      assert.equal(retention.mode, 'COMPLIANCE');
      const until = new Date(retention.retainUntilDate).getTime();
      assert.ok(until >= Date.now() + 729 * DAY, `retained until ${retention.retainUntilDate}`);
      assert.equal(new Date(stored.retainUntil).getTime(), until);
      await assert.rejects(
        minio.removeObject(TEST_BUCKET, key, { versionId: stored.versionId }),
        'a locked version cannot be deleted',
      );
    });

    test('[REG-02] is announced on cz.call.v1, sealed and keyed by the customer', async () => {
      const events = await callEventsOf(keys, corpId, 1);
      const event = events.find((e) => e.value.kind === 'recording');
      assert.ok(event, 'a recording event');
      assert.equal(event.value.recordingId, stored.id);
      assert.equal(event.value.callId, 'CALL-1');
      assert.equal(event.value.versionId, stored.versionId);
      assert.equal(event.value.sm3, stored.sm3);
      const [call] = await db.query<{ customer_index: string }>(
        'SELECT customer_index FROM call_record WHERE corp_id = ?',
        [corpId],
      );
      assert.equal(event.key, String(call!.customer_index));
    });

    test('GET returns it whole: 200, the right type and length, byte for byte', async () => {
      const res = await app.inject({
        method: 'GET',
        url: `/v1/recordings/CALL-1?corpId=${corpId}`,
        headers: auth,
      });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'audio/wav');
      assert.equal(res.headers['accept-ranges'], 'bytes');
      assert.equal(Number(res.headers['content-length']), audio.length);
      assert.ok(res.rawPayload.equals(audio));
    });

    test('Range reads return exactly the bytes asked for (206, Content-Range), across segment and part borders', async () => {
      const seg = 64 * 1024;
      const cases: [string, number, number][] = [
        ['bytes=0-0', 0, 1],
        ['bytes=0-43', 0, 44],
        [`bytes=${seg - 1}-${seg}`, seg - 1, seg + 1],
        [`bytes=${seg}-${3 * seg + 10}`, seg, 3 * seg + 11],
        [`bytes=${5 * MiB - 7}-${5 * MiB + 7}`, 5 * MiB - 7, 5 * MiB + 8],
        [`bytes=${audio.length - 1}-`, audio.length - 1, audio.length],
        ['bytes=-100', audio.length - 100, audio.length],
        [`bytes=${audio.length - 10}-${audio.length + 1000}`, audio.length - 10, audio.length],
      ];
      for (const [range, start, end] of cases) {
        const res = await app.inject({
          method: 'GET',
          url: `/v1/recordings/CALL-1?corpId=${corpId}`,
          headers: { ...auth, range },
        });
        assert.equal(res.statusCode, 206, range);
        assert.equal(res.headers['content-range'], `bytes ${start}-${end - 1}/${audio.length}`, range);
        assert.equal(Number(res.headers['content-length']), end - start, range);
        assert.ok(res.rawPayload.equals(audio.subarray(start, end)), `body of ${range}`);
      }
    });

    test('Range out of bounds is 416 with the size; malformed or multiple ranges are 400', async () => {
      const url = `/v1/recordings/CALL-1?corpId=${corpId}`;
      const beyond = await app.inject({
        method: 'GET',
        url,
        headers: { ...auth, range: `bytes=${audio.length}-` },
      });
      assert.equal(beyond.statusCode, 416);
      assert.equal(beyond.headers['content-range'], `bytes */${audio.length}`);
      assert.equal(beyond.json<{ code: string }>().code, 'range_not_satisfiable');
      for (const range of ['bytes=10-5', 'bytes=abc', 'pages=1-2', 'bytes=0-1,4-5']) {
        const res = await app.inject({ method: 'GET', url, headers: { ...auth, range } });
        assert.equal(res.statusCode, 400, range);
        assert.equal(res.json<{ code: string }>().code, 'bad_range');
      }
    });

    test("[ISSUE-10] reading needs a caller with recordings.read for the corp: 401 without or with an unknown credential, 403 for an uploader or another corp's reader", async () => {
      const url = `/v1/recordings/CALL-1?corpId=${corpId}`;
      const none = await app.inject({ method: 'GET', url });
      assert.equal(none.statusCode, 401);
      assert.equal(none.json<{ code: string }>().code, 'unauthorized');
      for (const token of [`cks_${'x'.repeat(43)}`, 'x'.repeat(48)]) {
        const unknown = await app.inject({ method: 'GET', url, headers: bearer(token) });
        assert.equal(unknown.statusCode, 401, token);
        assert.ok(!unknown.body.includes('RIFF'), 'no content');
      }
      const uploader = await app.inject({ method: 'GET', url, headers: bearer(writer) });
      assert.equal(uploader.statusCode, 403);
      assert.equal(uploader.json<{ code: string }>().code, 'operation_not_allowed');
      const branchReader = callers.issue('branch-reader', ['recordings.read'], ['another-corp']);
      const foreign = await app.inject({ method: 'GET', url, headers: bearer(branchReader) });
      assert.equal(foreign.statusCode, 403);
      assert.equal(foreign.json<{ code: string }>().code, 'corp_not_allowed');
      const missing = await app.inject({
        method: 'GET',
        url: `/v1/recordings/NOPE?corpId=${corpId}`,
        headers: auth,
      });
      assert.equal(missing.statusCode, 404);
    });

    test('[ISSUE-10] the stored recording records who uploaded it', async () => {
      const [row] = await db.query<{ uploaded_by: string | null }>(
        'SELECT uploaded_by FROM recording_object WHERE id = ?',
        [stored.id],
      );
      assert.equal(row!.uploaded_by, 'call-centre');
    });
  });

  describe('[ISSUE-10] a second upload for a stored call: never overwritten, never dropped, kept for review', () => {
    const corpId = uniqueCorp('conflict');
    const original = wav(300_000);
    const forged = wav(200_000);
    let first: StoredObjectReply;
    let conflict: ConflictingVersionReply;
    const objectsOf = () =>
      db.query<{
        id: string;
        status: string;
        slot: number | null;
        conflict_of: string | null;
        uploaded_by: string | null;
        object_key: string;
        version_id: string | null;
        announced_at: Date | null;
      }>(
        `SELECT id, status, slot, conflict_of, uploaded_by, object_key, version_id, announced_at
           FROM recording_object WHERE corp_id = ? AND kind = 'call' ORDER BY started_at`,
        [corpId],
      );
    const conflictsOf = () =>
      db.query<Record<string, unknown>>(
        'SELECT * FROM recording_conflict WHERE corp_id = ? ORDER BY received_at',
        [corpId],
      );
    const alertsOf = () =>
      db.query<{ kind: string; severity: string; source: string; detail: string | Record<string, unknown> }>(
        'SELECT kind, severity, source, detail FROM completeness_alert WHERE corp_id = ? ORDER BY raised_at',
        [corpId],
      );

    before(async () => {
      await archiveCall(db, keys, corpId, 'CALL-X');
      const res = await put(corpId, 'CALL-X', original);
      assert.equal(res.statusCode, 201, res.body);
      first = res.json<StoredObjectReply>();
    });

    test('[ISSUE-10] different audio: 409 conflicting_version_kept, stored sealed and COMPLIANCE-locked as a version of its own, with a review record and a critical alert', async () => {
      const otherUploader = callers.issue('crm-connector', ['recordings.write'], [corpId]);
      const res = await put(corpId, 'CALL-X', forged, bearer(otherUploader));
      assert.equal(res.statusCode, 409, res.body);
      conflict = res.json<ConflictingVersionReply>();
      assert.equal(conflict.code, 'conflicting_version_kept');
      assert.deepEqual(conflict.original, {
        id: first.id,
        sm3: sm3(original),
        plaintextSize: original.length,
      });
      assert.equal(conflict.kept.sm3, sm3(forged));
      assert.equal(conflict.kept.plaintextSize, forged.length);
      assert.notEqual(conflict.kept.id, first.id);

      const objects = await objectsOf();
      assert.deepEqual(
        objects.map((o) => [o.id, o.status, o.slot, o.conflict_of, o.uploaded_by]),
        [
          [first.id, 'complete', 1, null, 'call-centre'],
          [conflict.kept.id, 'complete', null, first.id, 'crm-connector'],
        ],
      );
      const keptRow = objects[1]!;
      assert.equal(keptRow.announced_at, null, 'a conflicting version is never announced');
      assert.notEqual(keptRow.object_key, objects[0]!.object_key, 'a key of its own: nothing overwritten');
      const sealed = await readObject(minio, keptRow.object_key, keptRow.version_id!);
      assert.ok(sealed.subarray(0, 4).equals(SEALED_MAGIC), 'sealed like any object');
      assert.ok(!sealed.includes(forged.subarray(1000, 1032)), 'no plaintext in MinIO');
      const retention = (await minio.getObjectRetention(TEST_BUCKET, keptRow.object_key, {
        versionId: keptRow.version_id!,
      })) as { mode: string; retainUntilDate: string };
      assert.equal(retention.mode, 'COMPLIANCE');
      assert.ok(new Date(retention.retainUntilDate).getTime() >= Date.now() + 729 * DAY);
      await assert.rejects(
        minio.removeObject(TEST_BUCKET, keptRow.object_key, { versionId: keptRow.version_id! }),
        'the kept version is locked too',
      );
      // the original is untouched
      const originalObject = await readObject(minio, objects[0]!.object_key, objects[0]!.version_id!);
      assert.equal(originalObject.length, first.sealedSize);

      const [review] = await conflictsOf();
      assert.equal(review!.id, conflict.conflictId);
      assert.equal(review!.kind, 'call');
      assert.equal(review!.owner_id, 'CALL-X');
      assert.equal(review!.original_id, first.id);
      assert.equal(review!.object_id, conflict.kept.id);
      assert.equal(review!.uploaded_by, 'crm-connector');
      assert.equal(review!.original_uploaded_by, 'call-centre');
      assert.ok(review!.received_at instanceof Date);
      assert.deepEqual(
        [Number(review!.original_size), review!.original_sm3, review!.original_md5],
        [original.length, sm3(original), md5(original)],
      );
      assert.deepEqual(
        [Number(review!.conflict_size), review!.conflict_sm3, review!.conflict_md5],
        [forged.length, sm3(forged), md5(forged)],
      );
      assert.equal(review!.review_state, 'open');

      const alerts = await alertsOf();
      assert.equal(alerts.length, 1);
      assert.deepEqual(
        [alerts[0]!.kind, alerts[0]!.severity, alerts[0]!.source],
        ['recording_conflict', 'critical', 'recordings'],
      );
      const detail = alerts[0]!.detail;
      const alert = (typeof detail === 'string' ? JSON.parse(detail) : detail) as {
        id: string;
        callId: string;
        detail: Record<string, unknown>;
      };
      assert.equal(alert.id, review!.alert_id);
      assert.equal(alert.callId, 'CALL-X', 'the archiver attaches it to the call');
      assert.deepEqual(alert.detail, {
        conflictId: conflict.conflictId,
        object: 'call',
        originalId: first.id,
        keptId: conflict.kept.id,
        uploadedBy: 'crm-connector',
      });
    });

    test('[ISSUE-10] the original stays the one played', async () => {
      const res = await app.inject({
        method: 'GET',
        url: `/v1/recordings/CALL-X?corpId=${corpId}`,
        headers: auth,
      });
      assert.equal(res.statusCode, 200);
      assert.ok(res.rawPayload.equals(original));
    });

    test('[ISSUE-10] the same conflicting audio again answers the kept conflict: nothing new stored or alerted', async () => {
      const res = await put(corpId, 'CALL-X', forged);
      assert.equal(res.statusCode, 409, res.body);
      const again = res.json<ConflictingVersionReply>();
      assert.equal(again.conflictId, conflict.conflictId);
      assert.equal(again.kept.id, conflict.kept.id);
      assert.equal((await conflictsOf()).length, 1);
      assert.equal((await alertsOf()).length, 1);
      assert.equal((await objectsOf()).filter((o) => o.status === 'complete').length, 2);
    });

    test('[ISSUE-10] an identical re-upload of the original is idempotent: 200 with the stored recording, no object, no conflict, no alert', async () => {
      const res = await put(
        corpId,
        'CALL-X',
        Readable.from([original.subarray(0, 5000), original.subarray(5000)]),
      );
      assert.equal(res.statusCode, 200, res.body);
      const same = res.json<StoredObjectReply>();
      assert.equal(same.id, first.id);
      assert.equal(same.sm3, sm3(original));
      assert.equal((await conflictsOf()).length, 1);
      assert.equal((await alertsOf()).length, 1);
      const objects = await objectsOf();
      assert.equal(objects.filter((o) => o.status === 'complete').length, 2);
      const identical = objects.filter((o) => o.status === 'identical');
      assert.equal(identical.length, 2, 'both repeats are on record, as not stored');
      for (const row of identical) {
        await assert.rejects(
          minio.statObject(TEST_BUCKET, row.object_key),
          'nothing was stored for a repeat',
        );
        await eventually(
          "the repeat's multipart upload was aborted",
          async () => ((await incompleteUploads(minio, row.object_key)).length === 0 ? true : undefined),
          10000,
        );
      }
    });
  });

  describe('[ISSUE-10] only authenticated writers add recordings and media', () => {
    test('[ISSUE-10] unauthenticated write → 401, nothing stored (no credential, malformed, unknown, revoked)', async () => {
      const corpId = uniqueCorp('anon');
      await archiveCall(db, keys, corpId, 'ANON');
      const revoked = callers.issue('retired-connector', ['recordings.write']);
      callers.revoke(revoked);
      for (const headers of [
        {},
        { authorization: 'Basic dXNlcjpwYXNz' },
        bearer('x'.repeat(48)),
        bearer(`cks_${'u'.repeat(43)}`),
        bearer(revoked),
      ] as Record<string, string>[]) {
        const res = await app.inject({
          method: 'PUT',
          url: `/v1/recordings/ANON?corpId=${corpId}`,
          headers: { 'content-type': 'audio/wav', ...headers },
          payload: wav(1000),
        });
        assert.equal(res.statusCode, 401, JSON.stringify(headers));
        assert.equal(res.headers.connection, 'close', 'the client stops pushing a body nobody reads');
        const media = await app.inject({
          method: 'PUT',
          url: `/v1/media/${corpId}/m-anon`,
          headers: { 'content-type': 'image/png', 'x-cz-md5': md5(Buffer.from('x')), ...headers },
          payload: Buffer.from('x'),
        });
        assert.equal(media.statusCode, 401, JSON.stringify(headers));
      }
      assert.deepEqual(await rowsOf(corpId), [], 'nothing claimed, nothing stored');
    });

    test('[ISSUE-10] valid credential, foreign corp → 403, nothing stored', async () => {
      const corpId = uniqueCorp('victim');
      await archiveCall(db, keys, corpId, 'VICTIM');
      const branchWriter = callers.issue('branch-puller', ['recordings.write'], ['another-corp']);
      const res = await put(corpId, 'VICTIM', wav(1000), bearer(branchWriter));
      assert.equal(res.statusCode, 403);
      assert.equal(res.json<{ code: string }>().code, 'corp_not_allowed');
      const media = await app.inject({
        method: 'PUT',
        url: `/v1/media/${corpId}/m-1`,
        headers: { 'content-type': 'image/png', 'x-cz-md5': md5(Buffer.from('x')), ...bearer(branchWriter) },
        payload: Buffer.from('x'),
      });
      assert.equal(media.statusCode, 403);
      assert.deepEqual(await rowsOf(corpId), []);
      // the same credential writes for its own corp
      await archiveCall(db, keys, 'another-corp', `OWN-${corpId}`);
      assert.equal(
        (await put('another-corp', `OWN-${corpId}`, wav(1000), bearer(branchWriter))).statusCode,
        201,
      );
    });

    test('[ISSUE-10] a reader cannot write: 403 operation_not_allowed, nothing stored', async () => {
      const corpId = uniqueCorp('reader');
      await archiveCall(db, keys, corpId, 'R');
      const res = await put(corpId, 'R', wav(1000), bearer(reader));
      assert.equal(res.statusCode, 403);
      assert.equal(res.json<{ code: string }>().code, 'operation_not_allowed');
      assert.deepEqual(await rowsOf(corpId), []);
    });
  });

  describe('bad uploads: a precise 4xx and nothing recorded as complete', () => {
    test('a recording for a call with no archived CDR: 409, nothing stored', async () => {
      const corpId = uniqueCorp('rec');
      const res = await put(corpId, 'NO-CDR', wav(1000));
      assert.equal(res.statusCode, 409);
      assert.equal(res.json<{ code: string }>().code, 'call_not_archived');
      assert.deepEqual(await rowsOf(corpId), []);
    });

    test('a wrong content type: 415 (declared), and 415 when the body is not what it declares', async () => {
      const corpId = uniqueCorp('rec');
      await archiveCall(db, keys, corpId, 'C');
      const declared = await put(corpId, 'C', wav(1000), { 'content-type': 'text/plain' });
      assert.equal(declared.statusCode, 415);
      assert.equal(declared.json<{ code: string }>().code, 'unsupported_media_type');
      const json = await put(corpId, 'C', Buffer.from('{"a":1}'), { 'content-type': 'application/json' });
      assert.equal(json.statusCode, 415);
      const lying = await put(corpId, 'C', amr(2), { 'content-type': 'audio/wav' });
      assert.equal(lying.statusCode, 415);
      assert.equal(lying.json<{ code: string }>().code, 'content_mismatch');
      const rows = await rowsOf(corpId);
      assert.deepEqual(
        rows.map((r) => [r.status, r.slot]),
        [['failed', null]],
      );
      // the abort may finish just after the reply: allow it a moment, then the list must be empty
      await eventually(
        'the multipart upload was aborted',
        async () => ((await incompleteUploads(minio, rows[0]!.object_key)).length === 0 ? true : undefined),
        10000,
      );
      await assert.rejects(minio.statObject(TEST_BUCKET, rows[0]!.object_key), 'no object exists');
    });

    test('over the size limit: 413 from Content-Length before reading, and 413 mid-stream for chunked bodies; the partial object is not referenced', async () => {
      const corpId = uniqueCorp('rec');
      await archiveCall(db, keys, corpId, 'BIG');
      const announced = await put(corpId, 'BIG', Buffer.alloc(0), {
        'content-length': String(settings.maxRecordingBytes + 1),
      });
      assert.equal(announced.statusCode, 413);
      assert.deepEqual(await rowsOf(corpId), [], 'refused before anything was claimed');

      const big = wav(settings.maxRecordingBytes); // 44 bytes over the limit
      const chunked = await put(
        corpId,
        'BIG',
        Readable.from([big.subarray(0, 7 * MiB), big.subarray(7 * MiB)]),
      );
      assert.equal(chunked.statusCode, 413);
      assert.equal(chunked.json<{ code: string }>().code, 'too_large');
      const rows = await rowsOf(corpId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.status, 'failed');
      assert.match(rows[0]!.error ?? '', /too_large/);
      // the abort may finish just after the reply: allow it a moment, then the list must be empty
      await eventually(
        'uploaded parts were aborted',
        async () => ((await incompleteUploads(minio, rows[0]!.object_key)).length === 0 ? true : undefined),
        10000,
      );
      await assert.rejects(minio.statObject(TEST_BUCKET, rows[0]!.object_key), 'no object exists');
      // the call can still get its recording
      assert.equal((await put(corpId, 'BIG', wav(1000))).statusCode, 201);
    });

    test('a body shorter than its Content-Length: 400 truncated_upload, nothing complete', async () => {
      const corpId = uniqueCorp('rec');
      await archiveCall(db, keys, corpId, 'T');
      const body = wav(200_000);
      const res = await put(corpId, 'T', Readable.from([body]), {
        'content-length': String(body.length + 5000),
      });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json<{ code: string }>().code, 'truncated_upload');
      const rows = await rowsOf(corpId);
      assert.deepEqual(
        rows.map((r) => r.status),
        ['failed'],
      );
      await assert.rejects(minio.statObject(TEST_BUCKET, rows[0]!.object_key));
    });

    test('a client that disconnects mid-upload (after a multipart part was stored): the upload is aborted, nothing complete', async () => {
      const corpId = uniqueCorp('rec');
      await archiveCall(db, keys, corpId, 'ABORT');
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      const total = 11 * MiB;
      const sent = wav(6 * MiB);
      const socket = connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write(
        `PUT /v1/recordings/ABORT?corpId=${corpId} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\nAuthorization: Bearer ${writer}\r\nContent-Length: ${total}\r\n\r\n`,
      );
      await new Promise<void>((resolve) => socket.write(sent, () => resolve()));
      // wait until the service is uploading (a 5 MiB part has gone to MinIO), then cut the line
      const [uploading] = await eventually('the upload in progress', async () => {
        const rows = await rowsOf(corpId);
        return rows[0] && (await incompleteUploads(minio, rows[0].object_key)).length > 0 ? rows : undefined;
      });
      socket.destroy();
      const failed = await eventually('the upload marked failed', async () => {
        const [row] = await rowsOf(corpId);
        return row?.status === 'failed' ? row : undefined;
      });
      assert.equal(failed.id, uploading!.id);
      assert.equal(failed.slot, null);
      assert.match(failed.error ?? '', /aborted|premature|ECONNRESET/i);
      await eventually('the multipart upload aborted', async () =>
        (await incompleteUploads(minio, failed.object_key)).length === 0 ? true : undefined,
      );
      await assert.rejects(minio.statObject(TEST_BUCKET, failed.object_key), 'no object exists');
    });
  });

  describe('stuck uploads and Kafka outages', () => {
    test('a concurrent upload of the same call is refused (409); one that stopped making progress is taken over', async () => {
      const corpId = uniqueCorp('rec');
      await archiveCall(db, keys, corpId, 'STUCK');
      const insertUploading = (id: string, updatedAt: Date) =>
        db.query(
          `INSERT INTO recording_object (id, kind, corp_id, owner_id, slot, status, bucket, object_key, content_type, started_at, updated_at)
           VALUES (?, 'call', ?, 'STUCK', 1, 'uploading', ?, ?, 'audio/wav', ?, ?)`,
          [id, corpId, TEST_BUCKET, `call/${corpId}/STUCK/${id}.czs`, updatedAt, updatedAt],
        );
      await insertUploading('1'.repeat(32), new Date());
      const busy = await put(corpId, 'STUCK', wav(1000));
      assert.equal(busy.statusCode, 409);
      assert.equal(busy.json<{ code: string }>().code, 'upload_in_progress');

      await db.query('UPDATE recording_object SET updated_at = ? WHERE id = ?', [
        new Date(Date.now() - settings.staleUploadMs - 1000),
        '1'.repeat(32),
      ]);
      const res = await put(corpId, 'STUCK', wav(1000));
      assert.equal(res.statusCode, 201, res.body);
      const rows = await db.query<{ id: string; status: string; error: string | null }>(
        'SELECT id, status, error FROM recording_object WHERE corp_id = ? ORDER BY started_at, status',
        [corpId],
      );
      const abandoned = rows.find((r) => r.id === '1'.repeat(32));
      assert.equal(abandoned?.status, 'failed');
      assert.match(abandoned?.error ?? '', /abandoned/);
      assert.equal(rows.filter((r) => r.status === 'complete').length, 1);
    });

    test('[REG-02] a recording stored while Kafka is down is kept, and announced by the outbox sweep once Kafka is back', async () => {
      const corpId = uniqueCorp('outbox');
      await archiveCall(db, keys, corpId, 'OUT-1');
      const offline = await buildRecordings(
        db,
        keys,
        settings,
        { ...kafkaConfig('cz-rec-offline'), brokers: ['127.0.0.1:9'] },
        undefined,
        callerAuth,
      );
      let stored: StoredObjectReply;
      try {
        const res = await offline.inject({
          method: 'PUT',
          url: `/v1/recordings/OUT-1?corpId=${corpId}`,
          headers: { 'content-type': 'audio/wav', ...bearer(writer) },
          payload: wav(5000),
        });
        assert.equal(res.statusCode, 201, res.body);
        stored = res.json<StoredObjectReply>();
        assert.equal(stored.announced, false);
      } finally {
        await offline.close();
      }
      const sweeping = await buildRecordings(
        db,
        keys,
        settings,
        kafkaConfig('cz-rec-sweep'),
        { everyMs: 200, graceMs: 0 },
        callerAuth,
      );
      try {
        await eventually('the recording announced', async () => {
          const [row] = await db.query<{ announced_at: Date | null }>(
            'SELECT announced_at FROM recording_object WHERE id = ?',
            [stored.id],
          );
          return row?.announced_at ? true : undefined;
        });
        const events = await callEventsOf(keys, corpId, 1);
        assert.equal(events[0]!.value.recordingId, stored.id);
      } finally {
        await sweeping.close();
      }
    });
  });

  describe('AMR recordings', () => {
    const corpId = uniqueCorp('amr');
    const audio = amr(4);

    before(async () => {
      await archiveCall(db, keys, corpId, 'AMR-1');
      const res = await put(corpId, 'AMR-1', audio, { 'content-type': 'audio/amr' });
      assert.equal(res.statusCode, 201, res.body);
    });

    test('play as MP3 (transcoded once with ffmpeg, kept sealed); ?format=original serves the AMR', async () => {
      const url = `/v1/recordings/AMR-1?corpId=${corpId}`;
      const first = await app.inject({ method: 'GET', url, headers: auth });
      // 503 transcoder_unavailable here means ffmpeg is missing (scripts/stack/install.sh installs Debian's)
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.headers['content-type'], 'audio/mpeg');
      assert.equal(first.headers['x-cz-transcoded-from'], 'audio/amr');
      const mp3 = first.rawPayload;
      assert.ok(mp3.length > 4000, `an MP3 of 4 s, got ${mp3.length} bytes`);
      assert.ok(
        mp3[0] === 0xff || mp3.subarray(0, 3).toString() === 'ID3',
        'starts with an MP3 frame or tag',
      );

      const range = await app.inject({ method: 'GET', url, headers: { ...auth, range: 'bytes=100-199' } });
      assert.equal(range.statusCode, 206);
      assert.ok(range.rawPayload.equals(mp3.subarray(100, 200)), 'the transcode is stored, not remade');
      const derived = await db.query<{ status: string; content_type: string; retain_until: Date }>(
        `SELECT status, content_type, retain_until FROM recording_object WHERE kind = 'derived' AND corp_id = ?`,
        [corpId],
      );
      assert.deepEqual(
        derived.map((d) => [d.status, d.content_type]),
        [['complete', 'audio/mpeg']],
      );

      const original = await app.inject({ method: 'GET', url: `${url}&format=original`, headers: auth });
      assert.equal(original.statusCode, 200);
      assert.equal(original.headers['content-type'], 'audio/amr');
      assert.ok(original.rawPayload.equals(audio));
    });
  });

  describe('chat media: PUT /v1/media/{corpId}/{mediaId} with x-cz-md5', () => {
    const corpId = uniqueCorp('media');
    const image = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(300_000, 9)]);
    const putMedia = (mediaId: string, body: Buffer, headers: Record<string, string>) =>
      app.inject({
        method: 'PUT',
        url: `/v1/media/${corpId}/${mediaId}`,
        headers: { 'content-type': 'image/png', ...bearer(writer), ...headers },
        payload: body,
      });

    test('[REG-01] stored sealed for 5 years; a retry with the same md5 is 200 without re-upload; GET streams it back', async () => {
      const res = await putMedia('msg-1', image, { 'x-cz-md5': md5(image) });
      assert.equal(res.statusCode, 201, res.body);
      const stored = res.json<StoredObjectReply>();
      assert.equal(stored.md5, md5(image));
      assert.ok(new Date(stored.retainUntil).getTime() >= Date.now() + 1826 * DAY);
      const again = await putMedia('msg-1', image, { 'x-cz-md5': md5(image).toUpperCase() });
      assert.equal(again.statusCode, 200);
      assert.equal(again.json<StoredObjectReply>().id, stored.id);
      const got = await app.inject({ method: 'GET', url: `/v1/media/${corpId}/msg-1`, headers: auth });
      assert.equal(got.statusCode, 200);
      assert.equal(got.headers['content-type'], 'image/png');
      assert.ok(got.rawPayload.equals(image));
    });

    test('[ISSUE-10] different media under a stored media id: kept locked as a conflicting version (409) and alerted; the same content again answers that conflict without being stored again; GET serves the original', async () => {
      const first = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(5000, 1)]);
      const second = Buffer.from('different');
      assert.equal((await putMedia('msg-c', first, { 'x-cz-md5': md5(first) })).statusCode, 201);
      const other = await putMedia('msg-c', second, { 'x-cz-md5': md5(second) });
      assert.equal(other.statusCode, 409, other.body);
      const conflict = other.json<ConflictingVersionReply>();
      assert.equal(conflict.code, 'conflicting_version_kept');
      assert.equal(conflict.kept.md5, md5(second));
      assert.equal(conflict.original.sm3, sm3(first));
      const again = await putMedia('msg-c', second, { 'x-cz-md5': md5(second) });
      assert.equal(again.statusCode, 409);
      assert.equal(again.json<ConflictingVersionReply>().conflictId, conflict.conflictId);
      const rows = await db.query<{ status: string; conflict_of: string | null }>(
        `SELECT status, conflict_of FROM recording_object WHERE corp_id = ? AND owner_id = 'msg-c' ORDER BY started_at`,
        [corpId],
      );
      assert.deepEqual(
        rows.map((r) => [r.status, r.conflict_of]),
        [
          ['complete', null],
          ['complete', conflict.original.id],
        ],
        'the repeat was answered from its md5, nothing claimed',
      );
      const alerts = await db.query<{ kind: string; detail: string | Record<string, unknown> }>(
        `SELECT kind, detail FROM completeness_alert WHERE corp_id = ? AND kind = 'recording_conflict'`,
        [corpId],
      );
      assert.equal(alerts.length, 1);
      const detail = alerts[0]!.detail;
      const alert = (typeof detail === 'string' ? JSON.parse(detail) : detail) as {
        detail: Record<string, unknown>;
      };
      assert.equal(alert.detail.mediaId, 'msg-c');
      assert.equal(alert.detail.conflictId, conflict.conflictId);
      const got = await app.inject({ method: 'GET', url: `/v1/media/${corpId}/msg-c`, headers: auth });
      assert.ok(got.rawPayload.equals(first), 'the original stays the one served');
    });

    test('a streaming client re-sending stored media gets 200 at once and can finish its body without a reset', async () => {
      const body = Buffer.alloc(4 * 1024 * 1024 - 1, 3);
      assert.equal((await putMedia('msg-stream', body, { 'x-cz-md5': md5(body) })).statusCode, 201);
      if (!app.server.listening) await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      const outcome = await new Promise<{ status: number; error?: Error }>((resolve) => {
        let status = 0;
        const req = request({
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: `/v1/media/${corpId}/msg-stream`,
          headers: { 'content-type': 'application/octet-stream', 'x-cz-md5': md5(body), ...bearer(writer) },
        });
        req.on('response', (res) => {
          status = res.statusCode ?? 0;
          res.resume();
          // keep streaming after the answer, like the puller does
          const rest = [body.subarray(MiB, 2 * MiB), body.subarray(2 * MiB)];
          const next = () => {
            const chunk = rest.shift();
            if (chunk) req.write(chunk, next);
            else req.end(() => resolve({ status }));
          };
          next();
        });
        req.on('error', (error) => resolve({ status, error }));
        req.write(body.subarray(0, MiB));
      });
      assert.equal(outcome.error, undefined, String(outcome.error));
      assert.equal(outcome.status, 200);
    });

    test('md5 mismatch: 422 and nothing stored; with x-cz-md5-mismatch: keep it is stored with both digests', async () => {
      const claimed = md5(Buffer.from('what WeCom said'));
      const res = await putMedia('msg-2', image, { 'x-cz-md5': claimed });
      assert.equal(res.statusCode, 422);
      assert.equal(res.json<{ code: string }>().code, 'md5_mismatch');
      const [row] = await db.query<{ status: string; object_key: string }>(
        `SELECT status, object_key FROM recording_object WHERE corp_id = ? AND owner_id = 'msg-2'`,
        [corpId],
      );
      assert.equal(row!.status, 'failed');
      await assert.rejects(minio.statObject(TEST_BUCKET, row!.object_key), 'no object exists');
      const missing = await app.inject({ method: 'GET', url: `/v1/media/${corpId}/msg-2`, headers: auth });
      assert.equal(missing.statusCode, 404);

      const kept = await putMedia('msg-2', image, { 'x-cz-md5': claimed, 'x-cz-md5-mismatch': 'keep' });
      assert.equal(kept.statusCode, 201);
      assert.deepEqual(kept.json<StoredObjectReply>().md5Mismatch, { expected: claimed, actual: md5(image) });
    });

    test('x-cz-md5 is required and must be an md5', async () => {
      for (const headers of [{}, { 'x-cz-md5': 'abc' }] as Record<string, string>[]) {
        const res = await putMedia('msg-3', image, headers);
        assert.equal(res.statusCode, 400);
        assert.equal(res.json<{ code: string }>().code, 'bad_md5_header');
      }
    });

    test('over the media limit: 413', async () => {
      const big = Buffer.alloc(settings.maxMediaBytes + 1);
      const res = await putMedia('msg-4', big, { 'x-cz-md5': md5(big) });
      assert.equal(res.statusCode, 413);
    });
  });
});
