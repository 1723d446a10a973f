/**
 * `keys`: the security officers' command line for the key service.
 *
 *   npx tsx services/keyservice/src/cli.ts <command> [options]      (or: make keys ARGS="<command> …")
 *
 * The key service URL comes from CZ_KEYSERVICE_URL (default http://127.0.0.1:8082). Commands that
 * need an officer read the officer's credential from CZ_KEYS_OFFICER_TOKEN or --token-file.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type {
  AuditVerifyReply,
  CreateKeyRequest,
  DataClassName,
  IssuedCredential,
  KeyInitReply,
  KeyRequestListReply,
  KeyRequestView,
  KeyServiceStatus,
  KeyringListReply,
  RewrapJobView,
} from '@cz/contracts';

const USAGE = `keys — security officers' CLI for the Cunzheng key service

  status                                   sealed or not, unseal progress
  init --shares 5 --threshold 3 --officer NAME… [--caller NAME[:class,class]…]
       [--save-demo-secrets DIR]           initialise once; prints the shares and credentials ONCE
  unseal [--share-file FILE | --demo-dir DIR | --reset]
                                           submit one share (prompted for when no file is given)
  seal                                     forget the root key now (officer)
  keyrings                                 KEK versions, min_decryption_version, data keys per version
  rotate-request --class C --reason TEXT
  min-version-request --class C --version N --reason TEXT
  auto-rotate-request --class C --period 90d --reason TEXT     (0 turns it off; s, m, h, d)
  deletion-request --class C --allowed true|false --reason TEXT
  destroy-request --class C --before YYYY-MM-DD --reason TEXT  (crypto-shredding at end of retention)
  requests [--status pending|executed|rejected|failed]
  approve ID | reject ID                   the second officer decides (dual control)
  rewrap [--class C] [--no-wait]           re-wrap stored data keys under the newest KEK versions
  verify                                   check the key service's SM3 audit chain
  caller-add NAME [--classes chat,pii] [--save FILE]
                                           issue (or re-issue) a service credential

Officer commands read the credential from CZ_KEYS_OFFICER_TOKEN or --token-file FILE.
Classes: chat, recording, pii, index, audit.`;

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    shares: { type: 'string' },
    threshold: { type: 'string' },
    officer: { type: 'string', multiple: true },
    caller: { type: 'string', multiple: true },
    'save-demo-secrets': { type: 'string' },
    'share-file': { type: 'string' },
    'demo-dir': { type: 'string' },
    reset: { type: 'boolean' },
    class: { type: 'string' },
    classes: { type: 'string' },
    reason: { type: 'string' },
    version: { type: 'string' },
    period: { type: 'string' },
    allowed: { type: 'string' },
    before: { type: 'string' },
    status: { type: 'string' },
    'no-wait': { type: 'boolean' },
    save: { type: 'string' },
    'token-file': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

const baseUrl = (process.env.CZ_KEYSERVICE_URL ?? 'http://127.0.0.1:8082').replace(/\/+$/, '');

class CliError extends Error {}

function officerToken(): string {
  const file = opts['token-file'];
  const token = file ? readFileSync(file, 'utf8').trim() : process.env.CZ_KEYS_OFFICER_TOKEN;
  if (!token)
    throw new CliError('this command needs an officer credential: CZ_KEYS_OFFICER_TOKEN or --token-file');
  return token;
}

async function api<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30000),
    });
  } catch (err) {
    throw new CliError(
      `no answer from the key service at ${baseUrl}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : {};
  if (!res.ok) {
    const error = json as { code?: string; message?: string };
    throw new CliError(`refused (${res.status} ${error.code ?? ''}): ${error.message ?? text}`);
  }
  return json as T;
}

function need(name: keyof typeof opts): string {
  const value = opts[name];
  if (typeof value !== 'string' || value === '') throw new CliError(`--${name} is required\n\n${USAGE}`);
  return value;
}

function writeSecret(path: string, content: string): void {
  writeFileSync(path, `${content}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

function printStatus(status: KeyServiceStatus): void {
  if (!status.initialized) console.log('not initialised (run: keys init …)');
  else if (status.sealed)
    console.log(
      `SEALED — ${status.progress} of ${status.threshold} shares submitted (${status.shares} issued)`,
    );
  else console.log(`unsealed (threshold ${status.threshold} of ${status.shares} shares)`);
}

function parsePeriod(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text);
  if (!match) throw new CliError('--period is a number with an optional unit s, m, h or d (e.g. 90d)');
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

async function prompt(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  // the share is typed without echo on a terminal
  const output = rl as unknown as { _writeToOutput?: (s: string) => void };
  if (process.stdin.isTTY) output._writeToOutput = () => undefined;
  process.stderr.write(question);
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer.trim();
}

function progressBar(job: RewrapJobView, startedAt: number): string {
  const width = 30;
  const ratio = job.total === 0 ? 1 : Math.min(1, job.done / job.total);
  const filled = Math.round(ratio * width);
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%  ${job.done}/${job.total} keys  ${seconds}s`;
}

async function createRequest(body: CreateKeyRequest): Promise<void> {
  const request = await api<KeyRequestView>('POST', '/v1/requests', body, officerToken());
  console.log(
    `request ${request.id} (${request.kind} ${request.dataClass}) is pending until ${request.expiresAt}`,
  );
  console.log(`another security officer approves it with: keys approve ${request.id}`);
}

const dataClass = () => need('class') as DataClassName;

async function main(): Promise<void> {
  const [command, arg] = positionals;
  if (!command || opts.help) {
    console.log(USAGE);
    return;
  }
  switch (command) {
    case 'status':
      printStatus(await api<KeyServiceStatus>('GET', '/v1/sys/status'));
      return;

    case 'init': {
      const callers = (opts.caller ?? []).map((spec) => {
        const [name, classes] = spec.split(':');
        return classes ? { name: name!, classes: classes.split(',') as DataClassName[] } : { name: name! };
      });
      const reply = await api<KeyInitReply>('POST', '/v1/sys/init', {
        shares: Number(need('shares')),
        threshold: Number(need('threshold')),
        officers: opts.officer ?? [],
        callers,
      });
      const dir = opts['save-demo-secrets'];
      if (dir) {
        saveDemoSecrets(dir, reply);
        console.log(`key service initialised: ${reply.shares.length} shares (threshold ${reply.threshold}),`);
        console.log(
          `${reply.officers.length} officer and ${reply.callers.length} service credentials written to ${dir}`,
        );
        console.log(
          'DEMO ONLY: a real deployment never writes shares to disk; each officer keeps one share.',
        );
        return;
      }
      console.log(`Key service initialised. The root key was split into ${reply.shares.length} shares;`);
      console.log(
        `any ${reply.threshold} of them unseal the service. Hand each share to a different security`,
      );
      console.log('officer NOW: they are shown this once and stored nowhere.\n');
      reply.shares.forEach((share, i) => console.log(`  share ${i + 1}: ${share}`));
      console.log('\nOfficer credentials (each officer keeps their own):');
      for (const officer of reply.officers) console.log(`  ${officer.name}: ${officer.token}`);
      console.log('\nService credentials (CZ_KEYSERVICE_TOKEN of each service):');
      for (const caller of reply.callers) console.log(`  ${caller.name}: ${caller.token}`);
      console.log('\nThe service is sealed: unseal it with keys unseal (one share per officer).');
      return;
    }

    case 'unseal': {
      if (opts.reset) {
        printStatus(await api<KeyServiceStatus>('POST', '/v1/sys/unseal', { reset: true }));
        return;
      }
      const demoDir = opts['demo-dir'];
      if (demoDir) {
        const sharesDir = join(demoDir, 'shares');
        let status = await api<KeyServiceStatus>('GET', '/v1/sys/status');
        for (const file of readdirSync(sharesDir).sort()) {
          if (!status.sealed) break;
          const share = readFileSync(join(sharesDir, file), 'utf8').trim();
          status = await api<KeyServiceStatus>('POST', '/v1/sys/unseal', { share });
        }
        printStatus(status);
        if (status.sealed) throw new CliError('still sealed: not enough demo shares');
        return;
      }
      const file = opts['share-file'];
      const share = file ? readFileSync(file, 'utf8').trim() : await prompt('unseal share: ');
      printStatus(await api<KeyServiceStatus>('POST', '/v1/sys/unseal', { share }));
      return;
    }

    case 'seal':
      printStatus(await api<KeyServiceStatus>('POST', '/v1/sys/seal', undefined, officerToken()));
      return;

    case 'keyrings': {
      const { keyrings } = await api<KeyringListReply>('GET', '/v1/keyrings', undefined, officerToken());
      console.log(
        'class      latest  min-decrypt  auto-rotate  deletion  data keys by version        destroyed',
      );
      for (const k of keyrings) {
        const byVersion = Object.entries(k.dataKeys.byVersion)
          .map(([v, n]) => `v${v}:${n}`)
          .join(' ');
        console.log(
          `${k.dataClass.padEnd(10)} ${String(k.latestVersion).padStart(6)}  ${String(k.minDecryptionVersion).padStart(11)}  ${(k.autoRotatePeriodSeconds ? `${k.autoRotatePeriodSeconds / 86400}d` : 'off').padStart(11)}  ${(k.deletionAllowed ? 'allowed' : 'refused').padEnd(8)}  ${(byVersion || '-').padEnd(26)} ${k.dataKeys.destroyed}`,
        );
      }
      return;
    }

    case 'rotate-request':
      return createRequest({ kind: 'rotate', dataClass: dataClass(), reason: need('reason') });
    case 'min-version-request':
      return createRequest({
        kind: 'set_min_decryption_version',
        dataClass: dataClass(),
        version: Number(need('version')),
        reason: need('reason'),
      });
    case 'auto-rotate-request':
      return createRequest({
        kind: 'set_auto_rotate_period',
        dataClass: dataClass(),
        periodSeconds: parsePeriod(need('period')),
        reason: need('reason'),
      });
    case 'deletion-request':
      return createRequest({
        kind: 'set_deletion_allowed',
        dataClass: dataClass(),
        allowed: need('allowed') === 'true',
        reason: need('reason'),
      });
    case 'destroy-request':
      return createRequest({
        kind: 'destroy_data_keys',
        dataClass: dataClass(),
        before: need('before'),
        reason: need('reason'),
      });

    case 'requests': {
      const query = opts.status ? `?status=${encodeURIComponent(opts.status)}` : '';
      const { requests } = await api<KeyRequestListReply>(
        'GET',
        `/v1/requests${query}`,
        undefined,
        officerToken(),
      );
      if (requests.length === 0) console.log('no requests');
      for (const r of requests) {
        console.log(
          `${r.id}  ${r.status.padEnd(8)}  ${r.kind} ${r.dataClass} ${JSON.stringify(r.params)}  by ${r.requestedBy} ${r.requestedAt}${r.decidedBy ? `, decided by ${r.decidedBy}` : ''}  — ${r.reason}`,
        );
      }
      return;
    }

    case 'approve':
    case 'reject': {
      if (!arg) throw new CliError(`usage: keys ${command} REQUEST_ID`);
      const request = await api<KeyRequestView>(
        'POST',
        `/v1/requests/${arg}/${command}`,
        undefined,
        officerToken(),
      );
      console.log(
        `${request.id}: ${request.status}${request.result ? ` ${JSON.stringify(request.result)}` : ''}`,
      );
      return;
    }

    case 'rewrap': {
      const token = officerToken();
      const body = opts.class ? { dataClass: opts.class as DataClassName } : {};
      let job = await api<RewrapJobView>('POST', '/v1/rewrap', body, token);
      console.log(`rewrap job ${job.id}: ${job.total} data keys to re-wrap`);
      if (opts['no-wait']) return;
      const started = Date.now();
      const tty = process.stderr.isTTY;
      let lastDecile = -1;
      for (;;) {
        const line = progressBar(job, started);
        if (tty) process.stderr.write(`\r${line}`);
        else {
          const decile = job.total ? Math.floor((job.done / job.total) * 10) : 10;
          if (decile !== lastDecile) process.stderr.write(`${line}\n`);
          lastDecile = decile;
        }
        if (job.status !== 'running') break;
        await new Promise((resolve) => setTimeout(resolve, 200));
        job = await api<RewrapJobView>('GET', `/v1/rewrap/${job.id}`, undefined, token);
      }
      if (tty) process.stderr.write(`\r${progressBar(job, started)}\n`);
      console.log(
        `rewrap ${job.status}: ${job.done} keys, ${job.failed} failed${job.error ? ` (${job.error})` : ''}`,
      );
      if (job.status !== 'done' || job.failed > 0) process.exitCode = 1;
      return;
    }

    case 'verify': {
      const result = await api<AuditVerifyReply>('GET', '/v1/audit/verify', undefined, officerToken());
      if (result.intact) console.log(`audit chain intact: ${result.events} events, head ${result.headHash}`);
      else {
        console.log(
          `AUDIT CHAIN BROKEN at event ${result.firstBroken} (${result.events} events verify before it)`,
        );
        process.exitCode = 2;
      }
      return;
    }

    case 'caller-add': {
      if (!arg) throw new CliError('usage: keys caller-add NAME [--classes chat,pii] [--save FILE]');
      const classes = opts.classes ? (opts.classes.split(',') as DataClassName[]) : undefined;
      const issued = await api<IssuedCredential>(
        'POST',
        '/v1/callers',
        classes ? { name: arg, classes } : { name: arg },
        officerToken(),
      );
      if (opts.save) {
        writeSecret(opts.save, issued.token);
        console.log(`credential of ${issued.name} written to ${opts.save}`);
      } else console.log(`${issued.name}: ${issued.token}`);
      return;
    }

    default:
      throw new CliError(`unknown command ${command}\n\n${USAGE}`);
  }
}

/** Local stack only: keeps shares and credentials in files so `make up` can unseal unattended. */
function saveDemoSecrets(dir: string, reply: KeyInitReply): void {
  if (existsSync(join(dir, 'shares')))
    throw new CliError(`${dir}/shares exists: refusing to overwrite demo shares`);
  for (const sub of ['', 'shares', 'officers', 'callers'])
    mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  reply.shares.forEach((share, i) => writeSecret(join(dir, 'shares', `share-${i + 1}`), share));
  for (const officer of reply.officers)
    writeSecret(join(dir, 'officers', `${officer.name}.token`), officer.token);
  for (const caller of reply.callers) writeSecret(join(dir, 'callers', `${caller.name}.token`), caller.token);
}

main().catch((err: unknown) => {
  console.error(err instanceof CliError ? `keys: ${err.message}` : err);
  process.exitCode = 1;
});
