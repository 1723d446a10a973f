/**
 * `compliance`: the command line for the lexicon and retroactive scans.
 *
 *   npx tsx services/compliance/src/cli.ts <command> [options]     (or: make compliance ARGS="<command> …")
 *
 * It calls the compliance service (CZ_COMPLIANCE_URL, default https://127.0.0.1:8085) over HTTPS
 * verified against the stack's CA, with a caller credential holding `compliance.lexicon`:
 * --token-file FILE, else CZ_COMPLIANCE_TOKEN, else the local stack's dev caller.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { optionalClientTlsFromEnv, secureFetch } from '@cz/common';
import type {
  LexiconTestReply,
  LexiconVersionListReply,
  RescanJobListReply,
  RescanJobView,
  RescanRequest,
} from '@cz/contracts';

const USAGE = `compliance — the lexicon and retroactive scans of the Cunzheng compliance service

  versions                                  lexicon versions (published, draft, superseded), entries by category
  test --text TEXT | --file FILE [--draft]  scan a text with the published version (or the draft); hits with offsets
  export --version N [--out FILE]           a version's entries as CSV (UTF-8 with BOM; the import format)
  rescan --from T --to T [--corp ID] [--org-unit ID] [--version N] [--rate N]
                                            queue a retroactive scan of archived records (T: ISO date-time or YYYY-MM-DD)
  rescan-status [ID] [--watch]              one scan's progress (scanned/total, alerts, rate), or the latest scans
  rescan-cancel ID                          stop a queued or running scan

Credential: --token-file FILE, CZ_COMPLIANCE_TOKEN, or the local stack's dev caller.`;

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    text: { type: 'string' },
    file: { type: 'string' },
    draft: { type: 'boolean' },
    version: { type: 'string' },
    out: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    corp: { type: 'string' },
    'org-unit': { type: 'string' },
    rate: { type: 'string' },
    watch: { type: 'boolean' },
    'token-file': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

class CliError extends Error {}

const baseUrl = (process.env.CZ_COMPLIANCE_URL ?? 'https://127.0.0.1:8085').replace(/\/+$/, '');
// HTTPS verified against the stack's CA (CZ_TLS_CA_FILE), with the local tools' client certificate if any
const complianceFetch = secureFetch(optionalClientTlsFromEnv());
const devTokenFile = fileURLToPath(
  new URL('../../../.stack/secrets/keyservice/callers/dev.token', import.meta.url),
);

function callerToken(): string {
  const file = opts['token-file'];
  if (file) return readFileSync(file, 'utf8').trim();
  if (process.env.CZ_COMPLIANCE_TOKEN) return process.env.CZ_COMPLIANCE_TOKEN.trim();
  if (existsSync(devTokenFile)) return readFileSync(devTokenFile, 'utf8').trim();
  throw new CliError(
    'no credential: pass --token-file FILE or set CZ_COMPLIANCE_TOKEN (a caller with compliance.lexicon)',
  );
}

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${callerToken()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await complianceFetch(`${baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60000),
    });
  } catch (err) {
    throw new CliError(
      `no answer from the compliance service at ${baseUrl}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!res.ok) {
    const text = await res.text();
    let reason = text.slice(0, 500);
    try {
      const error = JSON.parse(text) as {
        code?: string;
        message?: string;
        errors?: { line: number; error: string }[];
      };
      reason = `${error.code ?? ''}: ${error.message ?? ''}`;
    } catch {
      // not JSON: the text as it came, shortened
    }
    throw new CliError(`refused (${res.status} ${reason})`);
  }
  return res;
}

const json = async <T>(method: string, path: string, body?: unknown) =>
  (await (await api(method, path, body)).json()) as T;

function need(name: 'version' | 'from' | 'to'): string {
  const value = opts[name];
  if (typeof value !== 'string' || value === '') throw new CliError(`--${name} is required\n\n${USAGE}`);
  return value;
}

function positiveInt(text: string, what: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1)
    throw new CliError(`${what} must be a positive whole number`);
  return Number(text);
}

/** ISO date-time as given; a bare date is midnight UTC */
function dateTime(text: string, what: string): string {
  const value = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  if (Number.isNaN(Date.parse(value)))
    throw new CliError(`${what} must be a date (YYYY-MM-DD) or an ISO date-time`);
  return new Date(value).toISOString();
}

const pad = (value: unknown, width: number) => String(value).padEnd(width);

async function versions(): Promise<void> {
  const list = await json<LexiconVersionListReply>('GET', '/v1/lexicon/versions');
  console.log(`published: ${list.published ?? '-'}   draft: ${list.draft ?? '-'}`);
  console.log(
    `${pad('VERSION', 9)}${pad('STATUS', 12)}${pad('ENTRIES', 9)}${pad('PUBLISHED', 26)}${pad('BY', 14)}NOTE`,
  );
  for (const v of list.items) {
    console.log(
      `${pad(v.version, 9)}${pad(v.status, 12)}${pad(v.entryCount, 9)}${pad(v.publishedAt ?? '-', 26)}${pad(v.publishedBy ?? v.createdBy, 14)}${v.note}`,
    );
  }
  const categories = Object.entries(list.byCategory);
  if (categories.length > 0) {
    console.log('\nentries of the published version by category:');
    for (const [category, count] of categories) console.log(`  ${pad(category, 20)}${count}`);
  }
}

