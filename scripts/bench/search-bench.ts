/**
 * Search benchmark: archive throughput through the archiver's store path, and search latency of
 * the blind-index search against a naive plaintext `LIKE '%kw%'` table measured in the same run.
 *
 *   SIZE=1000000 npx tsx scripts/bench/search-bench.ts        (1 M messages, ~15 min on 2 cores)
 *   SIZE=10000000 npx tsx scripts/bench/search-bench.ts       (10 M: hours here; see the estimate it prints)
 *
 * Settings (environment): SIZE messages (default 1,000,000); SEALED=v1 stores the old sealed format
 * (default v2, as ingest seals; the bytes per message are printed by part either way); E2E messages posted through the live
 * ingest → Kafka → archiver (default 20,000; 0 skips it); SAMPLES queries per keyword and query
 * type (default 6); NAIVE_SAMPLES caps the measurements against the time-index-only plaintext
 * table (each scans for seconds at 10 M; default all); WORKERS concurrent batch transactions, like
 * Kafka partitions (default 2);
 * GEN_MAX_MINUTES stops generating early (default 40); KEEP_DB=1 keeps the bench database;
 * BENCH_DB=<name> re-uses a kept database for queries only; with it, PROBE=<n> first stores n new
 * messages into it (archive rate at that size) and QUERIES=0 skips the queries (probe and E2E only).
 *
 * What runs:
 * 1. A throwaway database cz_bench_<random> with the real migrations; an org tree of 200 units,
 *    2,000 employees and 30,000 customers loaded through the portal's directory code.
 * 2. SIZE synthetic Chinese chat messages over the last 2 years, in time order, sealed (SM4) and
 *    stored through `storeMessages` with the archiver's hooks (message_key claim, search tokens,
 *    conversations, customers) in batches of 500, one transaction each. Kafka is bypassed here
 *    for speed (no decode/unseal step): that cost is in the end-to-end sample (step 5).
 * 3. The same messages in plaintext in `bench_plain` (the baseline; only in this database, which
 *    is dropped at the end), indexed on (employee, msgtime) and msgtime.
 * 4. Queries through the portal API (auth, audit, JSON): keyword only; keyword + employee + 30
 *    days; employee + 30 days — with the first-page count (the console's default) and without;
 *    the same against the baseline with LIKE (page + COUNT, and page only).
 * 5. E2E: posts E2E messages to the running ingest and times until the running archiver stored
 *    them all in cz_main; then deletes that bench corp's rows again, and trims cz.msg.v1 to the
 *    records after the sample (fresh test consumer groups read the topic from its start; all
 *    trimmed records were archived long before). E2E=0 skips this step.
 * Not part of `make test`.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import mysql from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import type { ArchivedMessageV1, LoginReply, SearchReply } from '@cz/contracts';
import {
  conversationIdOf,
  createMainDataSource,
  createServer,
  databaseConfig,
  indexKeyFor,
  IndexPurposes,
  kafkaTransport,
  keyProviderFromEnv,
  messageArchiveId,
  migrate,
} from '@cz/common';
import { sealBuffer, sealedKeyInfo } from '@cz/common/crypto';
import { TokenHasher, parseQuery } from '@cz/common/search';
import { callerHeaders, loadStackEnv, seededRandom } from '@cz/testkit';
import { removeBenchCorp } from './bench-corp';
import portal, {
  DEFAULT_LIMITS,
  KIND_CALL,
  KIND_MESSAGE,
  loadDirectory,
  SearchEngine,
  setUserScope,
  upsertUser,
} from '@cz/portal';
import { chatArchiveHooks, storeMessages, type MessageRow } from '@cz/archiver';

loadStackEnv();
const env = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return Math.floor(value);
};
const SIZE = env('SIZE', 1_000_000);
const E2E = env('E2E', 20_000);
const SAMPLES = env('SAMPLES', 6);
const NAIVE_SAMPLES = env('NAIVE_SAMPLES', 1_000_000);
const WORKERS = Math.max(1, env('WORKERS', 2));
const GEN_MAX_MS = env('GEN_MAX_MINUTES', 40) * 60_000;
const BATCH = 500;
const SEALED_FORMAT = process.env.SEALED === 'v1' ? 'v1' : 'v2';
const keys = keyProviderFromEnv();
const corpId = 'bench_corp';
const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 1);
const START = END - 730 * DAY;

// ---------------------------------------------------------------------------------------------
// deterministic synthetic data

const SURNAMES = [...'王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高'];
const GIVEN = [...'伟芳娜敏静磊洋艳勇军杰娟涛明超霞平刚桂英华玉兰秀丽建国志强'];
const PRODUCTS = [
  '稳健理财',
  '大额存单',
  '货币基金',
  '指数基金',
  'ETF联接基金',
  '养老保险',
  '定期存款',
  '结构性存款',
  '信用卡分期',
  '消费贷',
  '黄金积存',
  '国债',
  '净值型理财产品',
  '年金保险',
  '外汇宝',
  '私人银行产品',
];
const BRANCH_NAMES = [
  '浦东',
  '徐汇',
  '静安',
  '黄浦',
  '闵行',
  '福田',
  '南山',
  '朝阳',
  '海淀',
  '西湖',
  '天河',
  '武侯',
  '江汉',
  '鼓楼',
  '雨花',
  '历下',
  '和平',
  '南岗',
  '新城',
];
const CITIES = ['上海', '深圳', '北京', '杭州', '广州', '成都', '武汉', '南京'];

class Synth {
  readonly random: () => number;
  constructor(seed = 20261125) {
    this.random = seededRandom(seed);
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }
  int(min: number, max: number) {
    return min + Math.floor(this.random() * (max - min + 1));
  }
  name() {
    return this.pick(SURNAMES) + this.pick(GIVEN) + (this.random() < 0.5 ? this.pick(GIVEN) : '');
  }
  /** one chat line of an account manager (staff) or a customer */
  text(staff: boolean): string {
    const r = this.random();
    const product = this.pick(PRODUCTS);
    if (staff) {
      if (r < 0.002) return `这款${product}保本保息，您放心买，年化${this.int(3, 8)}%`;
      if (r < 0.003) return `跟您说实话，这个稳赚不赔，很多客户都买了`;
      if (r < 0.0035) return `我们银行是刚性兑付的，到期一定还本付息`;
      if (r < 0.15) return `您好，${this.pick(SURNAMES)}先生，我是您的客户经理，有空聊一下${product}吗？`;
      if (r < 0.3)
        return `${product}的年化收益大约是${this.int(2, 5)}.${this.int(0, 99)}%，期限${this.int(3, 36)}个月，风险等级R${this.int(1, 5)}。`;
      if (r < 0.4)
        return `请您带上身份证到${this.pick(BRANCH_NAMES)}支行办理，明天下午${this.int(1, 5)}点方便吗？`;
      if (r < 0.5) return `合同已经发给您了，请查收并签字，手续费${this.int(0, 3)}‰。`;
      if (r < 0.58) return `最近ETF表现不错，可以考虑定投，每月${this.int(1, 20)}00元起。`;
      if (r < 0.65) return `理财产品说明书里写得很清楚，过往业绩不代表未来表现。`;
      if (r < 0.72) return `活动期间办信用卡送iPhone 15一台，名额有限。`;
      if (r < 0.8) return `好的，我帮您查一下${product}的额度，稍等。`;
      if (r < 0.88) return `${this.pick(CITIES)}分行本周有${product}的客户沙龙，欢迎参加！`;
      return `收到，谢谢${this.name()}，有问题随时联系我。`;
    }
    if (r < 0.12) return '好的，谢谢';
    if (r < 0.24) return `${product}收益怎么算？可以提前赎回吗？`;
    if (r < 0.34)
      return `手续费多少？我手机号是13${this.int(0, 9)}${String(this.int(0, 99999999)).padStart(8, '0')}`;
    if (r < 0.44) return `明天下午有空，我去${this.pick(BRANCH_NAMES)}支行找你`;
    if (r < 0.52) return '这个基金会亏本吗？风险大不大';
    if (r < 0.6) return `我想买${this.int(1, 50)}万的${product}`;
    if (r < 0.66) return 'ETF和普通基金有什么区别？';
    if (r < 0.74) return '合同收到了，签好字发给你';
    if (r < 0.82) return `您好，我是${this.name()}，上次说的${product}还有额度吗`;
    return '收到👌';
  }
}

