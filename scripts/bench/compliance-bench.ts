/**
 * Compliance flow benchmark on the live stack (make up), ratios against baselines of the same run:
 *
 * 1. live: sustained messages through the running ingest (default 1,000 msgs/s for 30 s, about one
 *    in five with a lexicon phrase), ingest → alert published (compliance_alert.published_at)
 *    p50 / p95 / p99, and the running compliance's RSS (/proc/<pid>/status of .stack/pids);
 * 2. memory: a compliance app in a child process (its own database) with the default lexicon and
 *    with 10,000 more terms published: RSS of each (the live stack's lexicon is not touched);
 * 3. retroactive scan: BENCH_RESCAN_SIZE archived messages (default 100,000; the figure is
 *    1,000,000) in a bench database, scanned by a compliance app in this process at full rate:
 *    msgs/s, while the same live load runs again: live p95 during the scan vs alone.
 *
 *   npx tsx scripts/bench/compliance-bench.ts
 *   BENCH_COMPLIANCE_RATE=1000 BENCH_COMPLIANCE_SECONDS=30 BENCH_RESCAN_SIZE=1000000 npx tsx …
 *
 * Bench corps are `bench-compliance-<random>`: their messages and alerts are removed from the live
 * database at the end of each load (scripts/bench/bench-corp.ts), bench databases are dropped. Not part of `make test`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import mysql from 'mysql2/promise';
import { Kafka, logLevel } from 'kafkajs';
import type { LexiconEntry } from '@cz/contracts';
import {
  createMainDataSource,
  databaseConfig,
  kafkaConfig,
  kafkaTransport,
  keyProviderFromEnv,
} from '@cz/common';
import { sealBuffer, sealedKeyInfo } from '@cz/common/crypto';
import { storeMessages, type MessageRow } from '@cz/archiver';
import compliance from '@cz/compliance';
import {
  archivedMessage,
  callerHeaders,
  createTestDatabase,
  loadStackEnv,
  repoRoot,
  testCallerAuth,
} from '@cz/testkit';
import { removeBenchCorp } from './bench-corp';
import { DEFAULT_LEXICON } from '@cz/compliance/default-lexicon';

loadStackEnv();
const RATE = Number(process.env.BENCH_COMPLIANCE_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_COMPLIANCE_SECONDS ?? 30);
const RESCAN_SIZE = Number(process.env.BENCH_RESCAN_SIZE ?? 100000);
const INGEST_URL = process.env.CZ_INGEST_URL ?? 'https://127.0.0.1:8081';
const keys = keyProviderFromEnv();

const RISKY = [
  '这个产品保本保息，放心买',
  '说实话稳赚不赔',
  '加 微 信 私下聊',
  '需要交一点加急费，今天就能办好',
];
const NEUTRAL = [
  '好的，我考虑一下。',
  '购买前需要先做风险测评，产品说明书我发您看一下。',
  '明天上午我在网点等您。',
  '这款产品有30天封闭期，到期后可以赎回，请您仔细阅读风险揭示书。',
];

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function rssOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

const livePid = () => Number(readFileSync(`${repoRoot}.stack/pids/compliance.pid`, 'utf8').trim());

/** corps of the live loads, removed from the live archive once every measurement is done */
const benchCorps: string[] = [];

