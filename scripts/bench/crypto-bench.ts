/**
 * Crypto benchmark: sealed-object throughput (SM4-CTR + HMAC-SM3) against what OpenSSL itself
 * reaches on this machine, measured in the same run.
 *
 *   npx tsx scripts/bench/crypto-bench.ts [--mib 256] [--segment 65536]
 *
 * Encrypt-then-MAC on one core touches every byte twice, so its limit is
 * 1 / (1/sm4ctr + 1/sm3) with both speeds from `openssl speed -evp … -bytes 16384`.
 * Prints MB/s (10^6 bytes/s, like openssl speed) and the ratios.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { sm4 as jsSm4 } from 'sm-crypto-v2';
import {
  assertNationalCryptoAvailable,
  createOpenStream,
  createSealStream,
  DEFAULT_SEGMENT_SIZE,
  LocalKeyProvider,
} from '@cz/common/crypto';

const MiB = 1024 * 1024;
const SOURCE_CHUNK = MiB;

interface Options {
  bytes: number;
  segmentSize: number;
}

function parseArgs(argv: string[]): Options {
  const value = (flag: string, fallback: number) => {
    const at = argv.indexOf(flag);
    const parsed = at >= 0 ? Number(argv[at + 1]) : fallback;
    if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${flag} needs a positive integer`);
    return parsed;
  };
  return { bytes: value('--mib', 256) * MiB, segmentSize: value('--segment', DEFAULT_SEGMENT_SIZE) };
}

const keys = new LocalKeyProvider({ masterKey: randomBytes(32) });
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1e3);
const fmt = (value: number) => value.toFixed(1).padStart(8);

/** `total` bytes from one reused random chunk: generating data must not be what is measured. */
function generated(total: number): Readable {
  const chunk = randomBytes(SOURCE_CHUNK);
  let sent = 0;
  return new Readable({
    highWaterMark: SOURCE_CHUNK,
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(SOURCE_CHUNK, total - sent);
      sent += size;
      this.push(chunk.subarray(0, size));
    },
  });
}

function nullSink(collect?: Buffer[]): Writable {
  return new Writable({
    highWaterMark: SOURCE_CHUNK,
    write(chunk: Buffer, _encoding, callback) {
      collect?.push(chunk);
      callback();
    },
  });
}

async function timeSeal(bytes: number, segmentSize: number, collect?: Buffer[]): Promise<number> {
  const started = performance.now();
  await pipeline(generated(bytes), createSealStream(keys, 'recording', { segmentSize }), nullSink(collect));
  return performance.now() - started;
}

async function timeOpen(sealedChunks: Buffer[]): Promise<number> {
  const started = performance.now();
  await pipeline(Readable.from(sealedChunks, { objectMode: false }), createOpenStream(keys), nullSink());
  return performance.now() - started;
}

/** MB/s of node:crypto alone over 16 KiB updates: what the JS layer could at best reach. */
function rawNodeSpeeds(bytes: number): { sm4: number; sm3: number } {
  const data = randomBytes(16384);
  const rounds = bytes / data.length;
  const cipher = createCipheriv('sm4-ctr', randomBytes(16), randomBytes(16));
  let started = performance.now();
  for (let i = 0; i < rounds; i++) cipher.update(data);
  const sm4 = mbps(bytes, performance.now() - started);
  const hash = createHash('sm3');
  started = performance.now();
  for (let i = 0; i < rounds; i++) hash.update(data);
  hash.digest();
  return { sm4, sm3: mbps(bytes, performance.now() - started) };
}