interface Directory {
  units: { id: string; parentId: string | null; name: string }[];
  employees: { userid: string; unit: string }[];
  customers: string[];
  conversations: { employee: string; customers: string[]; room?: string; worker: number }[];
}

function buildDirectory(): Directory {
  const g = new Synth(7);
  const units: Directory['units'] = [{ id: 'hq', parentId: null, name: '总行' }];
  for (let b = 0; b < 19; b += 1) {
    units.push({ id: `b${b}`, parentId: 'hq', name: `${BRANCH_NAMES[b]}分行` });
    for (let s = 0; s < (b < 9 ? 10 : 9); s += 1)
      units.push({ id: `b${b}s${s}`, parentId: `b${b}`, name: `${BRANCH_NAMES[b]}第${s + 1}支行` });
  }
  const employees = Array.from({ length: 2000 }, (_, i) => ({
    userid: `emp${i}`,
    unit: units[i % units.length]!.id,
  }));
  const customers = Array.from({ length: 30_000 }, (_, i) => `wm${i.toString(36)}${randomTail(g)}`);
  const conversations: Directory['conversations'] = [];
  for (const [i, customer] of customers.entries())
    conversations.push({
      employee: employees[i % employees.length]!.userid,
      customers: [customer],
      worker: 0,
    });
  for (let r = 0; r < 1000; r += 1)
    conversations.push({
      employee: employees[g.int(0, employees.length - 1)]!.userid,
      customers: Array.from({ length: g.int(2, 6) }, () => g.pick(customers)),
      room: `wr${r}`,
      worker: 0,
    });
  for (const [i, c] of conversations.entries()) c.worker = i % WORKERS;
  return { units, employees, customers, conversations };
}

