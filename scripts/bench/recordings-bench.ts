/**
 * Recordings benchmark (issue 4 acceptance: "upload and download of a 1 GB recording with flat
 * memory"; issue 5 target: Range time-to-first-byte < 100 ms anywhere in a 1 GB recording).
 *
 *   npx tsx scripts/bench/recordings-bench.ts [--mib 1024] [--ranges 20] [--baseline-mib 256]
 *
 * Needs the local stack and services (make up): the CDR goes through ingest and the archiver, as
 * in production. The bench starts its own recordings process (port 18084, bucket
 * cz-bench-recordings) so that its memory is measured alone, then:
 *   1. PUT a generated WAV of --mib MiB (streamed, Content-Length known), SM3 computed client-side;
 *   2. GET it whole and check the SM3;
 *   3. --ranges Range reads of 64 KiB at random positions, timing the first body byte;
 * while sampling the process's resident memory (/proc/<pid>/status VmRSS every 50 ms, and the
 * kernel's high-water mark VmHWM). Baselines in the same run: the same bytes PUT/GET straight into
 * MinIO with minio-js (no sealing, no service), and the same Range reads straight from MinIO.
 *
 * Note: the recording is stored under COMPLIANCE retention (2 years) like any other: each run
 * leaves --mib MiB locked in the local MinIO (bucket cz-bench-recordings), and one CDR of corp
 * bench-… in the local archive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import mysql from 'mysql2/promise';
import { createMinioClient, databaseConfig, minioConfig } from '@cz/common';
import { parseSealedHeader, sealedLayout, sealedRangeFor } from '@cz/common/crypto';
import { callerHeaders, loadStackEnv, repoRoot } from '@cz/testkit';

const MiB = 1024 * 1024;
const PORT = 18084;
const BUCKET = 'cz-bench-recordings';
const RANGE_BYTES = 64 * 1024;
const TTFB_TARGET_MS = 100;
const DEADLINE_MS = 15 * 60 * 1000;

function arg(flag: string, fallback: number): number {
  const at = process.argv.indexOf(flag);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${flag} needs a positive integer`);
  return value;
}
const sizeMiB = arg('--mib', 1024);
const rangeCount = arg('--ranges', 20);
const baselineMiB = Math.min(arg('--baseline-mib', 256), sizeMiB);

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1e3);
const mib = (bytes: number) => (bytes / MiB).toFixed(1);
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/** Resident memory of a process from /proc: current and the kernel's peak (high-water mark). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

class RssSampler {
  peak = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly pid: number) {}
  start() {
    this.peak = memoryOf(this.pid).rss;
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, memoryOf(this.pid).rss);
    }, 50);
  }
  stop() {
    clearInterval(this.timer);
    return this.peak;
  }
}

/** A WAV header and `total` bytes of PCM from one reused random block (generation is not measured). */
function generatedWav(total: number, onChunk: (chunk: Buffer) => void): Readable {
  const block = randomBytes(4 * MiB);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.write('WAVE', 8, 'latin1');
  let sent = 0;
  return new Readable({
    highWaterMark: 4 * MiB,
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      let chunk: Buffer;
      if (sent === 0) chunk = Buffer.concat([header, block.subarray(0, Math.min(block.length, total) - 44)]);
      else chunk = Buffer.from(block.subarray(0, Math.min(block.length, total - sent)));
      if (chunk.length >= 48) chunk.writeUInt32LE(sent >>> 0, 44); // vary each block a little
      sent += chunk.length;
      onChunk(chunk);
      this.push(chunk);
    },
  });
}

