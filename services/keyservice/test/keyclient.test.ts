/**
 * The services' remote KeyProvider (services/common/src/keyclient) over real HTTP against the key
 * service on a fresh test database: sealing and opening, the short-TTL bounded unwrap cache, error
 * mapping, blind-index keys, and objects surviving rotation + rewrap + retirement of old versions.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { KeyServiceError, KeyServiceUnavailableError, RemoteKeyProvider } from '@cz/common';
import { CryptoError, openBuffer, parseSealedHeader, sealBuffer } from '@cz/common/crypto';
import type { KeyRequestView, RewrapJobView } from '@cz/contracts';
import {
  bearer,
  buildKeyService,
  createKeysTestDatabase,
  eventually,
  initKeyService,
  type KeyCeremony,
  type KeyServiceApp,
  type TestDatabase,
  tokenOf,
  unsealWith,
} from '@cz/testkit';

describe('remote KeyProvider against the key service (real HTTP, real MariaDB)', () => {
  let db: TestDatabase;
  let app: KeyServiceApp;
  let init: KeyCeremony;
  let url: string;
  let unwrapCalls = 0;

  const provider = (options: Partial<ConstructorParameters<typeof RemoteKeyProvider>[0]> = {}) =>
    new RemoteKeyProvider({ url, token: tokenOf(init, 'callers', 'ingest'), ...options });

  before(async () => {
    db = await createKeysTestDatabase();
    app = await buildKeyService(db, {}, (server) =>
      server.addHook('onRequest', async (request) => {
        if (request.url === '/v1/datakeys/unwrap') unwrapCalls++;
      }),
    );
    init = await initKeyService(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  test('while sealed the provider reports the key service unavailable (transient), not a bad record', async () => {
    const keys = provider();
    await assert.rejects(keys.newDataKey('chat'), (err: unknown) => {
      assert.ok(err instanceof KeyServiceUnavailableError, String(err));
      assert.equal(err.reason, 'sealed');
      assert.equal(err.statusCode, 503, 'API callers of a service get 503');
      return true;
    });
    await assert.rejects(keys.ready(), /sealed/);
    await unsealWith(app, init.shares.slice(0, 3));
    await keys.ready();
  });

  test('[REG-06] seal and open through the key service; one round trip per class and day', async () => {
    const writer = provider();
    const sealed: Buffer[] = [];
    for (let i = 0; i < 50; i++)
      sealed.push(await sealBuffer(Buffer.from(`消息 ${i} 13812345678`), writer, 'chat'));
    assert.equal(writer.stats.requests, 1, 'the daily key is fetched once and cached');
    const header = parseSealedHeader(sealed[0]!);
    assert.equal(header.kekId, 'keyservice/chat');
    assert.equal(
      header.wrappedKey.subarray(0, 4).toString('latin1'),
      'CZDK',
      'the header references the daily key',
    );
    assert.ok(!sealed[0]!.includes(Buffer.from('13812345678')));

    const before = unwrapCalls;
    const reader = provider();
    for (const [i, object] of sealed.entries()) {
      assert.equal((await openBuffer(object, reader)).toString(), `消息 ${i} 13812345678`);
    }
    assert.equal(unwrapCalls - before, 1, 'fifty objects of one day: one unwrap');
    assert.equal(reader.stats.cacheHits, 49);

    const perObject = provider({ dataKeys: 'per-object' });
    const a = await sealBuffer(Buffer.from('a'), perObject, 'pii');
    const b = await sealBuffer(Buffer.from('b'), perObject, 'pii');
    assert.notDeepEqual(parseSealedHeader(a).wrappedKey, parseSealedHeader(b).wrappedKey);
    assert.equal((await openBuffer(b, provider())).toString(), 'b');
  });

  test('the unwrap cache expires after its TTL and is bounded in size', async () => {
    const writer = provider({ dataKeys: 'per-object' });
    const objects = await Promise.all(['x', 'y', 'z'].map((t) => sealBuffer(Buffer.from(t), writer, 'chat')));

    // a TTL no slow machine outlasts between two opens, so the hit cannot be missed by accident
    const longLived = provider({ cacheTtlMs: 60000 });
    let before = unwrapCalls;
    await openBuffer(objects[0]!, longLived);
    await openBuffer(objects[0]!, longLived);
    assert.equal(unwrapCalls - before, 1, 'a hit within the TTL');

    // expiry is waited for, not slept for: opens before it are hits, the first after it asks again
    const shortLived = provider({ cacheTtlMs: 150 });
    before = unwrapCalls;
    await openBuffer(objects[0]!, shortLived);
    assert.equal(unwrapCalls - before, 1);
    await eventually('the short-lived entry expires and the key is asked again', async () => {
      await openBuffer(objects[0]!, shortLived);
      return unwrapCalls - before === 2 ? true : undefined;
    });

    const small = provider({ cacheMaxEntries: 2 });
    before = unwrapCalls;
    for (const object of objects) await openBuffer(object, small);
    await openBuffer(objects[2]!, small);
    assert.equal(unwrapCalls - before, 3, 'the newest entries stay');
    await openBuffer(objects[0]!, small);
    assert.equal(unwrapCalls - before, 4, 'the least recently used entry was dropped');

    const concurrent = provider();
    before = unwrapCalls;
    await Promise.all(Array.from({ length: 10 }, () => openBuffer(objects[1]!, concurrent)));
    assert.equal(unwrapCalls - before, 1, 'concurrent opens of one key share one request');
  });

  test('refusals become CryptoErrors (dead-letter); bad credentials a KeyServiceError', async () => {
    const keys = provider();
    const sealed = await sealBuffer(Buffer.from('x'), provider({ dataKeys: 'per-object' }), 'chat');
    const header = parseSealedHeader(sealed);
    const tampered = Buffer.from(header.wrappedKey);
    tampered[3]! ^= 1;
    await assert.rejects(
      keys.unwrapDataKey({ kekId: header.kekId, kekVersion: header.kekVersion, wrapped: tampered }),
      (err: unknown) => err instanceof CryptoError && err.code === 'unwrap_failed',
    );
    await assert.rejects(
      keys.unwrapDataKey({ kekId: header.kekId, kekVersion: 77, wrapped: header.wrappedKey }),
      (err: unknown) => err instanceof CryptoError && err.code === 'unknown_key_version',
    );
    const requests = keys.stats.requests;
    await assert.rejects(
      keys.unwrapDataKey({ kekId: 'local/chat', kekVersion: 1, wrapped: header.wrappedKey }),
      (err: unknown) => err instanceof CryptoError && err.code === 'unknown_key_version',
    );
    assert.equal(keys.stats.requests, requests, 'a foreign KEK id is refused without a round trip');

    const stranger = new RemoteKeyProvider({ url, token: `cks_${'A'.repeat(43)}` });
    await assert.rejects(stranger.newDataKey('chat'), (err: unknown) => {
      assert.ok(err instanceof KeyServiceError && !(err instanceof KeyServiceUnavailableError));
      assert.equal(err.upstreamStatus, 401);
      assert.equal(err.statusCode, 502);
      return true;
    });
    const nowhere = new RemoteKeyProvider({ url: 'http://127.0.0.1:9', token: 'x', timeoutMs: 1000 });
    await assert.rejects(nowhere.newDataKey('chat'), KeyServiceUnavailableError);
  });

  test('[REG-06] blind-index keys are stable per purpose and separate between purposes', async () => {
    const a = await provider().indexKey('phone');
    const b = await provider().indexKey('phone');
    const c = await provider().indexKey('message-content');
    assert.equal(a.length, 32);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test('[REG-06] objects sealed before a rotation open after rewrap and retirement of the old version', async () => {
    const old = await sealBuffer(Buffer.from('sealed under v1'), provider(), 'recording');
    const alice = bearer(tokenOf(init, 'officers', 'alice'));
    const bob = bearer(tokenOf(init, 'officers', 'bob'));
    const officer = (headers: Record<string, string>, path: string, payload?: object) =>
      app.inject({ method: 'POST', url: path, headers, ...(payload ? { payload } : {}) });

    const rotate = (
      await officer(alice, '/v1/requests', {
        kind: 'rotate',
        dataClass: 'recording',
        reason: 'rotation test',
      })
    ).json<KeyRequestView>();
    assert.equal((await officer(bob, `/v1/requests/${rotate.id}/approve`)).statusCode, 200);
    const job = (await officer(alice, '/v1/rewrap', { dataClass: 'recording' })).json<RewrapJobView>();
    await eventually('rewrap done', async () => {
      const view = (
        await app.inject({ method: 'GET', url: `/v1/rewrap/${job.id}`, headers: alice })
      ).json<RewrapJobView>();
      return view.status === 'done' ? view : undefined;
    });
    const retire = (
      await officer(bob, '/v1/requests', {
        kind: 'set_min_decryption_version',
        dataClass: 'recording',
        version: 2,
        reason: 'retire v1',
      })
    ).json<KeyRequestView>();
    const approved = await officer(alice, `/v1/requests/${retire.id}/approve`);
    assert.equal(approved.statusCode, 200, approved.body);

    // the object was not touched: its header still names version 1
    assert.equal(parseSealedHeader(old).kekVersion, 1);
    assert.equal((await openBuffer(old, provider())).toString(), 'sealed under v1');
    const fresh = await sealBuffer(Buffer.from('today'), provider({ dataKeys: 'per-object' }), 'recording');
    assert.equal(parseSealedHeader(fresh).kekVersion, 2);
  });
});
