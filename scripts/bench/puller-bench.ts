/**
 * Puller benchmark: records per second through the SDK sandbox child (GetChatData of 1,000-record
 * batches from the C test double, RSA-PKCS#1 v1.5 of every encrypt_random_key, DecryptData, IPC
 * back to the parent), against a baseline measured in the same run: the bare RSA decryptions of
 * the same keys in one process (the floor no puller can beat). Also media: GetMediaData chunks
 * through the child against reading the same bytes from disk, and — when the recordings service
 * runs — the whole media path into recordings with the puller's RSS sampled while it streams (flat:
 * it never holds more than a chunk or two). Prints child and parent RSS.
 *
 *   node --security-revert=CVE-2023-46809 --import tsx scripts/bench/puller-bench.ts [--records 5000] [--media-mib 64]
 *
 * (the revert flag only lets this process measure the RSA baseline; the puller service itself never
 * runs with it — its SDK child does, see services/puller/src/sdk/child.ts)
 */
import { constants, createPrivateKey, privateDecrypt } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { fetchMedia, recordingsSink, SdkChild } from '@cz/puller';
import { buildFinanceSdkDouble, devCallerToken, rsaKeyPair, writeDoubleScript } from '@cz/testkit';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '5000' }, 'media-mib': { type: 'string', default: '64' } },
});
const records = Number(values.records);
const mediaBytes = Number(values['media-mib']) * 1024 * 1024;

const rssMiB = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
};

const key = rsaKeyPair();
// the media file is written in 1 MiB blocks: no buffer of its size in this process
const mediaPath = join(tmpdir(), `cz-puller-bench-${process.pid}.bin`);
const fd = openSync(mediaPath, 'w');
const block = randomBytes(1024 * 1024);
for (let written = 0; written < mediaBytes; written += block.length) writeSync(fd, block);
closeSync(fd);
const script = writeDoubleScript({
  corpId: 'wwbench',
  secret: 'bench',
  publicKeys: { 1: key.publicKeyPem },
  chats: Array.from({ length: records }, (_, i) => ({
    seq: i + 1,
    msgid: `bench-${i + 1}`,
    publickeyVer: 1,
    message: {
      msgid: `bench-${i + 1}`,
      action: 'send',
      from: 'zhangwei',
      tolist: ['wmCust1'],
      msgtime: Date.now(),
      msgtype: 'text',
      text: { content: '您好，这是一条用于基准测试的消息。'.repeat(4) },
    },
  })),
  media: [{ sdkfileid: 'bench-media', path: mediaPath, chunkBytes: 512 * 1024 }],
});

// baseline: the RSA step alone, in-process, over the same ciphertexts
const ciphertexts = readFileSync(script.path, 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('chat '))
  .map((line) => Buffer.from(line.split(' ')[4]!, 'base64'));
const privateKey = createPrivateKey(key.privateKeyPem);
let rsaOk = true;
let t0 = performance.now();
try {
  for (const c of ciphertexts) privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, c);
} catch {
  rsaOk = false; // this process does not carry the security revert; the child does
}
const rsaMs = performance.now() - t0;

const child = new SdkChild({
  init: {
    libraryPath: buildFinanceSdkDouble(),
    corpId: 'wwbench',
    secret: 'bench',
    privateKeys: [{ publickeyVer: 1, pem: key.privateKeyPem }],
    proxy: '',
    passwd: '',
    timeoutSec: 30,
  },
  callTimeoutMs: 120000,
  env: { ...process.env, CZ_FAKE_WEWORK_SCRIPT: script.path },
});
await child.start();
let maxChildRss = 0;
t0 = performance.now();
let seq = 0;
let pulled = 0;
let decrypted = 0;
while (pulled < records) {
  const batch = await child.pull(seq, 1000);
  if (batch.length === 0) break;
  pulled += batch.length;
  decrypted += batch.filter((r) => r.ok).length;
  seq = batch[batch.length - 1]!.envelope.seq;
  maxChildRss = Math.max(maxChildRss, rssMiB(child.pid!));
}
const pullMs = performance.now() - t0;

