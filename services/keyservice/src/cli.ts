/**
 * `keys`: the security officers' command line for the key service.
 *
 *   npx tsx services/keyservice/src/cli.ts <command> [options]      (or: make keys ARGS="<command> …")
 *
 * The key service URL comes from CZ_KEYSERVICE_URL (default http://127.0.0.1:8082). Commands that
 * need an officer read the officer's credential from CZ_KEYS_OFFICER_TOKEN or --token-file; the
 * officer's SM2 private key (keygen) opens what the key service encrypted to them (--key).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { optionalClientTlsFromEnv, secureFetch } from '@cz/common';
import { sm2GenerateKeyPair } from '@cz/common/crypto';
import type {
  AuditVerifyReply,
  CallerListReply,
  CallerOperation,
  CollectedCredential,
  CreateKeyRequest,
  DataClassName,
  KeyInitReply,
  KeyRequestListReply,
  KeyRequestView,
  KeyServiceStatus,
  KeyringListReply,
  OfficerListReply,
  OfficerView,
  RewrapJobView,
} from '@cz/contracts';
import { decryptAsOfficer, publicKeyFingerprint } from './core/officer-envelope';

const USAGE = `keys — security officers' CLI for the Cunzheng key service

 Ceremony (once per deployment)
  keygen --out FILE                        an officer's SM2 key pair: FILE (private, 0600), FILE.pub
  enrol NAME --public-key FILE [--bootstrap-secret-file F] [--skip-existing]
                                           before init: enrol an officer's public key
  init --threshold 3 [--bootstrap-secret-file F] --out DIR
                                           one share per enrolled officer; writes DIR/NAME.share.sm2 and
                                           DIR/NAME.credential.sm2, each encrypted to that officer only
  open-credential --key FILE --in FILE --save FILE
                                           an officer decrypts their credential from init
  register-key --public-key FILE [--skip-registered]
                                           an officer of a service initialised before enrolment existed

 Seal
  status                                   sealed or not, unseal progress
  unseal --key FILE --share-file FILE      decrypt your share with your key and submit it (officer)
  unseal --plain-share-file FILE           a share of a service initialised before enrolment (officer)
  unseal --reset                           abandon the unseal round in progress (officer)
  unseal --demo-dir DIR                    local stack only: every officer kept in DIR submits
  seal                                     forget the root key now (officer)

 Keyrings (dual control: one officer requests, another approves)
  keyrings                                 KEK versions, min_decryption_version, data keys per version
  rotate-request --class C --reason TEXT
  min-version-request --class C --version N --reason TEXT
  auto-rotate-request --class C --period 90d --reason TEXT     (0 turns it off; s, m, h, d)
  deletion-request --class C --allowed true|false --reason TEXT
  destroy-request --class C --before YYYY-MM-DD --reason TEXT  (crypto-shredding at end of retention)
  requests [--status pending|executed|rejected|failed]
  approve ID | reject ID --reason TEXT     the second officer decides
  rewrap [--class C] [--no-wait]           re-wrap stored data keys under the newest KEK versions
  verify                                   check the key service's SM3 audit chain

 Callers and officers (dual control too)
  callers | officers                       who may call, with what; officers and key fingerprints
  caller-add NAME [--classes chat,pii] [--operations keys.seal,…] [--corps ID,…|*] [--reason TEXT]
  caller-reissue NAME --reason TEXT        a fresh credential (the old one stops working)
  caller-widen NAME [--classes …] [--operations …] [--corps …] --reason TEXT [--if-needed]
  caller-revoke NAME --reason TEXT | officer-revoke NAME --reason TEXT
  collect ID --key FILE [--save FILE]      the requester collects an approved credential, once
  (request commands print the request id alone with --print-id)

 Local stack only (every officer's key and credential kept in one directory; scripts/services/env.sh)
  demo-ceremony --demo-dir DIR --officer NAME… --threshold N [--bootstrap-secret-file F]
  demo-provision --demo-dir DIR --officer REQUESTER --officer APPROVER --grant 'name|classes|operations|corps'…

Officer commands read the credential from CZ_KEYS_OFFICER_TOKEN or --token-file FILE.
Classes: chat, recording, pii, index, audit. Nothing is granted by default.`;

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threshold: { type: 'string' },
    out: { type: 'string' },
    in: { type: 'string' },
    key: { type: 'string' },
    'public-key': { type: 'string' },
    'bootstrap-secret-file': { type: 'string' },
    'skip-existing': { type: 'boolean' },
    'skip-registered': { type: 'boolean' },
    'share-file': { type: 'string' },
    'plain-share-file': { type: 'string' },
    'demo-dir': { type: 'string' },
    reset: { type: 'boolean' },
    class: { type: 'string' },
    classes: { type: 'string' },
    operations: { type: 'string' },
    corps: { type: 'string' },
    reason: { type: 'string' },
    version: { type: 'string' },
    period: { type: 'string' },
    allowed: { type: 'string' },
    before: { type: 'string' },
    status: { type: 'string' },
    'no-wait': { type: 'boolean' },
    'if-needed': { type: 'boolean' },
    grant: { type: 'string', multiple: true },
    officer: { type: 'string', multiple: true },
    'print-id': { type: 'boolean' },
    save: { type: 'string' },
    'token-file': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

const baseUrl = (process.env.CZ_KEYSERVICE_URL ?? 'https://127.0.0.1:8082').replace(/\/+$/, '');
// HTTPS verified against the stack's CA (CZ_TLS_CA_FILE), with the local tools' client certificate
const keyServiceFetch = secureFetch(optionalClientTlsFromEnv());

class CliError extends Error {
  constructor(
    message: string,
    readonly status = 0,
    readonly code = '',
  ) {
    super(message);
  }
}

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
    res = await keyServiceFetch(`${baseUrl}${path}`, {
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
    throw new CliError(
      `refused (${res.status} ${error.code ?? ''}): ${error.message ?? text}`,
      res.status,
      error.code ?? '',
    );
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

    case 'keygen': {
      const out = need('out');
      if (existsSync(out)) throw new CliError(`${out} exists: refusing to overwrite a private key`);
      const pair = sm2GenerateKeyPair();
      writeSecret(out, pair.privateKey);
      writeFileSync(`${out}.pub`, `${pair.publicKey}\n`);
      console.log(`SM2 key pair: private ${out} (keep it offline), public ${out}.pub`);
      console.log(`fingerprint (SM3): ${publicKeyFingerprint(pair.publicKey)}`);
      return;
    }

    case 'enrol': {
      if (!arg) throw new CliError('usage: keys enrol NAME --public-key FILE');
      const publicKey = readText(need('public-key'));
      try {
        const officer = await api<OfficerView>('POST', '/v1/sys/enrol', {
          name: arg,
          publicKey,
          bootstrapSecret: bootstrapSecret(),
        });
        console.log(`enrolled ${officer.name}, key fingerprint ${officer.publicKeyFingerprint}`);
      } catch (err) {
        if (!(opts['skip-existing'] && err instanceof CliError && err.code === 'officer_exists')) throw err;
        console.log(`${arg} is already enrolled`);
      }
      return;
    }

    case 'init': {
      const out = need('out');
      const reply = await api<KeyInitReply>('POST', '/v1/sys/init', {
        threshold: Number(need('threshold')),
        bootstrapSecret: bootstrapSecret(),
      });
      mkdirSync(out, { recursive: true, mode: 0o700 });
      for (const officer of reply.officers) {
        writeSecret(join(out, `${officer.name}.share.sm2`), officer.encryptedShare);
        writeSecret(join(out, `${officer.name}.credential.sm2`), officer.encryptedCredential);
      }
      console.log(`Key service initialised: ${reply.shares} shares, any ${reply.threshold} unseal it.`);
      console.log(`Each officer's share and credential, encrypted to that officer's key, are in ${out}:`);
      for (const officer of reply.officers)
        console.log(`  ${officer.name}: ${officer.name}.share.sm2, ${officer.name}.credential.sm2`);
      console.log('Hand each officer their two files; only their private key opens them.');
      console.log('The service is sealed: officers unseal it with keys unseal --key … --share-file ….');
      return;
    }

    case 'open-credential': {
      const token = decryptAsOfficer(readText(need('in')), readText(need('key')));
      writeSecret(need('save'), token);
      console.log(`credential written to ${opts.save}`);
      return;
    }

    case 'register-key': {
      const publicKey = readText(need('public-key'));
      try {
        await api('POST', '/v1/officers/me/public-key', { publicKey }, officerToken());
        console.log(`key registered, fingerprint ${publicKeyFingerprint(publicKey)}`);
      } catch (err) {
        if (!(opts['skip-registered'] && err instanceof CliError && err.code === 'key_registered')) throw err;
        console.log('a key is already registered');
      }
      return;
    }

    case 'demo-ceremony':
      await demoCeremony(need('demo-dir'), opts.officer ?? [], Number(need('threshold')));
      return;

    case 'demo-provision': {
      const [requester, approver] = opts.officer ?? [];
      if (!requester || !approver || requester === approver)
        throw new CliError(
          'demo-provision needs two different officers: --officer REQUESTER --officer APPROVER',
        );
      await demoProvision(need('demo-dir'), requester, approver, opts.grant ?? []);
      return;
    }

    case 'unseal': {
      if (opts.reset) {
        printStatus(await api<KeyServiceStatus>('POST', '/v1/sys/unseal', { reset: true }, officerToken()));
        return;
      }
      const demoDir = opts['demo-dir'];
      if (demoDir) {
        printStatus(await unsealDemo(demoDir));
        return;
      }
      let share: string;
      if (opts['share-file']) share = decryptAsOfficer(readText(opts['share-file']), readText(need('key')));
      else if (opts['plain-share-file']) share = readText(opts['plain-share-file']);
      else share = await prompt('unseal share: ');
      printStatus(await api<KeyServiceStatus>('POST', '/v1/sys/unseal', { share }, officerToken()));
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
      if (!arg)
        throw new CliError(
          `usage: keys ${command} REQUEST_ID${command === 'reject' ? ' --reason TEXT' : ''}`,
        );
      const request = await api<KeyRequestView>(
        'POST',
        `/v1/requests/${arg}/${command}`,
        command === 'reject' ? { reason: need('reason') } : undefined,
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

    case 'callers': {
      const { callers } = await api<CallerListReply>('GET', '/v1/callers', undefined, officerToken());
      for (const c of callers) {
        console.log(
          `${c.name.padEnd(14)} ${c.state.padEnd(8)} classes ${c.classes.join(',') || '-'}  operations ${c.operations.join(',') || '-'}  corps ${c.corps.join(',') || '-'}  (by ${c.createdBy}${c.revokedBy ? `, revoked by ${c.revokedBy}` : ''})`,
        );
      }
      return;
    }

    case 'officers': {
      const { officers } = await api<OfficerListReply>('GET', '/v1/officers', undefined, officerToken());
      for (const o of officers)
        console.log(`${o.name.padEnd(14)} ${o.state.padEnd(9)} key ${o.publicKeyFingerprint ?? '-'}`);
      return;
    }

    case 'caller-add': {
      if (!arg) throw new CliError('usage: keys caller-add NAME [--classes …] [--operations …] [--corps …]');
      return custodyRequest('/v1/callers', {
        name: arg,
        classes: listOption('classes'),
        operations: listOption('operations'),
        corps: listOption('corps'),
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
    }

    case 'caller-widen': {
      if (!arg)
        throw new CliError(
          'usage: keys caller-widen NAME [--classes …] [--operations …] [--corps …] --reason TEXT',
        );
      const wanted = {
        classes: listOption<DataClassName>('classes'),
        operations: listOption<CallerOperation>('operations'),
        corps: listOption('corps'),
      };
      if (opts['if-needed']) {
        const { callers } = await api<CallerListReply>('GET', '/v1/callers', undefined, officerToken());
        const current = callers.find((c) => c.name === arg);
        if (!current) throw new CliError(`no caller ${arg}`);
        wanted.classes = wanted.classes.filter((c) => !current.classes.includes(c));
        wanted.operations = wanted.operations.filter((o) => !current.operations.includes(o));
        wanted.corps = wanted.corps.filter((c) => !current.corps.includes(c));
        if (wanted.classes.length + wanted.operations.length + wanted.corps.length === 0) return;
      }
      return custodyRequest(`/v1/callers/${arg}/widen`, { ...wanted, reason: need('reason') });
    }

    case 'caller-reissue':
    case 'caller-revoke':
    case 'officer-revoke': {
      if (!arg) throw new CliError(`usage: keys ${command} NAME --reason TEXT`);
      const [kind, action] = command.split('-') as ['caller' | 'officer', string];
      return custodyRequest(`/v1/${kind}s/${arg}/${action}`, { reason: need('reason') });
    }

    case 'collect': {
      if (!arg) throw new CliError('usage: keys collect REQUEST_ID --key FILE [--save FILE]');
      const collected = await api<CollectedCredential>(
        'GET',
        `/v1/requests/${arg}/credential`,
        undefined,
        officerToken(),
      );
      const token = decryptAsOfficer(collected.encryptedToken, readText(need('key')));
      if (opts.save) {
        writeSecret(opts.save, token);
        console.log(`credential of ${collected.name} written to ${opts.save}`);
      } else console.log(`${collected.name}: ${token}`);
      return;
    }

    default:
      throw new CliError(`unknown command ${command}\n\n${USAGE}`);
  }
}

const readText = (file: string) => readFileSync(file, 'utf8').trim();

function bootstrapSecret(): string {
  const file = opts['bootstrap-secret-file'];
  const secret = file ? readText(file) : process.env.CZ_KEYS_BOOTSTRAP_SECRET;
  if (!secret)
    throw new CliError(
      'this needs the bootstrap secret: --bootstrap-secret-file or CZ_KEYS_BOOTSTRAP_SECRET',
    );
  return secret;
}

function listOption<T extends string>(name: 'classes' | 'operations' | 'corps'): T[] {
  const value = opts[name];
  return value ? (value.split(',').filter(Boolean) as T[]) : [];
}

async function custodyRequest(path: string, body: object): Promise<void> {
  const request = await api<KeyRequestView>('POST', path, body, officerToken());
  if (opts['print-id']) {
    console.log(request.id);
    return;
  }
  console.log(
    `request ${request.id} (${request.kind} ${JSON.stringify(request.params)}) is pending until ${request.expiresAt}`,
  );
  console.log(`another security officer approves it with: keys approve ${request.id}`);
  if (request.kind === 'caller.issue' || request.kind === 'caller.reissue')
    console.log(`then you collect the credential with: keys collect ${request.id} --key YOUR_KEY`);
}

/**
 * Local stack only (scripts/services/env.sh keeps every officer's key and credential in DIR so
 * that make up can unseal unattended): each officer decrypts their own share and submits it. A
 * stack initialised before enrolment keeps plain shares in DIR/shares instead.
 */
