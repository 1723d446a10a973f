import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  createOpenStream,
  createSealStream,
  DEFAULT_SEGMENT_SIZE,
  LocalKeyProvider,
  MAX_SEALED_HEADER_BYTES,
  MAX_SEGMENT_SIZE,
  openBuffer,
  openSealedHeader,
  openSealedRange,
  openSegment,
  parseSealedHeader,
  plaintextSizeOf,
  rewrapSealedHeader,
  sealBuffer,
  sealedLayout,
  sealedRangeFor,
  sealedSize,
  SEALED_TAG_BYTES,
  segmentSpan,
  type CryptoErrorCode,
  type KeyProvider,
} from '../../src/crypto';
import { FixedDataKeyProvider, isCryptoError, MASTER_KEY, runTransform } from './helpers';

const keys = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 2 });
const SMALL_SEGMENT = 64;
const createSealStreamFor = (segmentSize: number) => createSealStream(keys, 'recording', { segmentSize });

/** Byte offsets of every header field, computed from the documented layout. */
function fieldOffsets(sealed: Buffer) {
  const header = parseSealedHeader(sealed);
  const L = Buffer.byteLength(header.kekId);
  const W = header.wrappedKey.length;
  return {
    header,
    magic: 0,
    version: 4,
    suite: 5,
    dataClass: 6,
    kekIdLength: 7,
    kekId: 8,
    kekVersion: 8 + L,
    wrappedLength: 12 + L,
    wrapped: 14 + L,
    salt: 14 + L + W,
    noncePrefix: 30 + L + W,
    segmentSize: 38 + L + W,
    headerMac: 42 + L + W,
    body: 58 + L + W,
  };
}

function flip(sealed: Buffer, at: number, mask = 0x01): Buffer {
  const copy = Buffer.from(sealed);
  copy[at] = copy[at]! ^ mask;
  return copy;
}

/** Every tampered object must fail in openBuffer and in the stream opener (fed in odd chunks), with the same code. */
async function assertOpenFails(
  sealed: Buffer,
  code: CryptoErrorCode,
  provider: KeyProvider = keys,
): Promise<void> {
  await assert.rejects(openBuffer(sealed, provider), isCryptoError(code));
  for (const chunkSize of [7, 4096]) {
    await assert.rejects(runTransform(createOpenStream(provider), sealed, chunkSize), isCryptoError(code));
  }
}

