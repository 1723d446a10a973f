import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Transform } from 'node:stream';
import {
  CryptoError,
  type CryptoErrorCode,
  type DataClass,
  type KeyProvider,
  type WrappedKey,
} from '../../src/crypto';

export const MASTER_KEY = Buffer.from(
  '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  'hex',
);

/** Hands out the same data key every time, like a per-day data key would. */
export class FixedDataKeyProvider implements KeyProvider {
  readonly dataKey = randomBytes(16);

  async newDataKey(_dataClass: DataClass): Promise<{ plaintext: Buffer; wrapped: WrappedKey }> {
    return { plaintext: this.dataKey, wrapped: { kekId: 'fixed', kekVersion: 1, wrapped: Buffer.from('k') } };
  }

  async unwrapDataKey(): Promise<Buffer> {
    return this.dataKey;
  }
}

export function isCryptoError(code: CryptoErrorCode): (err: unknown) => boolean {
  return (err: unknown) => {
    if (!(err instanceof CryptoError)) throw err;
    if (err.code !== code) throw new Error(`expected CryptoError ${code}, got ${err.code}: ${err.message}`);
    return true;
  };
}

/** Feeds `input` in chunks of `chunkSize` through `transform` and collects the output. */
export async function runTransform(
  transform: Transform,
  input: Buffer,
  chunkSize = 64 * 1024,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const source = Readable.from(
    (function* () {
      for (let at = 0; at < input.length; at += chunkSize) yield input.subarray(at, at + chunkSize);
    })(),
    { objectMode: false },
  );
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await pipeline(source, transform, sink);
  return Buffer.concat(chunks);
}