/** Live load: RATE msgs/s for `seconds` through the running ingest; latencies of the alerts it raised. */
async function liveLoad(label: string, seconds: number) {
  const corpId = `bench-compliance-${randomBytes(4).toString('hex')}`;
  const sentAt = new Map<string, number>();
  const perTick = Math.max(1, Math.round(RATE / 10));
  const started = Date.now();
  let sent = 0;
  let inflight: Promise<void>[] = [];
  for (let tick = 0; tick < seconds * 10; tick++) {
    const due = started + tick * 100;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    const messages = Array.from({ length: perTick }, (_, i) => {
      const n = tick * perTick + i;
      const risky = n % 5 === 0;
      const msgid = `b-${n}`;
      if (risky) sentAt.set(msgid, 0);
      return {
        msgid,
        action: 'send',
        from: 'liqiang',
        tolist: [`wmBench${n % 50}`],
        msgtime: Date.now(),
        msgtype: 'text',
        text: { content: `${NEUTRAL[n % NEUTRAL.length]!}${risky ? RISKY[(n / 5) % RISKY.length]! : ''}` },
      };
    });
    const at = Date.now();
    inflight.push(
      fetch(`${INGEST_URL}/v1/wecom/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...callerHeaders() },
        body: JSON.stringify({ corpId, messages }),
      }).then(async (res) => {
        if (res.status !== 202)
          throw new Error(`ingest answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
        for (const m of messages) if (sentAt.has(m.msgid)) sentAt.set(m.msgid, at);
        sent += messages.length;
      }),
    );
    if (inflight.length >= 20) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  const elapsed = (Date.now() - started) / 1000;
  const db = await mysql.createConnection({ ...mainDb(), supportBigNumbers: true });
  let rows: { msgid: string; published: string | null }[] = [];
  const deadline = Date.now() + 60000;
  for (;;) {
    [rows] = (await db.query(
      `SELECT msgid, CAST(UNIX_TIMESTAMP(MIN(published_at)) * 1000 AS UNSIGNED) AS published
         FROM compliance_alert WHERE corp_id = ? GROUP BY msgid`,
      [corpId],
    )) as unknown as [{ msgid: string; published: string | null }[]];
    const done = rows.filter((r) => r.published !== null).length;
    if (done >= sentAt.size || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await db.end();
  const latencies = rows
    .filter((r) => r.published !== null && sentAt.get(r.msgid))
    .map((r) => Number(r.published) - sentAt.get(r.msgid)!)
    .sort((a, b) => a - b);
  const result = {
    label,
    sent,
    rate: Math.round(sent / elapsed),
    alerted: latencies.length,
    expected: sentAt.size,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
  benchCorps.push(corpId);
  console.log(
    `${label}: ${result.sent} msgs at ${result.rate} msgs/s; ${result.alerted}/${result.expected} expected alerts published; ` +
      `ingest → alert published p50 ${result.p50} ms, p95 ${result.p95} ms, p99 ${result.p99} ms`,
  );
  return result;
}

function mainDb() {
  const config = databaseConfig();
  return {
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.database,
    ...(config.ssl ? { ssl: config.ssl } : {}),
  };
}

/** 10,000 distinct generated terms of the `custom` category. */
function generatedTerms(count: number): LexiconEntry[] {
  const chars = '安百宝财诚达丰福富广汇惠吉嘉金锦聚康乐隆茂明宁平瑞盛泰通旺祥鑫兴怡盈永裕源长众'.split('');
  const out: LexiconEntry[] = [];
  for (let i = 0; out.length < count; i++) {
    const a = chars[i % chars.length]!;
    const b = chars[Math.floor(i / chars.length) % chars.length]!;
    const c = chars[Math.floor(i / chars.length ** 2) % chars.length]!;
    out.push({
      id: `bench-${i}`,
      kind: 'term',
      pattern: `${a}${b}${c}专享计划`,
      category: 'custom',
      severity: 'info',
      explanation: 'bench term',
      reg: [],
      enabled: true,
    });
  }
  return out;
}

/** Child mode: a compliance app on `BENCH_DB` whose published lexicon has `BENCH_TERMS` extra terms; prints its RSS. */
async function rssChild(): Promise<void> {
  const extra = Number(process.env.BENCH_TERMS ?? 0);
  const database = process.env.BENCH_DB!;
  const config = { ...databaseConfig(), database };
  const ds = createMainDataSource(config);
  await ds.initialize();
  const entries = [...DEFAULT_LEXICON, ...generatedTerms(extra)];
  await ds.query(
    `INSERT INTO lexicon_version (version, status, entry_count, digest, note, created_by, created_at, published_by, published_at)
     VALUES (1, 'published', ?, '', 'bench', 'bench', NOW(3), 'bench', NOW(3))`,
    [entries.length],
  );
  for (let i = 0; i < entries.length; i += 1000) {
    const part = entries.slice(i, i + 1000);
    await ds.query(
      `INSERT INTO lexicon_entry (version, entry_id, kind, category, severity, enabled, body) VALUES ${part.map(() => '(1, ?, ?, ?, ?, ?, ?)').join(',')}`,
      part.flatMap((e) => [e.id, e.kind, e.category, e.severity, e.enabled ? 1 : 0, JSON.stringify(e)]),
    );
  }
  await ds.destroy();
  // a loaded machine compiles 10,000 terms slower than fastify's default 10 s plugin timeout
  const app = Fastify({ logger: false, pluginTimeout: 300000 });
  await app.register(compliance, {
    database: config,
    kafka: kafkaConfig('cz-compliance-bench-rss'),
    keys,
    callers: testCallerAuth(),
    scan: { groupId: `cz-compliance-bench-rss-${randomBytes(4).toString('hex')}` },
  });
  await app.ready();
  // the published version compiled and a few scans done
  const reply = await app.inject({
    method: 'POST',
    url: '/v1/lexicon/test',
    headers: callerHeaders(),
    payload: { text: `${RISKY.join('')}安百宝专享计划` },
  });
  global.gc?.();
  const { rssMiB, peakMiB } = rssOf(process.pid);
  console.log(
    JSON.stringify({
      rssMiB,
      peakMiB,
      tester: reply.statusCode,
      heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
    }),
  );
  await app.close();
  process.exit(0);
}

async function childRss(extraTerms: number) {
  const db = await createTestDatabase();
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), '--rss-child'],
        {
          env: { ...process.env, BENCH_DB: db.config.database, BENCH_TERMS: String(extraTerms) },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('exit', (code) =>
        code === 0 ? resolve(text) : reject(new Error(`rss child exited ${code}`)),
      );
    });
    return JSON.parse(out.trim().split('\n').pop()!) as { rssMiB: number; peakMiB: number };
  } finally {
    await db.drop();
  }
}