/** `openssl speed` in 1000s of bytes/s for 16384-byte blocks → MB/s; undefined without openssl. */
function opensslSpeed(algorithm: 'sm4-ctr' | 'sm3'): number | undefined {
  let output: string;
  try {
    output = execFileSync('openssl', ['speed', '-evp', algorithm, '-seconds', '3', '-bytes', '16384'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
  } catch {
    return undefined;
  }
  const lines = output.split('\n');
  const header = lines.find((line) => /^type\s/.test(line)) ?? '';
  const column = [...header.matchAll(/(\d+) bytes/g)].findIndex((match) => match[1] === '16384');
  const row = lines.find((line) => line.toLowerCase().startsWith(algorithm)) ?? '';
  const cell = [...row.matchAll(/([\d.]+)k/g)][column];
  return cell ? Number(cell[1]) / 1000 : undefined;
}

function jsSm4Speed(bytes: number): number {
  const data = randomBytes(bytes);
  const key = randomBytes(16);
  jsSm4.encrypt(data.subarray(0, MiB), key, { mode: 'ecb', padding: 'none', output: 'array' }); // warm up the JIT
  const started = performance.now();
  jsSm4.encrypt(data, key, { mode: 'ecb', padding: 'none', output: 'array' });
  return mbps(bytes, performance.now() - started);
}

async function parallelSeal(streams: number, bytes: number, segmentSize: number): Promise<number> {
  // Node 20 does not apply tsx's ESM loader hooks inside workers (not even with --import in
  // execArgv), so each worker registers tsx's in-thread require hook and loads this file again
  const tsxRequireHook = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const bootstrap = `require(${JSON.stringify(tsxRequireHook)}).register(); require(${JSON.stringify(fileURLToPath(import.meta.url))});`;
  const workers = Array.from(
    { length: streams },
    () => new Worker(bootstrap, { eval: true, workerData: { bytes, segmentSize } }),
  );
  await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve)))); // ready
  const started = performance.now();
  const done = workers.map(
    (worker) => new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject)),
  );
  for (const worker of workers) worker.postMessage('go');
  await Promise.all(done);
  const elapsed = performance.now() - started;
  await Promise.all(workers.map((worker) => worker.terminate()));
  return mbps(streams * bytes, elapsed);
}

async function workerMain(): Promise<void> {
  const { bytes, segmentSize } = workerData as { bytes: number; segmentSize: number };
  await timeSeal(8 * MiB, segmentSize); // warm-up
  parentPort!.postMessage('ready');
  await new Promise((resolve) => parentPort!.once('message', resolve));
  await timeSeal(bytes, segmentSize);
  parentPort!.postMessage('done');
}

async function main(): Promise<void> {
  assertNationalCryptoAvailable();
  const { bytes, segmentSize } = parseArgs(process.argv.slice(2));
  const benchStarted = performance.now();
  console.log(
    `crypto-bench: node ${process.versions.node}, OpenSSL ${process.versions.openssl}, segment ${segmentSize} B, stream ${bytes / MiB} MiB`,
  );

  const opensslSm4 = opensslSpeed('sm4-ctr');
  const opensslSm3 = opensslSpeed('sm3');
  const limit = opensslSm4 && opensslSm3 ? 1 / (1 / opensslSm4 + 1 / opensslSm3) : undefined;
  if (limit) {
    console.log(
      `openssl speed   sm4-ctr ${fmt(opensslSm4!)} MB/s   sm3 ${fmt(opensslSm3!)} MB/s   → encrypt-then-MAC limit ${fmt(limit)} MB/s`,
    );
  } else {
    console.log('openssl speed   unavailable (install the openssl CLI); ratios against it are skipped');
  }
  const raw = rawNodeSpeeds(128 * MiB);
  console.log(`node:crypto     sm4-ctr ${fmt(raw.sm4)} MB/s   sm3 ${fmt(raw.sm3)} MB/s   (16 KiB updates)`);

  await timeSeal(16 * MiB, segmentSize); // warm-up
  const sealMs = await timeSeal(bytes, segmentSize);
  const seal = mbps(bytes, sealMs);
  console.log(
    `seal stream     ${fmt(seal)} MB/s${limit ? `   = ${(seal / limit).toFixed(3)} of the single-core limit (target ≥ 0.85)` : ''}`,
  );

  const sealed: Buffer[] = [];
  const openBytes = Math.min(bytes, 128 * MiB);
  await timeSeal(openBytes, segmentSize, sealed);
  const open = mbps(openBytes, await timeOpen(sealed));
  sealed.length = 0;
  console.log(
    `open stream     ${fmt(open)} MB/s${limit ? `   = ${(open / limit).toFixed(3)} of the single-core limit` : ''}   (verify + decrypt, ${openBytes / MiB} MiB)`,
  );

  const parallel = await parallelSeal(2, bytes, segmentSize);
  console.log(
    `2 seal streams  ${fmt(parallel)} MB/s   = ${(parallel / (2 * seal)).toFixed(3)} of 2× one stream   (worker_threads, ${bytes / MiB} MiB each)`,
  );

  const js = jsSm4Speed(8 * MiB);
  console.log(
    `pure-JS SM4     ${fmt(js)} MB/s   (sm-crypto-v2, ECB, 8 MiB)   node SM4-CTR is ${(raw.sm4 / js).toFixed(1)}× faster; sealing (SM4+SM3) is ${(seal / js).toFixed(1)}×`,
  );
  console.log(`total ${((performance.now() - benchStarted) / 1000).toFixed(1)} s`);
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  workerMain().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