describe('sealed objects: round trips', () => {
  const sizes = (segment: number) => [
    0,
    1,
    segment - 1,
    segment,
    segment + 1,
    Math.floor(3.5 * segment),
    4 * segment,
  ];

  for (const segmentSize of [SMALL_SEGMENT, DEFAULT_SEGMENT_SIZE]) {
    it(`[REG-06] sealBuffer/openBuffer round-trip at segment size ${segmentSize}`, async () => {
      for (const size of sizes(segmentSize)) {
        const plaintext = randomBytes(size);
        const sealed = await sealBuffer(plaintext, keys, 'recording', { segmentSize });
        const header = parseSealedHeader(sealed);
        assert.equal(sealed.length, sealedSize(size, header.headerLength, segmentSize), `size ${size}`);
        assert.equal(plaintextSizeOf(sealed.length, header.headerLength, segmentSize), size);
        assert.deepEqual(await openBuffer(sealed, keys), plaintext, `size ${size}`);
      }
    });

    it(`[REG-06] stream and buffer sealing are interchangeable at segment size ${segmentSize}`, async () => {
      for (const size of sizes(segmentSize)) {
        const plaintext = randomBytes(size);
        for (const chunkSize of [1 + (size % 13), 1000, 3 * segmentSize + 5]) {
          const streamed = await runTransform(createSealStreamFor(segmentSize), plaintext, chunkSize);
          const buffered = await sealBuffer(plaintext, keys, 'recording', { segmentSize });
          assert.equal(streamed.length, buffered.length, `size ${size} chunk ${chunkSize}`);
          assert.deepEqual(await openBuffer(streamed, keys), plaintext);
          assert.deepEqual(await runTransform(createOpenStream(keys), buffered, chunkSize), plaintext);
          assert.deepEqual(await runTransform(createOpenStream(keys), streamed, chunkSize), plaintext);
        }
      }
    });
  }

  it('[REG-06] an empty plaintext is one empty final segment', async () => {
    const sealed = await sealBuffer(Buffer.alloc(0), keys, 'chat');
    const { header } = fieldOffsets(sealed);
    assert.equal(sealed.length, header.headerLength + SEALED_TAG_BYTES);
    assert.equal((await openBuffer(sealed, keys)).length, 0);
  });

  it('[REG-06] sealing the same plaintext twice gives unrelated objects', async () => {
    const plaintext = Buffer.from('保本保息，稳赚不赔');
    const a = await sealBuffer(plaintext, keys, 'chat');
    const b = await sealBuffer(plaintext, keys, 'chat');
    assert.notDeepEqual(a, b);
    assert.equal(a.indexOf(plaintext), -1);
  });

  it('[REG-06] the header is readable without a key and names the newest KEK version', async () => {
    const sealed = await sealBuffer(Buffer.from('hello'), keys, 'pii', { segmentSize: 1024 });
    const header = parseSealedHeader(sealed);
    assert.equal(header.dataClass, 'pii');
    assert.equal(header.kekId, 'local/pii');
    assert.equal(header.kekVersion, 2);
    assert.equal(header.segmentSize, 1024);
    assert.equal(header.version, 1);
    assert.equal(header.suite, 1);
    assert.ok(header.headerLength <= MAX_SEALED_HEADER_BYTES);
    assert.throws(
      () => parseSealedHeader(sealed.subarray(0, header.headerLength - 1)),
      isCryptoError('truncated'),
    );
  });

  it('[REG-06] per-message overhead of a chat message is 108 bytes', async () => {
    const message = Buffer.from(
      JSON.stringify({
        msgid: 'm-1',
        from: 'zhangsan',
        tolist: ['wm-c1'],
        text: '您好，这款理财的风险等级是 R2',
      }),
    );
    const sealed = await sealBuffer(message, keys, 'chat');
    // 92-byte header with KEK id "local/chat" (10 bytes) and a 24-byte wrapped key, plus one 16-byte tag
    assert.equal(sealed.length - message.length, 108);
  });

  it('[REG-06] rejects bad segment sizes and data classes', async () => {
    // the IV leaves 3 bytes of block counter per segment: the largest segment must fit in 2^24 blocks
    assert.ok(MAX_SEGMENT_SIZE / 16 <= 2 ** 24);
    await assert.rejects(
      sealBuffer(Buffer.alloc(1), keys, 'chat', { segmentSize: 15 }),
      isCryptoError('invalid_argument'),
    );
    await assert.rejects(
      sealBuffer(Buffer.alloc(1), keys, 'chat', { segmentSize: 16 * 1024 * 1024 + 1 }),
      isCryptoError('invalid_argument'),
    );
    await assert.rejects(
      sealBuffer(Buffer.alloc(1), keys, 'nope' as 'chat'),
      isCryptoError('invalid_argument'),
    );
  });
});