/**
 * Local stack only: the ceremony with every officer's part played from DIR — each officer's key
 * pair (DIR/officers/NAME.key, .pub), enrolment, init (DIR/init/NAME.share.sm2 and
 * NAME.credential.sm2), and each officer opening their own credential (DIR/officers/NAME.token).
 */
async function demoCeremony(dir: string, officers: string[], threshold: number): Promise<void> {
  if (officers.length < 2) throw new CliError('demo-ceremony needs at least two --officer');
  mkdirSync(join(dir, 'officers'), { recursive: true, mode: 0o700 });
  const secret = bootstrapSecret();
  for (const name of officers) {
    const keyFile = join(dir, 'officers', `${name}.key`);
    if (!existsSync(keyFile)) {
      const pair = sm2GenerateKeyPair();
      writeSecret(keyFile, pair.privateKey);
      writeFileSync(`${keyFile}.pub`, `${pair.publicKey}\n`);
    }
    try {
      await api('POST', '/v1/sys/enrol', {
        name,
        publicKey: readText(`${keyFile}.pub`),
        bootstrapSecret: secret,
      });
    } catch (err) {
      if (!(err instanceof CliError && err.code === 'officer_exists')) throw err;
    }
  }
  const reply = await api<KeyInitReply>('POST', '/v1/sys/init', { threshold, bootstrapSecret: secret });
  mkdirSync(join(dir, 'init'), { recursive: true, mode: 0o700 });
  for (const officer of reply.officers) {
    writeSecret(join(dir, 'init', `${officer.name}.share.sm2`), officer.encryptedShare);
    writeSecret(join(dir, 'init', `${officer.name}.credential.sm2`), officer.encryptedCredential);
    const key = readText(join(dir, 'officers', `${officer.name}.key`));
    writeSecret(
      join(dir, 'officers', `${officer.name}.token`),
      decryptAsOfficer(officer.encryptedCredential, key),
    );
  }
  console.log(`key service initialised: ${reply.shares} officers' shares, threshold ${reply.threshold}`);
}