async function testText(): Promise<void> {
  const text = opts.file ? readFileSync(opts.file, 'utf8') : opts.text;
  if (text === undefined) throw new CliError(`test needs --text TEXT or --file FILE\n\n${USAGE}`);
  const reply = await json<LexiconTestReply>('POST', '/v1/lexicon/test', {
    text,
    draft: opts.draft === true,
  });
  console.log(
    `lexicon version ${reply.lexiconVersion}${reply.draft ? ' (draft)' : ''}: ${reply.hits.length} hit(s)`,
  );
  for (const hit of reply.hits) {
    console.log(
      `  [${hit.start},${hit.end}) ${JSON.stringify(text.slice(hit.start, hit.end))} → ${hit.term}  ${hit.category}/${hit.severity}  ${hit.ruleId} (${hit.via}) ${hit.reg.join(',')}`,
    );
  }
}

async function exportVersion(): Promise<void> {
  const version = positiveInt(need('version'), '--version');
  const res = await api('GET', `/v1/lexicon/versions/${version}/export`);
  const bytes = Buffer.from(await res.arrayBuffer());
  if (opts.out) {
    writeFileSync(opts.out, bytes);
    console.error(`version ${version} written to ${opts.out} (${bytes.length} bytes)`);
  } else {
    process.stdout.write(bytes);
  }
}

function describeJob(job: RescanJobView): string {
  const end = job.status === 'running' || job.status === 'queued' ? Date.now() : Date.parse(job.updatedAt);
  const seconds = Math.max(0.001, (end - Date.parse(job.createdAt)) / 1000);
  const progress = job.total ? ` (${((100 * job.scanned) / Math.max(1, job.total)).toFixed(1)}%)` : '';
  const scope = [job.corpId ?? 'all corps', job.orgUnitId ? `unit ${job.orgUnitId}` : null]
    .filter(Boolean)
    .join(', ');
  return [
    `${job.id}  ${job.status}  version ${job.version}  ${job.from} → ${job.to}  ${scope}`,
    `  scanned ${job.scanned}/${job.total ?? '?'}${progress}, alerts ${job.alerts}, average ${(job.scanned / seconds).toFixed(0)} records/s (limit ${job.ratePerSecond}/s), by ${job.requestedBy}${job.error ? `, error: ${job.error}` : ''}`,
  ].join('\n');
}

async function rescan(): Promise<void> {
  const request: RescanRequest = {
    from: dateTime(need('from'), '--from'),
    to: dateTime(need('to'), '--to'),
    ...(opts.corp ? { corpId: opts.corp } : {}),
    ...(opts['org-unit'] ? { orgUnitId: opts['org-unit'] } : {}),
    ...(opts.version ? { version: positiveInt(opts.version, '--version') } : {}),
    ...(opts.rate ? { ratePerSecond: positiveInt(opts.rate, '--rate') } : {}),
  };
  const job = await json<RescanJobView>('POST', '/v1/lexicon/rescans', request);
  console.log(describeJob(job));
  console.log(`follow it with: make compliance ARGS="rescan-status ${job.id} --watch"`);
}

async function rescanStatus(id: string | undefined): Promise<void> {
  if (!id) {
    const list = await json<RescanJobListReply>('GET', '/v1/lexicon/rescans');
    if (list.items.length === 0) console.log('no retroactive scans yet');
    for (const job of list.items.slice(0, 20)) console.log(describeJob(job));
    return;
  }
  if (!/^[0-9a-f]{32}$/.test(id)) throw new CliError('a rescan id is 32 hex characters');
  let previous: { at: number; scanned: number } | null = null;
  for (;;) {
    const job = await json<RescanJobView>('GET', `/v1/lexicon/rescans/${id}`);
    const now = Date.now();
    const current = previous
      ? `, now ${((job.scanned - previous.scanned) / ((now - previous.at) / 1000)).toFixed(0)} records/s`
      : '';
    console.log(`${describeJob(job)}${current}`);
    if (!opts.watch || !['queued', 'running'].includes(job.status)) return;
    previous = { at: now, scanned: job.scanned };
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function main(): Promise<void> {
  const [command, argument] = positionals;
  if (opts.help || !command) {
    console.log(USAGE);
    return;
  }
  switch (command) {
    case 'versions':
      return versions();
    case 'test':
      return testText();
    case 'export':
      return exportVersion();
    case 'rescan':
      return rescan();
    case 'rescan-status':
      return rescanStatus(argument);
    case 'rescan-cancel': {
      if (!argument || !/^[0-9a-f]{32}$/.test(argument))
        throw new CliError('rescan-cancel needs the scan id');
      console.log(describeJob(await json<RescanJobView>('POST', `/v1/lexicon/rescans/${argument}/cancel`)));
      return;
    }
    default:
      throw new CliError(`unknown command ${command}\n\n${USAGE}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof CliError ? err.message : err);
  process.exit(1);
});