describe('sealed objects: tampering', () => {
  const plaintext = randomBytes(Math.floor(3.5 * SMALL_SEGMENT));
  const sealedPromise = sealBuffer(plaintext, keys, 'chat', { segmentSize: SMALL_SEGMENT });
  const segmentBytes = SMALL_SEGMENT + SEALED_TAG_BYTES;

  it('[REG-06] header field tampering: magic, version, suite', async () => {
    const sealed = await sealedPromise;
    const at = fieldOffsets(sealed);
    await assertOpenFails(flip(sealed, at.magic), 'bad_magic');
    await assertOpenFails(flip(sealed, at.magic + 3), 'bad_magic');
    await assertOpenFails(flip(sealed, at.version, 0x03), 'unsupported_version');
    await assertOpenFails(flip(sealed, at.suite, 0x04), 'unsupported_suite');
  });

  it('[REG-06] header field tampering: data class', async () => {
    const sealed = await sealedPromise;
    const at = fieldOffsets(sealed);
    await assertOpenFails(flip(sealed, at.dataClass, 0x01 ^ 0x03), 'header_tampered'); // chat → pii
    await assertOpenFails(flip(sealed, at.dataClass, 0x01), 'malformed_header'); // chat → 0
  });

  it('[REG-06] header field tampering: KEK id, KEK version, wrapped key', async () => {
    const sealed = await sealedPromise;
    const at = fieldOffsets(sealed);
    await assertOpenFails(flip(sealed, at.kekId, 0x20), 'unknown_key_version'); // "Local/chat"
    await assertOpenFails(flip(sealed, at.kekIdLength, 0x01), 'malformed_header'); // 10 → 11: the fields after it shift, wrapped length > 1024
    await assertOpenFails(flip(sealed, at.kekIdLength, 0x10), 'malformed_header'); // 10 → 26: not UTF-8
    await assertOpenFails(flip(sealed, at.kekIdLength, 0x0a), 'malformed_header'); // 10 → 0
    await assertOpenFails(flip(sealed, at.kekVersion + 3, 0x03), 'unwrap_failed'); // version 2 → 1: another KEK
    await assertOpenFails(flip(sealed, at.kekVersion + 3, 0x01), 'unknown_key_version'); // version 2 → 3
    await assertOpenFails(flip(sealed, at.wrappedLength + 1, 0x01), 'unwrap_failed'); // 24 → 25 bytes
    for (let i = 0; i < 24; i += 7) await assertOpenFails(flip(sealed, at.wrapped + i), 'unwrap_failed');
  });

  it('[REG-06] header field tampering: salt, nonce prefix, segment size, header MAC', async () => {
    const sealed = await sealedPromise;
    const at = fieldOffsets(sealed);
    await assertOpenFails(flip(sealed, at.salt), 'header_tampered');
    await assertOpenFails(flip(sealed, at.salt + 15, 0x80), 'header_tampered');
    await assertOpenFails(flip(sealed, at.noncePrefix), 'header_tampered');
    await assertOpenFails(flip(sealed, at.noncePrefix + 7), 'header_tampered');
    await assertOpenFails(flip(sealed, at.segmentSize + 3, 0x20), 'header_tampered'); // 64 → 96
    await assertOpenFails(flip(sealed, at.segmentSize + 3, 0x40), 'malformed_header'); // 64 → 0
    await assertOpenFails(flip(sealed, at.segmentSize, 0x80), 'malformed_header'); // > 16 MiB
    await assertOpenFails(flip(sealed, at.headerMac), 'header_tampered');
    await assertOpenFails(flip(sealed, at.headerMac + 15), 'header_tampered');
  });

  it('[REG-06] body tampering: a ciphertext byte or a tag byte of any segment', async () => {
    const sealed = await sealedPromise;
    const { body } = fieldOffsets(sealed);
    for (let segment = 0; segment < 4; segment++) {
      await assertOpenFails(flip(sealed, body + segment * segmentBytes), 'segment_tampered');
      const tagEnd = Math.min(body + (segment + 1) * segmentBytes, sealed.length);
      await assertOpenFails(flip(sealed, tagEnd - 1), 'segment_tampered');
      await assertOpenFails(flip(sealed, tagEnd - SEALED_TAG_BYTES), 'segment_tampered');
    }
  });

  it('[REG-06] body tampering: swapped, dropped, appended and spliced segments', async () => {
    const sealed = await sealedPromise;
    const { body } = fieldOffsets(sealed);
    const segment = (buf: Buffer, i: number) =>
      buf.subarray(body + i * segmentBytes, body + (i + 1) * segmentBytes);
    const head = sealed.subarray(0, body);

    const swapped = Buffer.concat([
      head,
      segment(sealed, 1),
      segment(sealed, 0),
      sealed.subarray(body + 2 * segmentBytes),
    ]);
    await assertOpenFails(swapped, 'segment_tampered');

    const withoutLast = sealed.subarray(0, body + 3 * segmentBytes);
    await assertOpenFails(withoutLast, 'truncated');

    // after a full final segment an appended segment is recognised as such; after a short final
    // segment the segment boundaries no longer line up and the final segment fails
    const fullSegments = await sealBuffer(randomBytes(4 * SMALL_SEGMENT), keys, 'chat', {
      segmentSize: SMALL_SEGMENT,
    });
    await assertOpenFails(Buffer.concat([fullSegments, segment(fullSegments, 1)]), 'trailing_data');
    await assertOpenFails(
      Buffer.concat([fullSegments, fullSegments.subarray(body, body + 20)]),
      'trailing_data',
    );
    await assertOpenFails(Buffer.concat([sealed, segment(sealed, 1)]), 'segment_tampered');

    // two objects under the same data key (a per-day key): segment 1 of B in place of segment 1 of A
    const sameKey = new FixedDataKeyProvider();
    const a = await sealBuffer(plaintext, sameKey, 'chat', { segmentSize: SMALL_SEGMENT });
    const b = await sealBuffer(plaintext, sameKey, 'chat', { segmentSize: SMALL_SEGMENT });
    const bodyA = fieldOffsets(a).body;
    const spliced = Buffer.concat([
      a.subarray(0, bodyA + segmentBytes),
      segment(b, 1),
      a.subarray(bodyA + 2 * segmentBytes),
    ]);
    assert.equal(spliced.length, a.length);
    assert.deepEqual(await openBuffer(a, sameKey), plaintext);
    await assertOpenFails(spliced, 'segment_tampered', sameKey);
    const bHeaderOnA = Buffer.concat([b.subarray(0, bodyA), a.subarray(bodyA)]);
    await assertOpenFails(bHeaderOnA, 'segment_tampered', sameKey);
  });

  it('[REG-06] truncation: inside the header, at the end of the header, inside a segment, inside the last tag', async () => {
    const sealed = await sealedPromise;
    const { body, header } = fieldOffsets(sealed);
    for (const cut of [0, 3, 6, 20, header.headerLength - 1])
      await assertOpenFails(sealed.subarray(0, cut), 'truncated');
    await assertOpenFails(sealed.subarray(0, body), 'truncated');
    await assertOpenFails(sealed.subarray(0, body + 5), 'truncated'); // shorter than a tag
    await assertOpenFails(sealed.subarray(0, sealed.length - 1), 'segment_tampered'); // a cut inside a segment looks like a changed segment
    await assertOpenFails(sealed.subarray(0, body + segmentBytes + 40), 'segment_tampered');
    await assertOpenFails(sealed.subarray(0, body + segmentBytes + SEALED_TAG_BYTES - 1), 'truncated'); // segment 1 shorter than a tag
    await assertOpenFails(sealed.subarray(0, body + segmentBytes + SEALED_TAG_BYTES + 1), 'segment_tampered');
  });

  it('[REG-06] the stream opener emits nothing from a segment that fails', async () => {
    const sealed = await sealedPromise;
    const { body } = fieldOffsets(sealed);
    const emitted: Buffer[] = [];
    const opener = createOpenStream(keys);
    opener.on('data', (chunk: Buffer) => emitted.push(chunk));
    const failed = new Promise((resolve) => opener.on('error', resolve));
    opener.end(flip(sealed, body + segmentBytes + 3)); // segment 1 changed
    const err = await failed;
    assert.ok(isCryptoError('segment_tampered')(err));
    assert.deepEqual(Buffer.concat(emitted), plaintext.subarray(0, SMALL_SEGMENT));
  });
});