function randomTail(g: Synth) {
  return Array.from(
    { length: 6 },
    () => 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'[g.int(0, 55)],
  ).join('');
}

interface Synthetic {
  message: ArchivedMessageV1;
  employee: string;
  worker: number;
}

function* messages(dir: Directory, size: number): Generator<Synthetic> {
  const g = new Synth();
  for (let i = 0; i < size; i += 1) {
    // busier conversations are picked more often (squared uniform)
    const conversation = dir.conversations[Math.floor(g.random() ** 2 * dir.conversations.length)]!;
    const staff = g.random() < 0.55;
    const customer = g.pick(conversation.customers);
    const from = staff ? conversation.employee : customer;
    const tolist = conversation.room
      ? [conversation.employee, ...conversation.customers].filter((p) => p !== from)
      : [staff ? customer : conversation.employee];
    const msgtime = START + Math.floor(((i + g.random()) * (END - START)) / size);
    const msgid = `bench-${i}`;
    const text = g.text(staff);
    const record = { msgid, action: 'send', from, tolist, msgtime, msgtype: 'text', text: { content: text } };
    const message: ArchivedMessageV1 = {
      schema: 'cz.msg.v1',
      id: messageArchiveId(corpId, msgid),
      corpId,
      msgid,
      action: 'send',
      msgtype: 'text',
      from,
      tolist: [...new Set(tolist)],
      conversationId: conversationIdOf({ from, tolist, roomid: conversation.room }),
      msgtime,
      text,
      raw: record,
      receivedAt: msgtime + 1000,
    };
    if (conversation.room) message.roomid = conversation.room;
    yield { message, employee: conversation.employee, worker: conversation.worker };
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

const now = () => performance.now();
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
};
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const log = (...args: unknown[]) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...args);

async function withDeadlockRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { driverError?: { errno?: number }; errno?: number }).driverError?.errno;
      if ((code === 1213 || code === 1205) && attempt < 5) continue; // as Kafka would redeliver the batch
      throw err;
    }
  }
}

/** Seals a record as ingest does (format v2, bound to its row); SEALED=v1 seals the old format instead. */
async function sealRecord(message: ArchivedMessageV1, format = SEALED_FORMAT): Promise<Buffer> {
  const plaintext = Buffer.from(JSON.stringify(message));
  if (format === 'v1') return sealBuffer(plaintext, keys, 'chat');
  return sealBuffer(plaintext, keys, 'chat', { kind: 'msg', corp: message.corpId, id: message.id });
}

