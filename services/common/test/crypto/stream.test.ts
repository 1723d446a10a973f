import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import {
  createOpenStream,
  createSealStream,
  LocalKeyProvider,
  openBuffer,
  sealBuffer,
  type KeyProvider,
} from '../../src/crypto';
import { isCryptoError, MASTER_KEY, runTransform } from './helpers';

const keys = new LocalKeyProvider({ masterKey: MASTER_KEY });

/** A source of `total` pseudo-random bytes produced lazily in `chunk`-sized pieces. */
function lazySource(total: number, chunk: number): Readable {
  const block = randomBytes(chunk);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(chunk, total - sent);
      sent += size;
      this.push(block.subarray(0, size));
    },
  });
}

describe('sealing streams', () => {
  it('[REG-06] applies backpressure: a stalled reader stops the writer after one chunk', async () => {
    const sealer = createSealStream(keys, 'recording');
    await once(sealer, 'readable').catch(() => undefined);
    let accepted = 0;
    while (sealer.write(randomBytes(1024 * 1024))) {
      accepted++;
      if (accepted > 4) break;
    }
    assert.ok(accepted <= 1, `writer was not held back (accepted ${accepted} MiB without a reader)`);
    assert.ok(
      sealer.readableLength < 3 * 1024 * 1024,
      `readable side buffered ${sealer.readableLength} bytes`,
    );
    sealer.destroy();
  });

  it('[REG-06] seals and opens 48 MiB with memory independent of the size', async () => {
    // Measured as plaintext in flight (read from the source, not yet opened at the end) rather than
    // process RSS, which the garbage collector moves at will: any stage that held on to its input
    // would make this grow towards the total.
    const total = 48 * 1024 * 1024;
    let readBytes = 0;
    let sealedBytes = 0;
    let openedBytes = 0;
    let maxInFlight = 0;
    const track = () => {
      maxInFlight = Math.max(maxInFlight, readBytes - openedBytes);
    };
    const counter = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        openedBytes += chunk.length;
        callback();
      },
    });
    await pipeline(
      lazySource(total, 200_000),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          readBytes += chunk.length;
          track();
          yield chunk;
        }
      },
      createSealStream(keys, 'recording'),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          sealedBytes += chunk.length;
          track();
          yield chunk;
        }
      },
      createOpenStream(keys),
      counter,
    );
    assert.equal(openedBytes, total);
    assert.equal(sealedBytes > total, true);
    assert.ok(
      maxInFlight < 4 * 1024 * 1024,
      `${(maxInFlight / 1024 / 1024).toFixed(1)} MiB of plaintext were in flight at once`,
    );
  });

  it('[REG-06] errors from the key provider surface as stream errors', async () => {
    const failing: KeyProvider = {
      newDataKey: async () => {
        throw new Error('key service unavailable');
      },
      unwrapDataKey: async () => {
        throw new Error('key service unavailable');
      },
    };
    await assert.rejects(
      runTransform(createSealStream(failing, 'chat'), Buffer.from('x')),
      /key service unavailable/,
    );
    const sealed = await sealBuffer(Buffer.from('x'), keys, 'chat');
    await assert.rejects(runTransform(createOpenStream(failing), sealed), /key service unavailable/);
  });

  it('[REG-06] an empty input stream seals to a valid empty object', async () => {
    const sealed = await runTransform(createSealStream(keys, 'chat'), Buffer.alloc(0));
    assert.equal((await openBuffer(sealed, keys)).length, 0);
    assert.equal((await runTransform(createOpenStream(keys), sealed)).length, 0);
  });

  it('[REG-06] the opener rejects an empty stream and garbage', async () => {
    await assert.rejects(runTransform(createOpenStream(keys), Buffer.alloc(0)), isCryptoError('truncated'));
    await assert.rejects(
      runTransform(createOpenStream(keys), Buffer.from('{"json": true}')),
      isCryptoError('bad_magic'),
    );
  });
});