function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null)
        return reject(new Error(`the recordings process exited (${child.exitCode})`));
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} not open after ${timeoutMs} ms`));
        else setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Readable,
): Promise<{ response: IncomingMessage; sentAt: number }> {
  return new Promise((resolve, reject) => {
    const sentAt = performance.now();
    const req = request({ host: '127.0.0.1', port: PORT, method, path, headers }, (response) =>
      resolve({ response, sentAt }),
    );
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

async function drain(response: IncomingMessage, onChunk?: (chunk: Buffer) => void) {
  let bytes = 0;
  let firstByteAt = 0;
  for await (const chunk of response) {
    if (!firstByteAt) firstByteAt = performance.now();
    bytes += (chunk as Buffer).length;
    onChunk?.(chunk as Buffer);
  }
  return { bytes, firstByteAt };
}

async function main() {
  loadStackEnv();
  const total = sizeMiB * MiB;
  const corpId = `bench-${randomBytes(4).toString('hex')}`;
  const callId = `BENCH-${Date.now()}`;
  const db = await mysql.createConnection({
    ...databaseConfig(),
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const minio = createMinioClient(minioConfig());

  console.log(
    `recordings bench: ${sizeMiB} MiB recording, ${rangeCount} Range reads, baseline ${baselineMiB} MiB`,
  );
  const ingest = await fetch(`${process.env.CZ_INGEST_URL ?? 'https://127.0.0.1:8081'}/v1/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...callerHeaders() },
    body: JSON.stringify({
      corpId,
      callId,
      agentId: 'bench-agent',
      customerNumber: '13800000000',
      direction: 'outbound',
      startTime: new Date(Date.now() - 3600e3).toISOString(),
      endTime: new Date().toISOString(),
      businessType: 'benchmark',
    }),
  }).catch((err: unknown) => {
    throw new Error(`ingest (127.0.0.1:8081) is not reachable — run make up first (${String(err)})`);
  });
  if (ingest.status !== 202)
    throw new Error(`ingest refused the CDR: ${ingest.status} ${await ingest.text()}`);
  const archivedBy = Date.now() + 60000;
  for (;;) {
    const [rows] = await db.query('SELECT id FROM call_record WHERE corp_id = ? AND call_id = ?', [
      corpId,
      callId,
    ]);
    if ((rows as unknown[]).length > 0) break;
    if (Date.now() > archivedBy) throw new Error('the archiver did not store the CDR within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const child = spawn(process.execPath, ['--import', 'tsx', 'services/recordings/src/server.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      CZ_RECORDINGS_PORT: String(PORT),
      CZ_RECORDINGS_BUCKET: BUCKET,
      CZ_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const killer = setTimeout(() => {
    console.error('bench deadline exceeded');
    child.kill('SIGKILL');
    process.exit(1);
  }, DEADLINE_MS);
  try {
    await waitForPort(PORT, child, 60000);
    const pid = child.pid!;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idle = memoryOf(pid);

    // 1. PUT
    const sampler = new RssSampler(pid);
    const sentHash = createHash('sm3');
    // RSS at every tenth of the upload: flat memory shows as a flat series
    const putSeries: number[] = [];
    let sentSoFar = 0;
    const onSent = (chunk: Buffer) => {
      sentHash.update(chunk);
      sentSoFar += chunk.length;
      if (sentSoFar >= ((putSeries.length + 1) * total) / 10) putSeries.push(memoryOf(pid).rss);
    };
    sampler.start();
    const putStart = performance.now();
    const { response: putResponse } = await send(
      'PUT',
      `/v1/recordings/${callId}?corpId=${corpId}`,
      { 'content-type': 'audio/wav', 'content-length': String(total), ...callerHeaders() },
      generatedWav(total, onSent),
    );
    let putReply = '';
    for await (const chunk of putResponse) putReply += String(chunk);
    const putMs = performance.now() - putStart;
    const putPeak = sampler.stop();
    const afterPut = memoryOf(pid);
    if (putResponse.statusCode !== 201)
      throw new Error(`PUT answered ${putResponse.statusCode}: ${putReply}`);
    const sentSm3 = sentHash.digest('hex');

    const [rows] = await db.query(
      `SELECT object_key, version_id, sealed_header, plaintext_size, plaintext_sm3 FROM recording_object
       WHERE kind = 'call' AND corp_id = ? AND owner_id = ? AND status = 'complete'`,
      [corpId, callId],
    );
    const row = (
      rows as { object_key: string; version_id: string; sealed_header: Buffer; plaintext_sm3: string }[]
    )[0];
    if (!row) throw new Error('no complete recording row');
    if (row.plaintext_sm3 !== sentSm3) throw new Error('the service hashed different bytes than were sent');

    // 2. GET whole
    // the dev caller reads and writes every corp
    const auth = callerHeaders();
    const getHash = createHash('sm3');
    const getSeries: number[] = [];
    let gotSoFar = 0;
    const onGot = (chunk: Buffer) => {
      getHash.update(chunk);
      gotSoFar += chunk.length;
      if (gotSoFar >= ((getSeries.length + 1) * total) / 10) getSeries.push(memoryOf(pid).rss);
    };
    sampler.start();
    const getStart = performance.now();
    const { response: getResponse } = await send('GET', `/v1/recordings/${callId}?corpId=${corpId}`, auth);
    const got = await drain(getResponse, onGot);
    const getMs = performance.now() - getStart;
    const getPeak = sampler.stop();
    const afterGet = memoryOf(pid);
    if (getResponse.statusCode !== 200 || got.bytes !== total)
      throw new Error(`GET: ${getResponse.statusCode}, ${got.bytes} bytes`);
    if (getHash.digest('hex') !== sentSm3) throw new Error('GET returned different bytes');

    // 3. Range reads at random positions, and the same sealed ranges straight from MinIO
    const header = parseSealedHeader(row.sealed_header);
    const layout = sealedLayout(header, total);
    const serviceTtfb: number[] = [];
    const minioTtfb: number[] = [];
    for (let i = 0; i < rangeCount; i++) {
      const start = Math.floor(Math.random() * (total - RANGE_BYTES));
      const { response, sentAt } = await send('GET', `/v1/recordings/${callId}?corpId=${corpId}`, {
        ...auth,
        range: `bytes=${start}-${start + RANGE_BYTES - 1}`,
      });
      const read = await drain(response);
      if (response.statusCode !== 206 || read.bytes !== RANGE_BYTES)
        throw new Error(`Range read: ${response.statusCode}`);
      serviceTtfb.push(read.firstByteAt - sentAt);
      const sealed = sealedRangeFor(layout, start, start + RANGE_BYTES);
      const minioStart = performance.now();
      const stream = await minio.getPartialObject(
        BUCKET,
        row.object_key,
        sealed.sealedStart,
        sealed.sealedEnd - sealed.sealedStart,
        {
          versionId: row.version_id,
        },
      );
      let first = 0;
      for await (const _chunk of stream) if (!first) first = performance.now();
      minioTtfb.push(first - minioStart);
    }

    // baselines: the same kind of bytes straight into and out of MinIO (minio-js, known size, no sealing)
    const baselineBytes = baselineMiB * MiB;
    const baselineKey = `baseline/${corpId}.bin`;
    const basePutStart = performance.now();
    const uploaded = await minio.putObject(
      BUCKET,
      baselineKey,
      generatedWav(baselineBytes, () => undefined),
      baselineBytes,
    );
    const basePutMs = performance.now() - basePutStart;
    const baseGetStart = performance.now();
    let baseGot = 0;
    for await (const chunk of await minio.getObject(BUCKET, baselineKey, {
      versionId: uploaded.versionId ?? undefined,
    })) {
      baseGot += (chunk as Buffer).length;
    }
    const baseGetMs = performance.now() - baseGetStart;
    await minio.removeObject(BUCKET, baselineKey, { versionId: uploaded.versionId ?? undefined });
    if (baseGot !== baselineBytes) throw new Error('baseline GET short');

    const putMbps = mbps(total, putMs);
    const getMbps = mbps(total, getMs);
    const p50 = percentile(serviceTtfb, 50);
    const p95 = percentile(serviceTtfb, 95);
    const max = Math.max(...serviceTtfb);
    const minioP50 = percentile(minioTtfb, 50);
    console.log('');
    console.log(
      `  recording                      ${mib(total)} MiB, sealed in 64 KiB segments, 8 MiB multipart parts`,
    );
    console.log(`  recordings process RSS  idle   ${mib(idle.rss)} MiB`);
    console.log(
      `                          PUT    peak ${mib(putPeak)} MiB (sampled), high-water mark ${mib(afterPut.hwm)} MiB`,
    );
    console.log(
      `                          GET    peak ${mib(getPeak)} MiB (sampled), high-water mark ${mib(afterGet.hwm)} MiB`,
    );
    console.log(`                          PUT at 10%..100%: ${putSeries.map((v) => mib(v)).join(' ')} MiB`);
    console.log(`                          GET at 10%..100%: ${getSeries.map((v) => mib(v)).join(' ')} MiB`);
    console.log(
      `                          peak growth over idle: ${mib(Math.max(putPeak, getPeak) - idle.rss)} MiB while moving ${mib(total)} MiB each way`,
    );
    console.log(
      `  PUT (seal + SM3/MD5 + MinIO)   ${putMbps.toFixed(1)} MB/s   (raw MinIO putObject baseline ${mbps(baselineBytes, basePutMs).toFixed(1)} MB/s, ratio ${(putMbps / mbps(baselineBytes, basePutMs)).toFixed(2)})`,
    );
    console.log(
      `  GET (MinIO + verify + open)    ${getMbps.toFixed(1)} MB/s   (raw MinIO getObject baseline ${mbps(baselineBytes, baseGetMs).toFixed(1)} MB/s, ratio ${(getMbps / mbps(baselineBytes, baseGetMs)).toFixed(2)})`,
    );
    console.log(
      `  Range 64 KiB TTFB (${rangeCount} random)   p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${max.toFixed(1)} ms — target < ${TTFB_TARGET_MS} ms: ${max < TTFB_TARGET_MS ? 'met' : 'NOT met'} (max/target ${(max / TTFB_TARGET_MS).toFixed(2)})`,
    );
    console.log(
      `  same ranges straight from MinIO p50 ${minioP50.toFixed(1)} ms (service/MinIO p50 ratio ${(p50 / minioP50).toFixed(2)})`,
    );
    console.log(`  integrity: SM3 of uploaded = stored = downloaded (${sentSm3.slice(0, 16)}…)`);
  } finally {
    clearTimeout(killer);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await db.end();
  }
}

await main();