/**
 * Local stack only: every caller of the grants table gets a credential (DIR/callers/NAME.token)
 * and what the table grants, each change requested by one officer and approved by the other with
 * their own credentials (the key service sees and audits two officers), the credential collected
 * by the requester and decrypted with the requester's key.
 */
async function demoProvision(
  dir: string,
  requester: string,
  approver: string,
  grants: string[],
): Promise<void> {
  const tokenOf = (name: string) => readText(join(dir, 'officers', `${name}.token`));
  const [asRequester, asApprover] = [tokenOf(requester), tokenOf(approver)];
  const requesterKey = readText(join(dir, 'officers', `${requester}.key`));
  mkdirSync(join(dir, 'callers'), { recursive: true, mode: 0o700 });
  const { callers } = await api<CallerListReply>('GET', '/v1/callers', undefined, asRequester);
  const approve = (id: string) =>
    api<KeyRequestView>('POST', `/v1/requests/${id}/approve`, undefined, asApprover);
  for (const line of grants) {
    const [name = '', classes = '', operations = '', corps = ''] = line.split('|');
    const split = <T extends string>(list: string) => list.split(',').filter(Boolean) as T[];
    const wanted = {
      classes: split<DataClassName>(classes),
      operations: split<CallerOperation>(operations),
      corps: split(corps),
    };
    const tokenFile = join(dir, 'callers', `${name}.token`);
    const current = callers.find((c) => c.name === name);
    if (existsSync(tokenFile) && current?.state === 'active') {
      const missing = {
        classes: wanted.classes.filter((c) => !current.classes.includes(c)),
        operations: wanted.operations.filter((o) => !current.operations.includes(o)),
        corps: wanted.corps.filter((c) => !current.corps.includes(c)),
      };
      if (missing.classes.length + missing.operations.length + missing.corps.length === 0) continue;
      const request = await api<KeyRequestView>(
        'POST',
        `/v1/callers/${name}/widen`,
        { ...missing, reason: 'local stack: grants of the bootstrap table' },
        asRequester,
      );
      await approve(request.id);
      console.log(`${name}: grants widened (${requester} requested, ${approver} approved)`);
      continue;
    }
    // a caller the key service knows whose credential file is gone gets a fresh one
    const request = current
      ? await api<KeyRequestView>(
          'POST',
          `/v1/callers/${name}/reissue`,
          { reason: 'local stack: credential file missing' },
          asRequester,
        )
      : await api<KeyRequestView>(
          'POST',
          '/v1/callers',
          { name, ...wanted, reason: 'local stack caller' },
          asRequester,
        );
    await approve(request.id);
    const collected = await api<CollectedCredential>(
      'GET',
      `/v1/requests/${request.id}/credential`,
      undefined,
      asRequester,
    );
    writeSecret(tokenFile, decryptAsOfficer(collected.encryptedToken, requesterKey));
    console.log(
      `${name}: credential ${current ? 're-issued' : 'issued'} (${requester} requested, ${approver} approved)`,
    );
  }
}

