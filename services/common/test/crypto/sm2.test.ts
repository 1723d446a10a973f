import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  decodeSignatureDer,
  encodeSignatureDer,
  SM2_DEFAULT_USER_ID,
  sm2GenerateKeyPair,
  sm2PublicKeyFromPrivate,
  sm2Sign,
  sm2Verify,
} from '../../src/crypto';
import { sm2SignWithNonceForTestVectors } from '../../src/crypto/sm2';

/*
 * GM/T 0003.5-2012 (= GB/T 32918.5-2017) Annex A: signature example on the recommended curve
 * sm2p256v1 with user ID 1234567812345678, message "message digest".
 */
const ANNEX = {
  privateKey: '3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8',
  publicKey:
    '04' +
    '09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020' +
    'ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13',
  k: BigInt('0x59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21'),
  message: 'message digest',
  r: BigInt('0xf5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3'),
  s: BigInt('0xb1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa'),
};

const CURVE_ORDER = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123');

describe('SM2 signatures (GB/T 32918.2, user ID 1234567812345678)', () => {
  it('[REG-06] verifies the GM/T 0003.5 Annex A example signature with the default ID', () => {
    assert.equal(SM2_DEFAULT_USER_ID, '1234567812345678');
    assert.equal(sm2PublicKeyFromPrivate(ANNEX.privateKey), ANNEX.publicKey);
    const der = encodeSignatureDer(ANNEX.r, ANNEX.s);
    assert.equal(sm2Verify(ANNEX.message, der, ANNEX.publicKey), true);
    assert.equal(sm2Verify(Buffer.from(ANNEX.message), der, ANNEX.publicKey.toUpperCase()), true);
    assert.equal(sm2Verify('message digesT', der, ANNEX.publicKey), false);
    assert.equal(sm2Verify(ANNEX.message, encodeSignatureDer(ANNEX.r, ANNEX.s + 1n), ANNEX.publicKey), false);
  });

  it('[REG-06] reproduces the Annex A signature from its nonce k', () => {
    const der = sm2SignWithNonceForTestVectors(ANNEX.message, ANNEX.privateKey, ANNEX.k);
    assert.deepEqual(decodeSignatureDer(der), { r: ANNEX.r, s: ANNEX.s });
  });

  it('[REG-06] signs and verifies with fresh keys; every signature uses a fresh nonce', () => {
    const { publicKey, privateKey } = sm2GenerateKeyPair();
    assert.match(publicKey, /^04[0-9a-f]{128}$/);
    assert.match(privateKey, /^[0-9a-f]{64}$/);
    assert.equal(sm2PublicKeyFromPrivate(privateKey), publicKey);
    const message = randomBytes(500);
    const first = sm2Sign(message, privateKey);
    const second = sm2Sign(message, privateKey);
    assert.notDeepEqual(decodeSignatureDer(first)!.r, decodeSignatureDer(second)!.r);
    for (const sig of [first, second]) {
      assert.equal(sm2Verify(message, sig, publicKey), true);
      assert.equal(sm2Verify(Buffer.concat([message, Buffer.from([0])]), sig, publicKey), false);
      assert.equal(sm2Verify(message, sig, sm2GenerateKeyPair().publicKey), false);
    }
    assert.equal(sm2Verify('中文消息', sm2Sign('中文消息', privateKey), publicKey), true);
  });

  it('[REG-06] accepts only strict DER and valid keys, never throwing on bad input', () => {
    const { publicKey, privateKey } = sm2GenerateKeyPair();
    const sig = sm2Sign('x', privateKey);
    const { r, s } = decodeSignatureDer(sig)!;
    assert.deepEqual(encodeSignatureDer(r, s), sig);
    assert.equal(sm2Verify('x', Buffer.concat([sig, Buffer.from([0])]), publicKey), false); // trailing byte
    assert.equal(sm2Verify('x', sig.subarray(0, sig.length - 1), publicKey), false);
    const integer = (...bytes: number[]) => Buffer.from([0x02, bytes.length, ...bytes]);
    const sequence = (...parts: Buffer[]) => {
      const content = Buffer.concat(parts);
      return Buffer.concat([Buffer.from([0x30, content.length]), content]);
    };
    assert.deepEqual(decodeSignatureDer(sequence(integer(0x7f), integer(0x00, 0x80))), {
      r: 0x7fn,
      s: 0x80n,
    });
    assert.deepEqual(encodeSignatureDer(0x7fn, 0x80n), sequence(integer(0x7f), integer(0x00, 0x80)));
    assert.equal(
      decodeSignatureDer(sequence(integer(0x00, 0x7f), integer(0x01))),
      null,
      'non-minimal integer',
    );
    assert.equal(decodeSignatureDer(sequence(integer(0x80), integer(0x01))), null, 'negative integer');
    assert.equal(
      decodeSignatureDer(sequence(integer(0x01), integer(0x01), integer(0x01))),
      null,
      'third element',
    );
    assert.equal(
      decodeSignatureDer(Buffer.concat([Buffer.from([0x30, 0x81, 6]), integer(0x01), integer(0x01)])),
      null,
      'long-form length',
    );
    assert.equal(sm2Verify('x', encodeSignatureDer(r + CURVE_ORDER, s), publicKey), false); // r ≥ n
    assert.equal(sm2Verify('x', encodeSignatureDer(r, 0n), publicKey), false);
    assert.equal(sm2Verify('x', Buffer.alloc(0), publicKey), false);
    assert.equal(sm2Verify('x', sig, `04${'00'.repeat(64)}`), false); // not on the curve
    assert.equal(sm2Verify('x', sig, publicKey.slice(2)), false); // not 04-prefixed
    assert.equal(sm2Verify('x', sig, 'zz'), false);
    assert.throws(() => sm2Sign('x', '00'.repeat(32)));
    assert.throws(() => sm2Sign('x', CURVE_ORDER.toString(16)));
    assert.throws(() => sm2Sign('x', 'abc'));
  });
});

