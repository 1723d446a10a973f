/**
 * The seal on its own, without a database: Shamir split of the root key, unseal rounds (wrong,
 * duplicate and mis-combined shares refused; a round that waits too long is dropped), and sealing
 * overwriting the root key.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, mock, test } from 'node:test';
import { AppError } from '@cz/common';
import { newRootKey, rootCheckValue, shareCheckValue } from '../src/core/material';
import { SealState, parseShare, splitRootKey, type SealConfig } from '../src/core/seal';

const ROUND_TIMEOUT_MS = 600000;

/** A fresh root key split 5/3, and the configuration `init` would have stored for it. */
async function initialised(): Promise<{ root: Buffer; shares: Buffer[]; config: SealConfig }> {
  const root = newRootKey();
  const shares = await splitRootKey(root, 5, 3);
  const config: SealConfig = {
    threshold: 3,
    shareCount: 5,
    rootCheck: rootCheckValue(root),
    shareChecks: new Map(shares.map((share) => [share[share.length - 1]!, shareCheckValue(share)])),
    // who may submit which share is the Sealing's check, not the seal state's
    shareOwners: new Map(),
  };
  return { root, shares, config };
}

async function refusedWith(work: () => unknown, code: string): Promise<AppError> {
  try {
    await work();
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    assert.equal(err.code, code);
    return err;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

describe('seal state', () => {
  afterEach(() => mock.timers.reset());

  test('threshold shares rebuild the root key; fewer leave it sealed', async () => {
    const { root, shares, config } = await initialised();
    const seal = new SealState(ROUND_TIMEOUT_MS);
    assert.equal(seal.sealed, true);
    const sealedError = await refusedWith(() => seal.rootKey(config), 'sealed');
    assert.equal(sealedError.statusCode, 503);

    assert.deepEqual(await seal.submit(shares[4]!, config), {
      progress: 1,
      unsealed: false,
      x: shares[4]![32],
    });
    assert.equal((await seal.submit(shares[1]!, config)).progress, 2);
    assert.equal(seal.sealed, true);
    assert.match((await refusedWith(() => seal.rootKey(config), 'sealed')).message, /2 of 3/);

    const last = await seal.submit(shares[2]!, config);
    assert.deepEqual(last, { progress: 3, unsealed: true, x: shares[2]![32] });
    assert.equal(seal.sealed, false);
    assert.equal(seal.progress, 0, 'the round ends when the service unseals');
    assert.deepEqual(seal.rootKey(config), root);
  });

  test('a share not issued at init and a repeated share are refused and change nothing', async () => {
    const { shares, config } = await initialised();
    const other = await initialised();
    const seal = new SealState(ROUND_TIMEOUT_MS);
    await seal.submit(shares[0]!, config);
    await refusedWith(() => seal.submit(other.shares[1]!, config), 'wrong_share');
    await refusedWith(() => seal.submit(Buffer.from(shares[0]!), config), 'duplicate_share');
    assert.equal(seal.progress, 1);
    await seal.submit(shares[3]!, config);
    assert.equal((await seal.submit(shares[2]!, config)).unsealed, true);
  });

  test('shares that do not rebuild the stored root key reset the round', async () => {
    const { shares, config } = await initialised();
    // the shares pass their own checks, but the stored root check is of another key
    const mismatched: SealConfig = { ...config, rootCheck: rootCheckValue(newRootKey()) };
    const seal = new SealState(ROUND_TIMEOUT_MS);
    await seal.submit(shares[0]!, mismatched);
    await seal.submit(shares[1]!, mismatched);
    await refusedWith(() => seal.submit(shares[2]!, mismatched), 'wrong_share_combination');
    assert.equal(seal.sealed, true);
    assert.equal(seal.progress, 0);
  });

  test('an unseal round that waits longer than the timeout starts again', async () => {
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const { shares, config } = await initialised();
    const seal = new SealState(ROUND_TIMEOUT_MS);
    await seal.submit(shares[0]!, config);
    await seal.submit(shares[1]!, config);
    mock.timers.tick(ROUND_TIMEOUT_MS);
    assert.equal(seal.progress, 2, 'still within the timeout');
    mock.timers.tick(1);
    assert.equal(seal.progress, 0, 'the shares of the expired round are dropped');
    assert.equal((await seal.submit(shares[2]!, config)).progress, 1);
  });

  test('reset drops the round; seal overwrites the root key in place', async () => {
    const { shares, config } = await initialised();
    const seal = new SealState(ROUND_TIMEOUT_MS);
    await seal.submit(shares[0]!, config);
    seal.reset();
    assert.equal(seal.progress, 0);
    for (const share of shares.slice(0, 3)) await seal.submit(share, config);
    const root = seal.rootKey(config);
    seal.seal();
    assert.equal(seal.sealed, true);
    assert.ok(
      root.every((byte) => byte === 0),
      'the root key held in memory is zeroed',
    );
    await refusedWith(() => seal.rootKey(config), 'sealed');
  });

  test('a share must be exactly 33 bytes of canonical base64url', async () => {
    const { shares } = await initialised();
    const encoded = shares[0]!.toString('base64url');
    assert.deepEqual(parseShare(encoded), shares[0]);
    await refusedWith(() => parseShare(encoded.slice(0, -2)), 'malformed_share');
    await refusedWith(() => parseShare(`${encoded}=`), 'malformed_share');
    await refusedWith(() => parseShare(shares[0]!.subarray(1).toString('base64url')), 'malformed_share');
  });
});