async function unsealDemo(dir: string): Promise<KeyServiceStatus> {
  let status = await api<KeyServiceStatus>('GET', '/v1/sys/status');
  const officers = readdirSync(join(dir, 'officers'))
    .filter((f) => f.endsWith('.token'))
    .map((f) => f.slice(0, -'.token'.length))
    .sort();
  const legacyShares = existsSync(join(dir, 'shares'))
    ? readdirSync(join(dir, 'shares'))
        .filter((f) => /^share-\d+$/.test(f))
        .sort()
    : [];
  for (const [i, name] of officers.entries()) {
    if (!status.sealed) break;
    const token = readText(join(dir, 'officers', `${name}.token`));
    const sealedShare = join(dir, 'init', `${name}.share.sm2`);
    let share: string;
    if (existsSync(sealedShare))
      share = decryptAsOfficer(readText(sealedShare), readText(join(dir, 'officers', `${name}.key`)));
    else if (legacyShares[i]) share = readText(join(dir, 'shares', legacyShares[i]));
    else continue;
    status = await api<KeyServiceStatus>('POST', '/v1/sys/unseal', { share }, token);
  }
  // a stack from before enrolment may keep more plain shares than officers
  for (const file of legacyShares.slice(officers.length)) {
    if (!status.sealed || officers.length === 0) break;
    const token = readText(join(dir, 'officers', `${officers[0]}.token`));
    status = await api<KeyServiceStatus>(
      'POST',
      '/v1/sys/unseal',
      { share: readText(join(dir, 'shares', file)) },
      token,
    );
  }
  if (status.sealed) throw new CliError('still sealed: not enough officers in the demo directory');
  return status;
}

main().catch((err: unknown) => {
  console.error(err instanceof CliError ? `keys: ${err.message}` : err);
  process.exitCode = 1;
});
