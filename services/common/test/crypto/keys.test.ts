import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalKeyProvider, type DataClass } from '../../src/crypto';
import { isCryptoError, MASTER_KEY } from './helpers';

describe('LocalKeyProvider', () => {
  it('[REG-06] hands out fresh 16-byte data keys wrapped under the newest KEK version of the class', async () => {
    const keys = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 3 });
    const a = await keys.newDataKey('chat');
    const b = await keys.newDataKey('chat');
    assert.equal(a.plaintext.length, 16);
    assert.notDeepEqual(a.plaintext, b.plaintext);
    assert.deepEqual(
      { kekId: a.wrapped.kekId, kekVersion: a.wrapped.kekVersion },
      { kekId: 'local/chat', kekVersion: 3 },
    );
    assert.equal(a.wrapped.wrapped.length, 24);
    assert.deepEqual(await keys.unwrapDataKey(a.wrapped), a.plaintext);
  });

  it('[REG-06] derives the same KEKs from the same master key, different ones per class and version', async () => {
    const first = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 2 });
    const second = new LocalKeyProvider({ masterKey: Buffer.from(MASTER_KEY), versions: 2 });
    const { plaintext, wrapped } = await first.newDataKey('recording');
    assert.deepEqual(await second.unwrapDataKey(wrapped), plaintext);

    const otherMaster = new LocalKeyProvider({ masterKey: Buffer.alloc(32, 9), versions: 2 });
    await assert.rejects(otherMaster.unwrapDataKey(wrapped), isCryptoError('unwrap_failed'));
    await assert.rejects(first.unwrapDataKey({ ...wrapped, kekVersion: 1 }), isCryptoError('unwrap_failed'));
    await assert.rejects(
      first.unwrapDataKey({ ...wrapped, kekId: 'local/pii' }),
      isCryptoError('unwrap_failed'),
    );
  });

  it('[REG-06] rejects unknown KEK ids and versions, retired versions and malformed wraps', async () => {
    const keys = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 3, retiredVersions: [1] });
    const { wrapped } = await keys.newDataKey('pii');
    await assert.rejects(
      keys.unwrapDataKey({ ...wrapped, kekVersion: 4 }),
      isCryptoError('unknown_key_version'),
    );
    await assert.rejects(
      keys.unwrapDataKey({ ...wrapped, kekVersion: 0 }),
      isCryptoError('unknown_key_version'),
    );
    await assert.rejects(
      keys.unwrapDataKey({ ...wrapped, kekId: 'other/pii' }),
      isCryptoError('unknown_key_version'),
    );
    await assert.rejects(
      keys.unwrapDataKey({ ...wrapped, kekId: 'local/secrets' }),
      isCryptoError('unknown_key_version'),
    );
    await assert.rejects(
      keys.unwrapDataKey({ ...wrapped, kekVersion: 1 }),
      isCryptoError('key_version_retired'),
    );
    await assert.rejects(
      keys.unwrapDataKey({ ...wrapped, wrapped: wrapped.wrapped.subarray(1) }),
      isCryptoError('unwrap_failed'),
    );
  });

  it('[REG-06] rewraps a data key from an old KEK version to the newest', async () => {
    const v1 = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 1 });
    const { plaintext, wrapped } = await v1.newDataKey('audit');
    const v2 = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 2 });
    const rewrapped = await v2.rewrapDataKey(wrapped);
    assert.equal(rewrapped.kekVersion, 2);
    assert.deepEqual(await v2.unwrapDataKey(rewrapped), plaintext);
    const retiredV1 = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 2, retiredVersions: [1] });
    assert.deepEqual(await retiredV1.unwrapDataKey(rewrapped), plaintext);
    await assert.rejects(retiredV1.unwrapDataKey(wrapped), isCryptoError('key_version_retired'));
  });

  it('[REG-06] validates its options', async () => {
    assert.throws(
      () => new LocalKeyProvider({ masterKey: Buffer.alloc(16) }),
      isCryptoError('invalid_argument'),
    );
    assert.throws(
      () => new LocalKeyProvider({ masterKey: MASTER_KEY, kekId: 'a/b' }),
      isCryptoError('invalid_argument'),
    );
    assert.throws(
      () => new LocalKeyProvider({ masterKey: MASTER_KEY, kekId: 'x'.repeat(60) }),
      isCryptoError('invalid_argument'),
    );
    assert.throws(
      () => new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 0 }),
      isCryptoError('invalid_argument'),
    );
    assert.throws(
      () => new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 2, retiredVersions: [2] }),
      isCryptoError('invalid_argument'),
    );
    const keys = new LocalKeyProvider({ masterKey: MASTER_KEY });
    await assert.rejects(keys.newDataKey('secrets' as DataClass), isCryptoError('invalid_argument'));
  });
});
