/**
 * Builds the Finance-SDK test double (wework_finance_double.c) into a shared library with the
 * system C compiler. Nothing binary is committed: tests call this, and `make native-double` runs it.
 *
 *   npx tsx services/testkit/src/finance-sdk-double/build.ts   → prints the path of the .so
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../stack';

const source = fileURLToPath(new URL('./wework_finance_double.c', import.meta.url));
const outDir = `${repoRoot}.stack/native/`;
export const doubleLibraryPath = `${outDir}libWeWorkFinanceSdk_C.so`;

/** Compiles the double when missing or older than its source; returns the library path. */
export function buildFinanceSdkDouble(): string {
  if (existsSync(doubleLibraryPath) && statSync(doubleLibraryPath).mtimeMs >= statSync(source).mtimeMs) {
    return doubleLibraryPath;
  }
  mkdirSync(outDir, { recursive: true });
  const tmp = `${doubleLibraryPath}.${process.pid}.tmp`;
  const cc = process.env.CC ?? 'cc';
  execFileSync(
    cc,
    ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-Werror', '-fvisibility=hidden', '-o', tmp, source],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  // rename is atomic: a concurrent test never loads a half-written library
  renameSync(tmp, doubleLibraryPath);
  return doubleLibraryPath;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(buildFinanceSdkDouble());
}