describe('sealed objects: segments on their own (Range reads)', () => {
  it('[REG-06] maps plaintext ranges to whole segments and opens exactly the requested bytes', async () => {
    for (const size of [1, 100, SMALL_SEGMENT, Math.floor(3.5 * SMALL_SEGMENT), 10 * SMALL_SEGMENT]) {
      const plaintext = randomBytes(size);
      const sealed = await sealBuffer(plaintext, keys, 'recording', { segmentSize: SMALL_SEGMENT });
      const opened = await openSealedHeader(sealed.subarray(0, MAX_SEALED_HEADER_BYTES), keys);
      const layout = sealedLayout(
        opened.header,
        plaintextSizeOf(sealed.length, opened.header.headerLength, SMALL_SEGMENT),
      );
      assert.equal(layout.sealedSize, sealed.length);
      const ranges: Array<[number, number]> = [[0, size]];
      for (let i = 0; i < 40; i++) {
        const start = Math.floor(Math.random() * size);
        ranges.push([start, start + 1 + Math.floor(Math.random() * (size - start))]);
      }
      if (size >= 2 * SMALL_SEGMENT)
        ranges.push([SMALL_SEGMENT - 1, SMALL_SEGMENT + 1], [SMALL_SEGMENT, 2 * SMALL_SEGMENT]);
      for (const [start, end] of ranges) {
        const range = sealedRangeFor(layout, start, end);
        assert.equal(range.firstSegment, Math.floor(start / SMALL_SEGMENT));
        assert.equal(range.lastSegment, Math.floor((end - 1) / SMALL_SEGMENT));
        const fetched = sealed.subarray(range.sealedStart, range.sealedEnd);
        assert.deepEqual(
          openSealedRange(opened, layout, range, fetched),
          plaintext.subarray(start, end),
          `[${start}, ${end}) of ${size}`,
        );
      }
      assert.throws(() => sealedRangeFor(layout, 0, size + 1), isCryptoError('invalid_argument'));
      assert.throws(() => sealedRangeFor(layout, 5, 5), isCryptoError('invalid_argument'));
    }
  });

  it('[REG-06] every segment verifies and decrypts alone; the wrong index or last flag fails', async () => {
    const plaintext = randomBytes(Math.floor(3.5 * SMALL_SEGMENT));
    const sealed = await sealBuffer(plaintext, keys, 'recording', { segmentSize: SMALL_SEGMENT });
    const opened = await openSealedHeader(sealed, keys);
    const layout = sealedLayout(opened.header, plaintext.length);
    assert.equal(layout.segmentCount, 4);
    for (let index = layout.segmentCount - 1; index >= 0; index--) {
      const span = segmentSpan(layout, index);
      const segment = sealed.subarray(span.sealedStart, span.sealedEnd);
      assert.deepEqual(
        openSegment(opened, index, span.last, segment),
        plaintext.subarray(span.plaintextStart, span.plaintextStart + span.plaintextLength),
      );
      assert.throws(
        () => openSegment(opened, index + 1, span.last, segment),
        isCryptoError('segment_tampered'),
      );
    }
    const first = segmentSpan(layout, 0);
    assert.throws(
      () => openSegment(opened, 0, true, sealed.subarray(first.sealedStart, first.sealedEnd)),
      isCryptoError('truncated'),
    );
    const last = segmentSpan(layout, 3);
    assert.throws(
      () => openSegment(opened, 3, false, sealed.subarray(last.sealedStart, last.sealedEnd)),
      isCryptoError('trailing_data'),
    );
  });

  it('[REG-06] sealed size arithmetic is consistent for large objects (2 GB recording)', () => {
    const twoGb = 2 * 1024 ** 3;
    const size = sealedSize(twoGb, 100, DEFAULT_SEGMENT_SIZE);
    assert.equal(size, 100 + twoGb + (twoGb / DEFAULT_SEGMENT_SIZE) * SEALED_TAG_BYTES);
    assert.equal(plaintextSizeOf(size, 100, DEFAULT_SEGMENT_SIZE), twoGb);
    assert.equal(plaintextSizeOf(size + SEALED_TAG_BYTES + 1, 100, DEFAULT_SEGMENT_SIZE), twoGb + 1);
    const layout = sealedLayout({ headerLength: 100, segmentSize: DEFAULT_SEGMENT_SIZE }, twoGb);
    const range = sealedRangeFor(layout, twoGb - 10, twoGb);
    assert.equal(range.sealedEnd, size);
    assert.equal(range.lastSegment, layout.segmentCount - 1);
    assert.throws(
      () => plaintextSizeOf(100 + SEALED_TAG_BYTES - 1, 100, DEFAULT_SEGMENT_SIZE),
      isCryptoError('truncated'),
    );
    assert.throws(
      () => plaintextSizeOf(100 + DEFAULT_SEGMENT_SIZE + 2 * SEALED_TAG_BYTES, 100, DEFAULT_SEGMENT_SIZE),
      isCryptoError('truncated'),
    );
  });
});