async function sealRows(batch: Synthetic[]): Promise<MessageRow[]> {
  const rows: MessageRow[] = [];
  for (const { message } of batch) {
    const sealedRecord = await sealRecord(message);
    const header = sealedKeyInfo(sealedRecord);
    rows.push({ message, sealedRecord, kekId: header.kekId, kekVersion: header.kekVersion });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

interface ArchiveResult {
  archived: number;
  archiveSeconds: number;
  deciles: number[];
}

/**
 * Stores `items` through the archiver's store path in batches of BATCH, WORKERS transactions in
 * flight (like Kafka partitions), and measures the rate overall and per tenth of the run.
 */
async function archiveStream(
  ds: DataSource,
  items: Iterable<Synthetic>,
  expected: number,
): Promise<ArchiveResult> {
  const hooks = await chatArchiveHooks(ds, keys);
  const buffers: Synthetic[][] = Array.from({ length: WORKERS }, () => []);
  const inflight: (Promise<void> | undefined)[] = Array.from({ length: WORKERS }, () => undefined);
  let completed = 0;
  const marks: { done: number; at: number }[] = [];
  const started = now();
  let generated = 0;
  let lastLog = started;
  const flush = async (w: number) => {
    const batch = buffers[w]!;
    buffers[w] = [];
    if (batch.length === 0) return;
    const rows = await sealRows(batch);
    await inflight[w];
    inflight[w] = withDeadlockRetry(() => storeMessages(ds, rows, undefined, { hooks })).then(() => {
      completed += rows.length;
      marks.push({ done: completed, at: now() });
    });
  };
  for (const item of items) {
    buffers[item.worker]!.push(item);
    generated += 1;
    if (buffers[item.worker]!.length >= BATCH) await flush(item.worker);
    if (now() - lastLog > 30_000) {
      lastLog = now();
      const rate = completed / ((lastLog - started) / 1000);
      log(
        `archived ${completed.toLocaleString()} (${rate.toFixed(0)} msgs/s), ETA ${((expected - completed) / rate / 60).toFixed(1)} min`,
      );
    }
    if (now() - started > GEN_MAX_MS) {
      log(`GEN_MAX_MINUTES reached: stopping at ${generated.toLocaleString()} messages`);
      break;
    }
  }
  for (let w = 0; w < WORKERS; w += 1) await flush(w);
  await Promise.all(inflight.map((p) => p ?? Promise.resolve()));
  const archiveSeconds = (now() - started) / 1000;
  const archived = completed;
  const rateBetween = (fromFraction: number, toFraction: number) => {
    const at = (fraction: number) =>
      fraction === 0 ? started : (marks.find((m) => m.done >= fraction * archived)?.at ?? now());
    return ((toFraction - fromFraction) * archived) / ((at(toFraction) - at(fromFraction)) / 1000);
  };
  const deciles = Array.from({ length: 10 }, (_, k) => rateBetween(k / 10, (k + 1) / 10));
  log(`archived ${archived.toLocaleString()} messages in ${archiveSeconds.toFixed(0)} s`);
  return { archived, archiveSeconds, deciles };
}

/**
 * PROBE=n with BENCH_DB: n more messages, dated in the archive's last week as new traffic would
 * be, stored into an existing bench database; run on a 1 M and a 10 M database in a quiet moment,
 * the two rates compare archive throughput at both sizes under equal conditions.
 */
function* probeMessages(dir: Directory, size: number): Generator<Synthetic> {
  const probeId = randomBytes(3).toString('hex');
  let i = 0;
  for (const item of messages(dir, size)) {
    const msgid = `probe-${probeId}-${i}`;
    const msgtime = END - 7 * DAY + Math.floor((i * 7 * DAY) / size);
    i += 1;
    const raw = { ...(item.message.raw as Record<string, unknown>), msgid, msgtime };
    yield {
      ...item,
      message: { ...item.message, msgid, id: messageArchiveId(corpId, msgid), msgtime, raw },
    };
  }
}

/** Steps 1–3: directory, SIZE messages through the store path, the plaintext baseline. */
async function archiveAndBaseline(ds: DataSource, dbName: string, dir: Directory): Promise<ArchiveResult> {
  await migrate(ds);
  log(`bench database ${dbName}; SIZE=${SIZE.toLocaleString()} WORKERS=${WORKERS}`);
  await loadDirectory(ds, keys, corpId, {
    orgUnits: dir.units,
    employees: dir.employees.map((e) => ({ userid: e.userid, orgUnitId: e.unit, name: `员工${e.userid}` })),
  });
  for (let s = 0; s < dir.customers.length; s += 5000) {
    await loadDirectory(ds, keys, corpId, {
      customers: dir.customers.slice(s, s + 5000).map((externalUserId, i) => ({
        externalUserId,
        name: `客户${s + i}`,
        phone: `139${String(s + i).padStart(8, '0')}`,
      })),
    });
  }
  log('directory loaded: 200 org units, 2,000 employees, 30,000 customers');

  // ---- 2. archive through the store path
  const { archived, archiveSeconds, deciles } = await archiveStream(ds, messages(dir, SIZE), SIZE);

  // ---- 3. the plaintext baseline (same messages, regenerated from the same seed)
  const plainStart = now();
  await ds.query(`CREATE TABLE bench_plain (
    id CHAR(32) NOT NULL, msgtime DATETIME(3) NOT NULL, employee VARCHAR(64) NOT NULL, text VARCHAR(2000) NOT NULL,
    PRIMARY KEY (id), KEY ix_plain_time (msgtime), KEY ix_plain_employee (employee, msgtime)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  let plainBatch: unknown[][] = [];
  const plainFlush = async () => {
    if (plainBatch.length === 0) return;
    await ds.query(
      `INSERT INTO bench_plain (id, msgtime, employee, text) VALUES ${plainBatch.map(() => '(?, ?, ?, ?)').join(', ')}`,
      plainBatch.flat(),
    );
    plainBatch = [];
  };
  let plainCount = 0;
  for (const item of messages(dir, SIZE)) {
    if (plainCount >= archived) break;
    plainBatch.push([item.message.id, new Date(item.message.msgtime), item.employee, item.message.text]);
    plainCount += 1;
    if (plainBatch.length >= 2000) await plainFlush();
  }
  await plainFlush();
  for (const table of ['message', 'message_recipient', 'search_token', 'bench_plain'])
    await ds.query(`ANALYZE TABLE ${table}`);
  log(`baseline table filled in ${((now() - plainStart) / 1000).toFixed(0)} s`);
  const result = { archived, archiveSeconds, deciles };
  console.log(archiveReport(result).join('\n'));
  return result;
}

function archiveReport({ archived, archiveSeconds, deciles }: ArchiveResult): string[] {
  return [
    '',
    `## Search benchmark — ${archived.toLocaleString()} messages (SIZE=${SIZE.toLocaleString()}), ${WORKERS} batch workers`,
    '',
    '| archive (store path, Kafka bypassed) | msgs/s |',
    '|---|---:|',
    `| overall (${archiveSeconds.toFixed(0)} s) | ${(archived / archiveSeconds).toFixed(0)} |`,
    `| first 10 % | ${deciles[0]!.toFixed(0)} |`,
    `| last 10 % | ${deciles[9]!.toFixed(0)} |`,
    `| last 10 % / first 10 % | ${((deciles[9]! / deciles[0]!) * 100).toFixed(0)} % |`,
    `| while the archive held ≤ ${(archived / 10).toLocaleString()} vs ≥ ${((archived * 9) / 10).toLocaleString()} messages | ${deciles[0]!.toFixed(0)} vs ${deciles[9]!.toFixed(0)} msgs/s |`,
    `| deciles | ${deciles.map((d) => d.toFixed(0)).join(' · ')} |`,
  ];
}

async function main() {
  const base = databaseConfig();
  const reuse = process.env.BENCH_DB;
  const dbName = reuse ?? `cz_bench_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({
    host: base.host,
    port: base.port,
    user: base.user,
    password: base.password,
    ...(base.ssl ? { ssl: base.ssl } : {}),
  });
  if (!reuse)
    await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const config = { ...base, database: dbName };
  const ds: DataSource = createMainDataSource(config);
  await ds.initialize();
  const report: string[] = [];
  try {
    const dir = buildDirectory();
    let archive: ArchiveResult | undefined;
    if (reuse) {
      log(`re-using ${dbName} (queries only; migrations brought up to date)`);
      await migrate(ds);
      const probe = env('PROBE', 0);
      if (probe > 0) {
        const [count] = await ds.query<{ n: string }[]>('SELECT COUNT(*) AS n FROM message_key');
        log(
          `probe: ${probe.toLocaleString()} new messages into ${Number(count?.n).toLocaleString()} archived`,
        );
        const result = await archiveStream(ds, probeMessages(dir, probe), probe);
        console.log(
          `\n| probe: ${result.archived.toLocaleString()} messages stored into ${dbName} holding ${Number(count?.n).toLocaleString()} | ${(result.archived / result.archiveSeconds).toFixed(0)} msgs/s |`,
        );
      }
      if (process.env.QUERIES === '0') {
        // only the probe and/or the end-to-end sample
        if (E2E > 0) {
          const e2e = await endToEnd(dir);
          console.log(
            `| end to end, ingest → Kafka → archiver (${E2E.toLocaleString()} msgs, live stack) | ${e2e.rate.toFixed(0)} msgs/s (ingest accepted ${e2e.ingestRate.toFixed(0)}/s) |`,
          );
        }
        return;
      }
    } else archive = await archiveAndBaseline(ds, dbName, dir);
    await ds.query('ANALYZE TABLE message, message_key, message_recipient, search_token, bench_plain');
    const sizes = await ds.query<{ t: string; bytes: string; rowsEstimate: string }[]>(
      `SELECT TABLE_NAME AS t, SUM(DATA_LENGTH + INDEX_LENGTH) AS bytes, SUM(TABLE_ROWS) AS rowsEstimate FROM information_schema.TABLES
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('message', 'message_key', 'message_recipient', 'search_token', 'bench_plain')
       GROUP BY TABLE_NAME`,
    );

    // ---- 4. queries
    const app = createServer('portal', { logger: false });
    await app.register(portal, { database: config, keys, cursorKey: randomBytes(32) });
    await app.ready();
    await upsertUser(ds, {
      username: 'bench',
      displayName: 'bench',
      roles: ['auditor'],
      password: 'Bench#2026',
    });
    // head office: no scope condition, as before data scopes existed
    await setUserScope(ds, 'bench', { all: true, units: [] }, 'bench');
    const login = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { username: 'bench', password: 'Bench#2026' },
    });
    const token = login.json<LoginReply>().token;
    const search = async (params: Record<string, string>) => {
      const t0 = now();
      const res = await app.inject({
        method: 'GET',
        url: `/v1/search?${new URLSearchParams({ limit: '20', ...params }).toString()}`,
        headers: { authorization: `Bearer ${token}` },
      });
      const elapsed = now() - t0;
      if (res.statusCode !== 200)
        throw new Error(`search ${JSON.stringify(params)}: ${res.statusCode} ${res.body}`);
      return { elapsed, reply: res.json<SearchReply>() };
    };
    // the search engine alone (no HTTP, session check, audit write or JSON), to show what of the
    // API latency is the search itself
    const engine = new SearchEngine(
      ds,
      keys,
      new TokenHasher(await indexKeyFor(keys, IndexPurposes.searchToken)),
      DEFAULT_LIMITS,
    );
    const engineSearch = async (params: { q?: string; employee?: string; from?: string; to?: string }) => {
      const t0 = now();
      await engine.search({
        query: params.q ? parseQuery(params.q) : undefined,
        filters: {
          bounds: {
            ...(params.from ? { from: new Date(params.from) } : {}),
            ...(params.to ? { to: new Date(params.to) } : {}),
          },
          kinds: [KIND_MESSAGE, KIND_CALL],
          parties: params.employee
            ? [
                {
                  messageParticipants: [params.employee],
                  callAgents: [params.employee],
                  callCustomerIndexes: [],
                },
              ]
            : [],
        },
        direction: 'desc',
        limit: 20,
        after: undefined,
        count: true,
      });
      return now() - t0;
    };
    /** `naive`: the plaintext table with only its time index (no (employee, time) index) */
    const like = async (where: string, params: unknown[], withCount: boolean, naive = false) => {
      const table = naive ? 'bench_plain IGNORE INDEX (ix_plain_employee)' : 'bench_plain';
      const t0 = now();
      await ds.query(
        `SELECT id, msgtime, text FROM ${table} WHERE ${where} ORDER BY msgtime DESC, id DESC LIMIT 21`,
        params,
      );
      if (withCount) await ds.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, params);
      return now() - t0;
    };

    const keywords = [
      '保本保息',
      '稳赚不赔',
      '刚性兑付',
      '理财产品',
      '手续费',
      '基金',
      '您好',
      'ETF',
      '"iPhone 15"',
    ];
    const likeOf = (kw: string) => `%${kw.replace(/"/g, '')}%`;
    const g = new Synth(99);
    const employeeWindow = () => {
      const from = START + Math.floor(g.random() * (END - START - 30 * DAY));
      return { employee: g.pick(dir.employees).userid, from: new Date(from), to: new Date(from + 30 * DAY) };
    };
    type Kind = 'keyword' | 'keyword+employee+30d' | 'employee+30d';
    const samples: Record<
      Kind,
      {
        ours: number[];
        oursNoCount: number[];
        like: number[];
        likeNoCount: number[];
        likeNaive: number[];
        engine: number[];
        hits: number[];
      }
    > = {
      keyword: { ours: [], oursNoCount: [], like: [], likeNoCount: [], likeNaive: [], engine: [], hits: [] },
      'keyword+employee+30d': {
        ours: [],
        oursNoCount: [],
        like: [],
        likeNoCount: [],
        likeNaive: [],
        engine: [],
        hits: [],
      },
      'employee+30d': {
        ours: [],
        oursNoCount: [],
        like: [],
        likeNoCount: [],
        likeNaive: [],
        engine: [],
        hits: [],
      },
    };
    // warm-up (not measured)
    for (const kw of keywords.slice(0, 3)) {
      await search({ q: kw });
      await like('text LIKE ?', [likeOf(kw)], false);
    }
    const queryStart = now();
    // Every measurement gets its own random employee and window, and the four measurements of a
    // sample run in a random order, so no variant profits from pages the previous one cached.
    const shuffled = <T>(items: T[]) =>
      items
        .map((item) => ({ item, key: g.random() }))
        .sort((a, b) => a.key - b.key)
        .map((x) => x.item);
    const filtersOf = (w: ReturnType<typeof employeeWindow>) => ({
      employee: w.employee,
      from: w.from.toISOString(),
      to: w.to.toISOString(),
    });
    for (let round = 0; round < SAMPLES; round += 1) {
      for (const kw of keywords) {
        const a = samples.keyword;
        const b = samples['keyword+employee+30d'];
        const c = samples['employee+30d'];
        const where2 = 'employee = ? AND msgtime >= ? AND msgtime < ? AND text LIKE ?';
        const where3 = 'employee = ? AND msgtime >= ? AND msgtime < ?';
        const steps: (() => Promise<void>)[] = [
          async () => {
            const r = await search({ q: kw });
            a.ours.push(r.elapsed);
            a.hits.push(r.reply.items.length);
          },
          async () => void a.oursNoCount.push((await search({ q: kw, count: 'false' })).elapsed),
          async () => void a.engine.push(await engineSearch({ q: kw })),
          async () => void b.engine.push(await engineSearch({ q: kw, ...filtersOf(employeeWindow()) })),
          async () => void c.engine.push(await engineSearch(filtersOf(employeeWindow()))),
          async () => void a.like.push(await like('text LIKE ?', [likeOf(kw)], true)),
          async () => void a.likeNoCount.push(await like('text LIKE ?', [likeOf(kw)], false)),
          async () => {
            const r = await search({ q: kw, ...filtersOf(employeeWindow()) });
            b.ours.push(r.elapsed);
            b.hits.push(r.reply.items.length);
          },
          async () =>
            void b.oursNoCount.push(
              (await search({ q: kw, ...filtersOf(employeeWindow()), count: 'false' })).elapsed,
            ),
          async () => {
            const w = employeeWindow();
            b.like.push(await like(where2, [w.employee, w.from, w.to, likeOf(kw)], true));
          },
          async () => {
            const w = employeeWindow();
            b.likeNoCount.push(await like(where2, [w.employee, w.from, w.to, likeOf(kw)], false));
          },
          async () => {
            const r = await search(filtersOf(employeeWindow()));
            c.ours.push(r.elapsed);
            c.hits.push(r.reply.items.length);
          },
          async () =>
            void c.oursNoCount.push(
              (await search({ ...filtersOf(employeeWindow()), count: 'false' })).elapsed,
            ),
          async () => {
            const w = employeeWindow();
            c.like.push(await like(where3, [w.employee, w.from, w.to], true));
          },
          async () => {
            const w = employeeWindow();
            c.likeNoCount.push(await like(where3, [w.employee, w.from, w.to], false));
          },
        ];
        // the naive table scans for seconds per query at 10 M: NAIVE_SAMPLES bounds how often
        if (b.likeNaive.length < NAIVE_SAMPLES)
          steps.push(
            async () => {
              const w = employeeWindow();
              b.likeNaive.push(await like(where2, [w.employee, w.from, w.to, likeOf(kw)], true, true));
            },
            async () => {
              const w = employeeWindow();
              c.likeNaive.push(await like(where3, [w.employee, w.from, w.to], true, true));
            },
          );
        for (const step of shuffled(steps)) await step();
      }
    }
    await app.close();
    log(`queries done in ${((now() - queryStart) / 1000).toFixed(0)} s`);

    // ---- 5. end to end through the running stack
    let e2e: { rate: number; ingestRate: number; seconds: number } | undefined;
    if (E2E > 0) e2e = await endToEnd(dir);

    // ---- report
    if (archive) report.push(...archiveReport(archive));
    else report.push('', `## Search benchmark — queries on ${dbName}`, '', '| | msgs/s |', '|---|---:|');
    if (e2e)
      report.push(
        `| end to end, ingest → Kafka → archiver (${E2E.toLocaleString()} msgs, live stack) | ${e2e.rate.toFixed(0)} (ingest accepted ${e2e.ingestRate.toFixed(0)}/s) |`,
      );
    report.push(
      '',
      '| query (limit 20, newest first; LIKE table indexed on time and (employee, time)) | ours p50 | ours p95 | LIKE p50 | LIKE p95 | ×p50 | ×p95 | ours no-count p50 / p95 | LIKE page-only p50 / p95 | ×p95 (no count) | hits/page |',
    );
    report.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const [kind, s] of Object.entries(samples)) {
      const [o50, o95, l50, l95] = [
        percentile(s.ours, 50),
        percentile(s.ours, 95),
        percentile(s.like, 50),
        percentile(s.like, 95),
      ];
      const [n50, n95, p50, p95] = [
        percentile(s.oursNoCount, 50),
        percentile(s.oursNoCount, 95),
        percentile(s.likeNoCount, 50),
        percentile(s.likeNoCount, 95),
      ];
      const hits = s.hits.reduce((a, b) => a + b, 0) / s.hits.length;
      report.push(
        `| ${kind} (n=${s.ours.length}) | ${ms(o50)} ms | ${ms(o95)} ms | ${ms(l50)} ms | ${ms(l95)} ms | ${(l50 / o50).toFixed(1)} | ${(l95 / o95).toFixed(1)} | ${ms(n50)} / ${ms(n95)} ms | ${ms(p50)} / ${ms(p95)} ms | ${(p95 / n95).toFixed(1)} | ${hits.toFixed(1)} |`,
      );
    }
    report.push(
      '',
      '| filtered queries vs a naive plaintext table with only a time index (page + count) | ours p50 / p95 | LIKE p50 / p95 | ×p50 | ×p95 |',
      '|---|---:|---:|---:|---:|',
    );
    for (const [kind, s] of Object.entries(samples)) {
      if (s.likeNaive.length === 0) continue;
      const [o50, o95, l50, l95] = [
        percentile(s.ours, 50),
        percentile(s.ours, 95),
        percentile(s.likeNaive, 50),
        percentile(s.likeNaive, 95),
      ];
      report.push(
        `| ${kind} | ${ms(o50)} / ${ms(o95)} ms | ${ms(l50)} / ${ms(l95)} ms | ${(l50 / o50).toFixed(1)} | ${(l95 / o95).toFixed(1)} |`,
      );
    }
    report.push(
      '',
      '| the search engine alone (no HTTP, session, audit; page + count) | engine p50 / p95 | API p50 / p95 | LIKE p50 / p95 | LIKE ÷ engine p95 |',
      '|---|---:|---:|---:|---:|',
    );
    for (const [kind, s] of Object.entries(samples)) {
      const [e50, e95] = [percentile(s.engine, 50), percentile(s.engine, 95)];
      report.push(
        `| ${kind} (n=${s.engine.length}) | ${ms(e50)} / ${ms(e95)} ms | ${ms(percentile(s.ours, 50))} / ${ms(percentile(s.ours, 95))} ms | ${ms(percentile(s.like, 50))} / ${ms(percentile(s.like, 95))} ms | ${(percentile(s.like, 95) / e95).toFixed(1)} |`,
      );
    }
    const [pool] = await ds.query<{ b: string }[]>('SELECT @@innodb_buffer_pool_size AS b');
    report.push(
      '',
      `MariaDB innodb_buffer_pool_size ${(Number(pool?.b ?? 0) / 2 ** 20).toFixed(0)} MiB; the LIKE table and the archive share it.`,
    );
    report.push('', '| table | size | rows (estimate) |', '|---|---:|---:|');
    for (const s of sizes)
      report.push(
        `| ${s.t} | ${(Number(s.bytes) / 2 ** 20).toFixed(0)} MiB | ${Number(s.rowsEstimate).toLocaleString()} |`,
      );
    report.push('', ...(await bytesPerMessage(ds, dir, sizes)));
    console.log(report.join('\n'));
  } finally {
    await ds.destroy();
    if (process.env.KEEP_DB === '1' || reuse) log(`kept ${dbName}`);
    else await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
  }
}

/**
 * Bytes per archived message by part (table data + indexes ÷ messages), the sealed record on its
 * own, and the sealed record of the same messages in format v1 and v2 (a sample sealed both ways).
 */
async function bytesPerMessage(
  ds: DataSource,
  dir: Directory,
  sizes: { t: string; bytes: string }[],
): Promise<string[]> {
  const [stored] = await ds.query<{ n: string; sealed: string }[]>(
    'SELECT COUNT(*) AS n, AVG(LENGTH(sealed_record)) AS sealed FROM message',
  );
  const count = Math.max(1, Number(stored?.n ?? 0));
  const per = (table: string) => Number(sizes.find((s) => s.t === table)?.bytes ?? 0) / count;
  const lines = [
    `| bytes per message (${count.toLocaleString()} messages, sealed ${SEALED_FORMAT}) | bytes |`,
    '|---|---:|',
    `| message (row + indexes, sealed record inside) | ${per('message').toFixed(0)} |`,
    `| … of which sealed_record (average length) | ${Number(stored?.sealed ?? 0).toFixed(0)} |`,
    `| search_token | ${per('search_token').toFixed(0)} |`,
    `| message_recipient | ${per('message_recipient').toFixed(0)} |`,
    `| message_key | ${per('message_key').toFixed(0)} |`,
    `| archive total | ${(per('message') + per('search_token') + per('message_recipient') + per('message_key')).toFixed(0)} |`,
    `| bench_plain (the same messages in a plain table) | ${per('bench_plain').toFixed(0)} |`,
  ];
  let json = 0;
  let v1 = 0;
  let v2 = 0;
  let n = 0;
  for (const { message } of messages(dir, 2000)) {
    json += Buffer.byteLength(JSON.stringify(message));
    v1 += (await sealRecord(message, 'v1')).length;
    v2 += (await sealRecord(message, 'v2')).length;
    n += 1;
  }
  lines.push(
    '',
    `| sealed record of the same ${n.toLocaleString()} messages | v1 | v2 | v2 ÷ v1 |`,
    '|---|---:|---:|---:|',
    `| average bytes (plaintext JSON ${(json / n).toFixed(0)}) | ${(v1 / n).toFixed(0)} | ${(v2 / n).toFixed(0)} | ${(v2 / v1).toFixed(2)} |`,
  );
  return lines;
}

/** Posts messages to the running ingest and waits until the running archiver stored them all. */
async function endToEnd(dir: Directory) {
  const url = process.env.CZ_INGEST_URL ?? 'http://127.0.0.1:8081';
  const e2eCorp = `bench-e2e-${randomBytes(3).toString('hex')}`;
  const main = await mysql.createConnection({
    ...databaseConfig(),
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  // one day of messages (one partition), so removing them again touches little of cz_main
  const day = END - DAY;
  const records = [...messages(dir, E2E)].map(({ message: m }, i) => ({
    ...m.raw,
    msgtime: day + Math.floor((i * DAY) / E2E),
  }));
  log(`e2e: posting ${E2E.toLocaleString()} messages as corp ${e2eCorp} to ${url}`);
  const t0 = now();
  let next = 0;
  const post = async () => {
    while (next < records.length) {
      const batch = records.slice(next, next + BATCH);
      next += BATCH;
      const res = await fetch(`${url}/v1/wecom/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...callerHeaders() },
        body: JSON.stringify({ corpId: e2eCorp, messages: batch }),
      });
      if (res.status !== 202)
        throw new Error(`ingest answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
  };
  try {
    await Promise.all([post(), post(), post()]);
    const ingestSeconds = (now() - t0) / 1000;
    const deadline = Date.now() + 15 * 60_000;
    let stored = 0;
    while (Date.now() < deadline) {
      const [rows] = await main.query('SELECT COUNT(*) AS n FROM message WHERE corp_id = ?', [e2eCorp]);
      stored = Number((rows as { n: number }[])[0]!.n);
      if (stored >= E2E) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const seconds = (now() - t0) / 1000;
    log(`e2e: ${stored.toLocaleString()} stored in ${seconds.toFixed(1)} s`);
    if (stored < E2E) throw new Error(`e2e: only ${stored} of ${E2E} archived within 15 minutes`);
    return { rate: E2E / seconds, ingestRate: E2E / ingestSeconds, seconds };
  } finally {
    await main.end();
    await removeCorp(e2eCorp);
    if (process.env.TRIM_TOPIC !== '0') await trimTopic(Date.now());
  }
}

/**
 * Test archivers start fresh consumer groups at the beginning of cz.msg.v1, so bench records left
 * there would slow every later test run. Deletes the topic's records older than `before` (all of
 * them long archived by the running archiver); `TRIM_TOPIC=0` keeps them.
 */
async function trimTopic(before: number) {
  const kafka = new Kafka({
    clientId: 'cz-search-bench',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsetsByTimestamp('cz.msg.v1', before);
    await admin.deleteTopicRecords({ topic: 'cz.msg.v1', partitions: offsets });
    log(`trimmed cz.msg.v1 before ${new Date(before).toISOString()}`);
  } finally {
    await admin.disconnect();
  }
}

async function removeCorp(corp: string) {
  log(`removing corp ${corp} from cz_main`);
  await removeBenchCorp(corp, log);
}

if (process.env.CLEAN_CORP) await removeCorp(process.env.CLEAN_CORP);
else await main();
