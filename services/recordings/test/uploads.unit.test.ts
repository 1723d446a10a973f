import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { AppError } from '@cz/common';
import { looksLike, mediaTypeOf, recordingTypeOf, SNIFF_BYTES } from '../src/http/media-types';
import { PlaintextMeter, type MeterOptions } from '../src/storage/meter';

const wavHead = () => {
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.write('WAVE', 8, 'latin1');
  return head;
};

async function meter(chunks: Buffer[], options: MeterOptions) {
  const m = new PlaintextMeter(options);
  let passed = 0;
  await pipeline(
    Readable.from(chunks),
    m,
    new Writable({
      write(chunk: Buffer, _e, cb) {
        passed += chunk.length;
        cb();
      },
    }),
  );
  return { meter: m, passed };
}

const rejectsWith = async (promise: Promise<unknown>, status: number, code: string) => {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.statusCode, status);
    assert.equal(err.code, code);
    return true;
  });
};

describe('recording content types', () => {
  test('declared types and their aliases', () => {
    assert.equal(recordingTypeOf('audio/wav'), 'audio/wav');
    assert.equal(recordingTypeOf('audio/x-wav; codecs=1'), 'audio/wav');
    assert.equal(recordingTypeOf('Audio/MP3'), 'audio/mpeg');
    assert.equal(recordingTypeOf('audio/amr'), 'audio/amr');
    assert.equal(recordingTypeOf('audio/ogg'), undefined);
    assert.equal(recordingTypeOf('application/json'), undefined);
    assert.equal(recordingTypeOf(undefined), undefined);
    assert.equal(mediaTypeOf('image/jpeg'), 'image/jpeg');
    assert.equal(mediaTypeOf('not a type'), undefined);
  });

  test('bodies are sniffed against the declared type', () => {
    assert.ok(looksLike('audio/wav', wavHead().subarray(0, SNIFF_BYTES)));
    assert.ok(!looksLike('audio/wav', Buffer.from('#!AMR\n123456')));
    assert.ok(looksLike('audio/amr', Buffer.from('#!AMR\n\x3c12345')));
    assert.ok(looksLike('audio/amr-wb', Buffer.from('#!AMR-WB\n123')));
    assert.ok(looksLike('audio/mpeg', Buffer.from('ID3\x04\x00')));
    assert.ok(looksLike('audio/mpeg', Buffer.from([0xff, 0xfb, 0x90, 0x64])));
    assert.ok(!looksLike('audio/mpeg', Buffer.from('RIFF....WAVE')));
  });
});

describe('plaintext meter', () => {
  const sniffWav = {
    bytes: SNIFF_BYTES,
    matches: (h: Buffer) => looksLike('audio/wav', h),
    declared: 'audio/wav',
  };

  test('counts and hashes what passes, byte for byte, across chunk borders', async () => {
    const body = Buffer.concat([wavHead(), Buffer.alloc(100_000, 7)]);
    const chunks = [body.subarray(0, 5), body.subarray(5, 7), body.subarray(7)];
    const { meter: m, passed } = await meter(chunks, {
      limit: 1e6,
      expectedLength: body.length,
      sniff: sniffWav,
    });
    assert.equal(m.bytes, body.length);
    assert.equal(passed, body.length);
    assert.equal(m.sm3Hex, createHash('sm3').update(body).digest('hex'));
    assert.equal(m.md5Hex, createHash('md5').update(body).digest('hex'));
  });

  test('over the limit: 413', async () => {
    await rejectsWith(meter([Buffer.alloc(600), Buffer.alloc(600)], { limit: 1000 }), 413, 'too_large');
  });

  test('fewer bytes than Content-Length announced: truncated_upload', async () => {
    await rejectsWith(
      meter([Buffer.alloc(100)], { limit: 1000, expectedLength: 200 }),
      400,
      'truncated_upload',
    );
  });

  test('a body that is not what Content-Type says: 415, also when shorter than the sniff window', async () => {
    await rejectsWith(
      meter([Buffer.from('#!AMR\n'), Buffer.alloc(50)], { limit: 1000, sniff: sniffWav }),
      415,
      'content_mismatch',
    );
    await rejectsWith(
      meter([Buffer.from('RIFF')], { limit: 1000, sniff: sniffWav }),
      415,
      'content_mismatch',
    );
  });

  test('md5 mismatch: 422 unless the caller asked to keep it', async () => {
    const body = Buffer.from('voice message bytes');
    const wrong = '0'.repeat(32);
    await rejectsWith(meter([body], { limit: 1000, expectedMd5: wrong }), 422, 'md5_mismatch');
    const kept = await meter([body], { limit: 1000, expectedMd5: wrong, keepMismatch: true });
    assert.equal(kept.meter.md5Hex, createHash('md5').update(body).digest('hex'));
  });

  test('an empty body is refused', async () => {
    await rejectsWith(meter([], { limit: 1000 }), 400, 'empty_upload');
  });
});
