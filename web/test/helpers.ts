/**
 * Shared set-up for the console end-to-end tests: where the portal is, who logs in, and a headless
 * Chromium with the console's locale and time zone. Each test file keeps its own assertions.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const BASE_URL = (process.env.CZ_CONSOLE_URL ?? 'https://127.0.0.1:8080').replace(/\/+$/, '');
export const USERNAME = process.env.CZ_E2E_USER ?? 'auditor';
export const PASSWORD = process.env.CZ_E2E_PASSWORD ?? 'Auditor#2026';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOT_DIR = path.join(REPO_ROOT, '.stack', 'screenshots');

/**
 * An unmasked mainland mobile number: 1[3-9] + 9 digits, not part of a longer digit run, optionally
 * with a +86/86 prefix or written 3-4-4 with spaces or dashes. Masked forms (138****5678) never match.
 */
export const UNMASKED_MOBILE = /(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:\d{8}|[\s-]\d{4}[\s-]\d{4})(?!\d)/g;

/** Fails with a clear reason unless BASE_URL answers with the console's index.html. */
export async function assertReachable(): Promise<void> {
  if (BASE_URL.startsWith('https:') && !process.env.NODE_EXTRA_CA_CERTS) {
    // Node trusts the stack's CA only if told at start; `make test` sets it
    throw new Error(
      `${BASE_URL} serves the local stack's certificate: run with NODE_EXTRA_CA_CERTS=.stack/tls/ca.crt`,
    );
  }
  try {
    const res = await fetch(`${BASE_URL}/`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const html = await res.text();
    if (!html.includes('id="app"')) throw new Error('the reply is not the console index.html');
  } catch (error) {
    throw new Error(
      `Console not reachable at ${BASE_URL} (${(error as Error).message}). ` +
        'Start the portal serving web/dist (e.g. `make up`), or set CZ_CONSOLE_URL to a running console.',
    );
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** closes the browser and removes its profile directory */
  close(): Promise<void>;
}

/** Checks the console is reachable, then starts a headless Chromium with a throw-away profile. */
export async function launchBrowser(profilePrefix: string, defaultTimeoutMs: number): Promise<Browser> {
  await assertReachable();
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const userDataDir = mkdtempSync(path.join(tmpdir(), profilePrefix));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    // The portal's certificate comes from the stack's own CA, which this throw-away profile does
    // not know; assertReachable() has already verified it against that CA from Node.
    ignoreHTTPSErrors: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1440, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(defaultTimeoutMs);
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Logs in through the login page as the e2e user and waits until the console shows `path`. */
export async function loginTo(page: Page, path: string): Promise<void> {
  await page.goto(`${BASE_URL}/login?redirect=${encodeURIComponent(path)}`);
  await page.fill('input[name="username"]', USERNAME);
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('[data-test="login-submit"]');
  await page.waitForURL((url) => url.pathname === path);
}

/** Every text the page holds: rendered text plus hidden nodes (tooltips, clipped cells). */
export async function pageText(page: Page): Promise<string> {
  return page.evaluate(() => `${document.body.innerText}\n${document.body.textContent ?? ''}`);
}