t0 = performance.now();
let index: Buffer = Buffer.alloc(0);
let mediaGot = 0;
for (;;) {
  const chunk = await child.mediaChunk('bench-media', index);
  mediaGot += chunk.data.length;
  index = chunk.outIndex;
  maxChildRss = Math.max(maxChildRss, rssMiB(child.pid!));
  if (chunk.finished) break;
}
const mediaMs = performance.now() - t0;
t0 = performance.now();
await readFile(mediaPath);
const diskMs = performance.now() - t0;

// the whole media path: child chunks → this process (md5) → recordings (seal, MinIO), when running
const recordingsUrl = process.env.CZ_RECORDINGS_URL ?? 'http://127.0.0.1:8084';
const reachable = await fetch(`${recordingsUrl}/healthz`).then(
  (r) => r.ok,
  () => false,
);
let upload: { ms: number; rssBefore: number; rssMax: number } | undefined;
if (reachable) {
  const md5 = (
    await fetchMedia({
      source: child,
      sdkfileid: 'bench-media',
      expectedMd5: null,
      maxAttempts: 1,
      maxBytes: Number.MAX_SAFE_INTEGER,
      openSink: () => ({
        write: async () => undefined,
        finish: async () => undefined,
        abort: () => undefined,
      }),
    })
  ).md5;
  const rssBefore = process.memoryUsage().rss / 1048576;
  let rssMax = rssBefore;
  const sample = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss / 1048576)), 20);
  t0 = performance.now();
  await fetchMedia({
    source: child,
    sdkfileid: 'bench-media',
    expectedMd5: md5,
    maxAttempts: 1,
    maxBytes: Number.MAX_SAFE_INTEGER,
    openSink: () =>
      recordingsSink({
        recordingsUrl,
        // the dev caller writes every corp
        token: devCallerToken(),
        corpId: `wwbench-${process.pid}-${Date.now()}`,
        sdkfileid: 'bench-media',
        md5,
        keepOnMismatch: false,
      }),
  });
  clearInterval(sample);
  upload = { ms: performance.now() - t0, rssBefore, rssMax };
}
await child.stop();
script.cleanup();
rmSync(mediaPath, { force: true });

if (decrypted !== records) throw new Error(`only ${decrypted} of ${records} records decrypted`);
const perSec = (n: number, ms: number) => Math.round((n / ms) * 1000);
console.log(
  `records pulled through the child: ${pulled} in ${pullMs.toFixed(0)} ms = ${perSec(pulled, pullMs)}/s`,
);
if (rsaOk) {
  console.log(
    `baseline, bare RSA decryptions in-process: ${perSec(records, rsaMs)}/s → child pipeline at ${((rsaMs / pullMs) * 100).toFixed(0)}% of the RSA floor`,
  );
} else {
  console.log(
    'baseline: this Node refuses PKCS#1 v1.5 in-process (CVE-2023-46809 fix); no RSA floor measured',
  );
}
console.log(
  `media through the child: ${(mediaGot / 1048576).toFixed(0)} MiB in ${mediaMs.toFixed(0)} ms = ${((mediaGot / 1048576 / mediaMs) * 1000).toFixed(0)} MiB/s; disk read of the same file ${diskMs.toFixed(0)} ms (ratio ${(mediaMs / diskMs).toFixed(1)}×)`,
);
if (upload) {
  console.log(
    `media child → puller → recordings (sealed into MinIO): ${((mediaGot / 1048576 / upload.ms) * 1000).toFixed(0)} MiB/s (${(mediaMs / upload.ms).toFixed(2)}× the child-only rate); puller RSS ${upload.rssBefore.toFixed(0)} → max ${upload.rssMax.toFixed(0)} MiB for ${(mediaGot / 1048576).toFixed(0)} MiB`,
  );
} else {
  console.log(`recordings not reachable at ${recordingsUrl}: upload path not measured`);
}
console.log(
  `RSS: child max ${maxChildRss.toFixed(0)} MiB, parent ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`,
);