describe('sealed objects: key rotation', () => {
  it('[REG-06] rewrapping changes only the header; the body is reused byte for byte', async () => {
    const v1 = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 1 });
    const plaintext = randomBytes(300);
    const sealed = await sealBuffer(plaintext, v1, 'chat', { segmentSize: SMALL_SEGMENT });
    const v2 = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 2 });
    const rewrapped = await v2.rewrapDataKey({
      kekId: parseSealedHeader(sealed).kekId,
      kekVersion: parseSealedHeader(sealed).kekVersion,
      wrapped: parseSealedHeader(sealed).wrappedKey,
    });
    const { header, oldHeaderLength } = await rewrapSealedHeader(sealed, v2, rewrapped);
    const moved = Buffer.concat([header, sealed.subarray(oldHeaderLength)]);
    assert.equal(parseSealedHeader(moved).kekVersion, 2);
    const v1Retired = new LocalKeyProvider({ masterKey: MASTER_KEY, versions: 2, retiredVersions: [1] });
    assert.deepEqual(await openBuffer(moved, v1Retired), plaintext);
    await assertOpenFails(sealed, 'key_version_retired', v1Retired);

    const otherKey = (await v2.newDataKey('chat')).wrapped;
    await assert.rejects(rewrapSealedHeader(sealed, v2, otherKey), isCryptoError('unwrap_failed'));
  });
});
