/**
 * Greps every log of the local stack (.stack/logs/, recursively) for the demo set's secrets and
 * personal data, and fails on any hit (issue 10, item 7). Run at the end of `make test`.
 *
 * What it looks for: every secret under .stack/secrets (database and MinIO passwords, the key
 * service's Shamir shares and bootstrap secret, officers' and callers' credentials, officers'
 * private keys (not their public keys or certificates), the portal's cursor key, secrets set aside
 * by an earlier init), the private keys of the stack's TLS certificates, the demo logins'
 * passwords, and the demo people's personal data (customers' phone numbers and names, employees'
 * names). It prints counts per file and a label for each value found, never the value itself. It
 * also fails on a request URL logged with its query string by the running code (the lines after a
 * service's last start in its log: older lines may predate the fix and are kept as they are).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoCustomers, demoEmployees } from './demo/people';

const root = fileURLToPath(new URL('..', import.meta.url));
const stackDir = process.env.CZ_STACK_DIR ?? join(root, '.stack');
const logDir = join(stackDir, 'logs');
const secretDir = join(stackDir, 'secrets');

/** Secrets shorter than this are too likely to occur by chance to be grepped for. */
const MIN_SECRET_CHARS = 8;

interface Needle {
  value: string;
  label: string;
}

function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * The secret values one file holds: each line inside its PEM private-key blocks (certificates and
 * public keys in the same file are no secret), its one line, each line of a longer file, or a
 * JSON file's strings.
 */
function secretsIn(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.includes('-----BEGIN ')) {
    const lines: string[] = [];
    let inPrivateKey = false;
    for (const line of trimmed.split(/\r?\n/).map((l) => l.trim())) {
      if (line.startsWith('-----BEGIN ')) inPrivateKey = line.includes('PRIVATE KEY');
      else if (line.startsWith('-----END ')) inPrivateKey = false;
      else if (inPrivateKey && line.length > 0) lines.push(line);
    }
    return lines;
  }
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (typeof parsed === 'object' && parsed !== null) return stringsOf(parsed);
  } catch {
    // not JSON
  }
  return trimmed.split(/\r?\n/).map((line) => line.trim());
}

function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(stringsOf);
  return [];
}

/** Public halves (officers' public keys, certificates) are no secret and may be logged. */
const isPublic = (path: string, text: string) =>
  /\.(pub|crt|cer|cert|csr)$/i.test(path) || /^-----BEGIN (CERTIFICATE|PUBLIC KEY)-----/.test(text.trim());

function stackSecrets(): Needle[] {
  const secretFiles = filesUnder(secretDir).filter((path) => !isPublic(path, readFileSync(path, 'utf8')));
  return secretFiles.flatMap((path) =>
    secretsIn(readFileSync(path, 'utf8'))
      .filter((value) => value.length >= MIN_SECRET_CHARS)
      .map((value, i, all) => ({
        value,
        label: `secret ${relative(stackDir, path)}${all.length > 1 ? ` (part ${i + 1})` : ''}`,
      })),
  );
}

/** The private keys of the stack's TLS certificates (scripts/stack/tls.sh): the CA's, servers', clients'. */
function tlsPrivateKeys(): Needle[] {
  return filesUnder(join(stackDir, 'tls'))
    .filter((path) => /\.(key|pem)$/.test(path))
    .flatMap((path) =>
      secretsIn(readFileSync(path, 'utf8'))
        .filter((value) => value.length >= MIN_SECRET_CHARS)
        .map((value, i) => ({ value, label: `TLS private key ${relative(stackDir, path)} (line ${i + 1})` })),
    );
}

/** The demo logins' passwords, read from the seeding script (importing it would seed the database). */
function demoPasswords(): Needle[] {
  const source = readFileSync(join(root, 'scripts/demo/seed-users.ts'), 'utf8');
  const found = [...source.matchAll(/username: '([^']+)'[\s\S]*?password: '([^']+)'/g)];
  if (found.length === 0)
    throw new Error('no demo passwords found in scripts/demo/seed-users.ts: update this check');
  return found.map(([, username, password]) => ({
    value: password!,
    label: `demo login ${username}'s password`,
  }));
}

function demoPersonalData(): Needle[] {
  const needles: Needle[] = [];
  demoCustomers().forEach((customer, i) => {
    needles.push({ value: customer.phone, label: `demo customer ${i}'s phone number` });
  });
  const names = new Set([...demoCustomers().map((c) => c.name), ...demoEmployees.map((e) => e.name)]);
  for (const name of names) {
    needles.push({ value: name, label: `demo person's name #${[...names].indexOf(name)}` });
    // a name in a URL path is logged percent-encoded
    needles.push({
      value: encodeURIComponent(name),
      label: `demo person's name #${[...names].indexOf(name)} (URL-encoded)`,
    });
  }
  return needles;
}

/** `grep -aoF` with every needle at once: each occurrence, one per line (read here, never printed). */
function occurrences(patternFile: string, logFile: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      'grep',
      ['-a', '-o', '-F', '-f', patternFile, logFile],
      { maxBuffer: 1024 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout) => {
        // grep exits 1 when nothing matched
        if (err && err.code !== 1) reject(new Error(`grep failed on ${logFile}: ${err.message}`));
        else resolve(stdout.split('\n').filter(Boolean));
      },
    );
  });
}

/** The lines a service's current process wrote: those after the last start marker of scripts/lib/common.sh. */
function currentRun(text: string): string | undefined {
  const marker = text.lastIndexOf('\n===== [cz] ');
  return marker === -1 ? undefined : text.slice(marker);
}

/** Request URLs logged with a query string (`"url":"/path?…"`), in the current run of a service log. */
function loggedQueryStrings(logFile: string): number {
  const run = currentRun(readFileSync(logFile, 'latin1'));
  return run === undefined ? 0 : (run.match(/"url":"[^"?]*\?/g) ?? []).length;
}

const needles = [...stackSecrets(), ...tlsPrivateKeys(), ...demoPasswords(), ...demoPersonalData()];
const labels = new Map<string, string>();
for (const needle of needles) if (!labels.has(needle.value)) labels.set(needle.value, needle.label);
const logs = filesUnder(logDir);
const work = mkdtempSync(join(tmpdir(), 'cz-check-logs-'));
const patternFile = join(work, 'patterns');
let hits = 0;
try {
  writeFileSync(patternFile, [...labels.keys()].join('\n') + '\n', { mode: 0o600 });
  for (const log of logs) {
    const queries = loggedQueryStrings(log);
    if (queries > 0) {
      hits += queries;
      console.error(`${relative(stackDir, log)}: ${queries} request URL(s) logged with their query string`);
    }
    const found = await occurrences(patternFile, log);
    if (found.length === 0) continue;
    hits += found.length;
    const perLabel = new Map<string, number>();
    for (const value of found) {
      // grep -o reports the longest match at a position; a needle inside a longer one is the longer
      const label = labels.get(value) ?? 'a demo secret or personal datum';
      perLabel.set(label, (perLabel.get(label) ?? 0) + 1);
    }
    console.error(`${relative(stackDir, log)}: ${found.length} hit(s)`);
    for (const [label, count] of [...perLabel].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
      console.error(`  ${count} × ${label}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const summary = `${needles.length} demo secrets and personal data in ${logs.length} log files`;
if (hits > 0) {
  console.error(`check-logs: FAILED: ${hits} hit(s) of ${summary}`);
  process.exit(1);
}
console.log(`check-logs: no hit of ${summary}`);