/**
 * Independent implementation: the OpenSSL CLI, which (unlike node:crypto's sign/verify) can set
 * the SM2 distinguishing ID. Required, not optional: scripts/stack/install.sh installs Debian's
 * `openssl` for `make test`, so a missing CLI fails here instead of skipping the cross-check.
 */
function openssl(args: string[]): string {
  return execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

describe('SM2 cross-check with OpenSSL', () => {
  it('[REG-06] the OpenSSL 3 CLI with SM2 and SM3 is installed (scripts/stack/install.sh)', () => {
    assert.match(openssl(['version']), /^OpenSSL 3\./);
    assert.match(openssl(['list', '-digest-algorithms']), /SM3/);
    assert.match(openssl(['list', '-public-key-algorithms']), /SM2/i);
  });

  const dir = mkdtempSync(join(tmpdir(), 'cz-sm2-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // SubjectPublicKeyInfo: id-ecPublicKey with the SM2 curve OID 1.2.156.10197.1.301
  const SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a811ccf5501822d034200', 'hex');
  // ECPrivateKey in PKCS#8 for the same curve (RFC 5915 without the optional public key)
  const PKCS8_PREFIX = Buffer.from(
    '3041020100301306072a8648ce3d020106082a811ccf5501822d042730250201010420',
    'hex',
  );

  function publicPem(publicKeyHex: string): string {
    const file = join(dir, `pub-${randomBytes(4).toString('hex')}.pem`);
    const key = createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicKeyHex, 'hex')]),
      format: 'der',
      type: 'spki',
    });
    writeFileSync(file, key.export({ type: 'spki', format: 'pem' }));
    return file;
  }

  function verifyWithOpenssl(message: Buffer, sig: Buffer, publicKeyHex: string, distid: string): boolean {
    const msgFile = join(dir, 'msg');
    const sigFile = join(dir, 'sig');
    writeFileSync(msgFile, message);
    writeFileSync(sigFile, sig);
    const args = [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      publicPem(publicKeyHex),
      '-rawin',
      '-digest',
      'sm3',
      '-in',
      msgFile,
      '-sigfile',
      sigFile,
    ];
    try {
      return /Verified Successfully/.test(openssl([...args, '-pkeyopt', `distid:${distid}`]));
    } catch {
      return false;
    }
  }

  it('[REG-06] OpenSSL verifies our signatures with distid 1234567812345678 (and not with another ID)', () => {
    const { publicKey, privateKey } = sm2GenerateKeyPair();
    for (const message of [Buffer.from('evidence checkpoint 42'), randomBytes(1000)]) {
      const sig = sm2Sign(message, privateKey);
      assert.equal(verifyWithOpenssl(message, sig, publicKey, SM2_DEFAULT_USER_ID), true);
      assert.equal(verifyWithOpenssl(message, sig, publicKey, 'ALICE123@YAHOO.COM'), false);
    }
    assert.equal(
      verifyWithOpenssl(
        Buffer.from(ANNEX.message),
        encodeSignatureDer(ANNEX.r, ANNEX.s),
        ANNEX.publicKey,
        SM2_DEFAULT_USER_ID,
      ),
      true,
    );
  });

  it('[REG-06] we verify signatures made by OpenSSL with distid 1234567812345678', () => {
    const { publicKey, privateKey } = sm2GenerateKeyPair();
    const keyFile = join(dir, 'priv.der');
    writeFileSync(keyFile, Buffer.concat([PKCS8_PREFIX, Buffer.from(privateKey, 'hex')]));
    const msgFile = join(dir, 'msg2');
    const sigFile = join(dir, 'sig2');
    const message = Buffer.from('签名互通测试 interop');
    writeFileSync(msgFile, message);
    openssl([
      'pkeyutl',
      '-sign',
      '-inkey',
      keyFile,
      '-keyform',
      'DER',
      '-rawin',
      '-digest',
      'sm3',
      '-in',
      msgFile,
      '-out',
      sigFile,
      '-pkeyopt',
      `distid:${SM2_DEFAULT_USER_ID}`,
    ]);
    const sig = readFileSync(sigFile);
    assert.equal(sm2Verify(message, sig, publicKey), true);
    assert.equal(sm2Verify(Buffer.from('other'), sig, publicKey), false);
  });
});