async function rescanBench(during: () => Promise<Awaited<ReturnType<typeof liveLoad>>>) {
  const db = await createTestDatabase();
  const corpId = 'bench-rescan';
  const start = Date.UTC(2025, 0, 1);
  const t0 = Date.now();
  const ds = createMainDataSource(db.config);
  await ds.initialize();
  for (let i = 0; i < RESCAN_SIZE; i += 2000) {
    const rows: MessageRow[] = [];
    for (let j = i; j < Math.min(RESCAN_SIZE, i + 2000); j++) {
      const message = archivedMessage({
        corpId,
        msgid: `r-${j}`,
        from: j % 2 ? 'liqiang' : 'wmCust',
        tolist: [j % 2 ? 'wmCust' : 'liqiang'],
        msgtime: start + j * 1000,
        text: `${NEUTRAL[j % NEUTRAL.length]!}${j % 20 === 0 ? RISKY[(j / 20) % RISKY.length]! : ''}`,
      });
      const sealedRecord = await sealBuffer(Buffer.from(JSON.stringify(message)), keys, 'chat', {
        kind: 'msg',
        corp: corpId,
        id: message.id,
      });
      const info = sealedKeyInfo(sealedRecord);
      rows.push({ message, sealedRecord, kekId: info.kekId, kekVersion: info.kekVersion });
    }
    await storeMessages(ds, rows);
  }
  await ds.destroy();
  console.log(
    `rescan archive: ${RESCAN_SIZE} messages sealed and stored in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  const kafka = new Kafka({
    clientId: 'cz-compliance-bench',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `cz-compliance-bench-${randomBytes(4).toString('hex')}`;
  // this app only rescans: its live scan starts at the topics' ends
  for (const [group, topic] of [
    [groupId, 'cz.msg.v1'],
    [`${groupId}-calls`, 'cz.call.v1'],
    [`${groupId}-events`, 'cz.event.v1'],
  ] as const) {
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
    });
  }
  await admin.disconnect();
  const app = Fastify({ logger: false, pluginTimeout: 300000 });
  await app.register(compliance, {
    database: db.config,
    kafka: kafkaConfig('cz-compliance-bench'),
    keys,
    callers: testCallerAuth(),
    scan: { groupId, rescanBatchSize: 1000, rescanPollMs: 100 },
  });
  await app.ready();
  const jobId = randomBytes(16).toString('hex');
  const [version] = await db.query<{ version: number }>(
    "SELECT version FROM lexicon_version WHERE status = 'published'",
  );
  const scanStart = Date.now();
  await db.query(
    `INSERT INTO compliance_rescan (id, version, corp_id, org_unit_id, from_time, to_time, rate_per_second, status,
                                    requested_by, created_at, updated_at)
     VALUES (?, ?, ?, NULL, ?, ?, 100000, 'queued', 'bench', NOW(3), NOW(3))`,
    [jobId, version?.version ?? 1, corpId, new Date(start), new Date(start + RESCAN_SIZE * 1000 + 1000)],
  );
  const live = during();
  let job: { status: string; scanned: string; alerts: string } | undefined;
  for (;;) {
    [job] = await db.query<{ status: string; scanned: string; alerts: string }>(
      'SELECT status, scanned, alerts FROM compliance_rescan WHERE id = ?',
      [jobId],
    );
    if (job?.status !== 'running' && job?.status !== 'queued') break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const seconds = (Date.now() - scanStart) / 1000;
  const liveDuring = await live;
  await app.close();
  await db.drop();
  const rate = Number(job?.scanned) / seconds;
  console.log(
    `retroactive scan: ${job?.scanned} messages in ${seconds.toFixed(1)} s = ${rate.toFixed(0)} msgs/s, ${job?.alerts} alerts (${job?.status}); ` +
      `1 M messages would take ${(1e6 / rate / 60).toFixed(1)} min`,
  );
  return { rate, liveDuring };
}

if (process.argv.includes('--rss-child')) {
  await rssChild();
} else {
  console.log(`compliance bench: ${RATE} msgs/s for ${SECONDS} s; rescan archive ${RESCAN_SIZE} messages`);
  const pid = livePid();
  const before = rssOf(pid);
  const alone = await liveLoad('live, alone', SECONDS);
  const after = rssOf(pid);
  console.log(
    `running compliance (pid ${pid}): RSS ${before.rssMiB.toFixed(0)} MiB before, ${after.rssMiB.toFixed(0)} MiB after, peak ${after.peakMiB.toFixed(0)} MiB`,
  );
  const base = await childRss(0);
  const big = await childRss(10000);
  console.log(
    `compliance RSS with the default lexicon: ${base.rssMiB.toFixed(0)} MiB (peak ${base.peakMiB.toFixed(0)}); ` +
      `with 10,000 more terms: ${big.rssMiB.toFixed(0)} MiB (peak ${big.peakMiB.toFixed(0)}); ratio ${(big.rssMiB / base.rssMiB).toFixed(2)}`,
  );
  const { rate, liveDuring } = await rescanBench(() =>
    liveLoad('live, during a retroactive scan', Math.min(SECONDS, 20)),
  );
  console.log(
    `live p95 during the scan / alone: ${liveDuring.p95} / ${alone.p95} ms = ${(liveDuring.p95 / alone.p95).toFixed(2)}×; ` +
      `scan rate ${rate.toFixed(0)} msgs/s`,
  );
  for (const corp of benchCorps) await removeBenchCorp(corp, () => undefined);
  process.exit(0);
}
