/**
 * Alerts in the console, end-to-end against a RUNNING stack: an alert raised on cz.alert.v1 for an
 * archived demo message (scripts/demo/raise-alert.ts, as the compliance service will) is attached
 * by the running archiver; the 全文检索 page's 仅看告警 switch finds the message with a red
 * (critical) tag, and its 会话详情 shows the alert on the message.
 *
 *   CZ_CONSOLE_URL=http://127.0.0.1:8080 node --import tsx --test web/test/alerts.e2e.test.ts
 *
 * Optional: CZ_E2E_USER / CZ_E2E_PASSWORD, CZ_E2E_PHRASE (default 稳赚不赔), CHROMIUM_PATH.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Page, Response } from 'playwright-core';
import {
  assertReachable,
  BASE_URL,
  launchBrowser,
  loginTo,
  PASSWORD,
  SCREENSHOT_DIR,
  USERNAME,
  type Browser,
} from './helpers';

const PHRASE = process.env.CZ_E2E_PHRASE ?? '稳赚不赔';
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HITS = '[data-test="hit"]';

interface MessageHit {
  kind: 'message';
  message: { id: string; corpId: string; msgid: string; conversationId: string };
  alerts: { count: number; severity: string; kinds: string[] } | null;
}
interface SearchBody {
  items: (MessageHit | { kind: 'call' })[];
}

let browser: Browser | undefined;
let page: Page;
let token = '';

const isSearch = (r: Response) => new URL(r.url()).pathname === '/v1/search';
const isConversation = (r: Response) => new URL(r.url()).pathname.startsWith('/v1/conversations/');

async function api(query: Record<string, string>): Promise<SearchBody> {
  const res = await fetch(`${BASE_URL}/v1/search?${new URLSearchParams(query).toString()}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200, `search answered ${res.status}`);
  return (await res.json()) as SearchBody;
}

test('console is reachable at CZ_CONSOLE_URL', assertReachable);

describe('alerts in the console e2e', () => {
  /** the demo message the test raises a critical alert on */
  let target: MessageHit['message'];

  before(async () => {
    const login = await fetch(`${BASE_URL}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: USERNAME, password: PASSWORD }),
    });
    assert.equal(login.status, 200, 'login for the API look-up');
    token = ((await login.json()) as { token: string }).token;
    const hits = (await api({ q: PHRASE, kind: 'message', limit: '50' })).items.filter(
      (h): h is MessageHit => h.kind === 'message',
    );
    const chosen = hits.find((h) => h.message.msgid.startsWith('demo-')) ?? hits[0];
    assert.ok(chosen, `the demo data should have a chat with ${PHRASE}`);
    target = chosen.message;
    // the id is derived from (corp, msgid, kind): running the test again raises nothing new
    execFileSync(
      'npx',
      [
        'tsx',
        'scripts/demo/raise-alert.ts',
        '--corp',
        target.corpId,
        '--msgid',
        target.msgid,
        '--severity',
        'critical',
        // a kind the engine raises only for an institution's own terms: the demo message's own
        // lexicon alerts (guaranteed_return) stay apart from this one
        '--kind',
        'lexicon.custom',
        '--rule',
        'E2E-guaranteed-return',
        '--category',
        'custom',
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'], timeout: 60_000 },
    );
    // the running archiver attaches it
    const deadline = Date.now() + 60_000;
    for (;;) {
      const alerted = (await api({ q: PHRASE, hasAlert: 'true', limit: '100' })).items;
      if (alerted.some((h) => h.kind === 'message' && h.message.id === target.id)) break;
      assert.ok(Date.now() < deadline, 'the archiver did not attach the alert within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    browser = await launchBrowser('cz-e2e-alerts-', 20_000);
    page = browser.page;
    await loginTo(page, '/search');
  });

  after(async () => {
    await browser?.close();
  });

  test('仅看告警 finds only alerted records; the alerted message carries a red tag', async () => {
    const form = await page.locator('.search-form').innerText();
    assert.ok(form.includes('仅看告警'), 'the switch is labelled 仅看告警');
    await page.fill('input[name="q"]', PHRASE);
    await page.click('[data-test="search-has-alert"]');
    const reply = page.waitForResponse(isSearch);
    await page.click('[data-test="search-submit"]');
    const res = await reply;
    assert.equal(res.status(), 200);
    assert.equal(new URL(res.url()).searchParams.get('hasAlert'), 'true');
    const body = (await res.json()) as SearchBody;
    assert.ok(body.items.length > 0);
    for (const item of body.items) assert.ok('alerts' in item && item.alerts, 'every hit has an alert');

    const hit = page.locator(`${HITS}[data-hit-id="${target.id}"]`);
    await hit.waitFor();
    const tag = hit.locator('[data-test="alert-tag"]');
    await tag.waitFor();
    assert.equal(await tag.getAttribute('data-severity'), 'critical');
    assert.match((await tag.getAttribute('class')) ?? '', /el-tag--danger/, 'critical is red');
    assert.match(await tag.innerText(), /告警 \d+ 条 · 严重/);
    // every hit on the page shows its tag
    assert.equal(
      await page.locator(`${HITS} [data-test="alert-tag"]`).count(),
      await page.locator(HITS).count(),
    );
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'search-alerts.png'), fullPage: true });
  });

  test('会话详情 shows the alert on the message: severity, kind, rule in the tooltip', async () => {
    const hit = page.locator(`${HITS}[data-hit-id="${target.id}"]`);
    const opened = page.waitForResponse(isConversation);
    await hit.locator('[data-test="open-conversation"]').click();
    const reply = await opened;
    assert.equal(reply.status(), 200);
    const loaded = ((await reply.json()) as { items: { id: string; alerts: unknown[] }[] }).items;
    const bubble = page.locator(`[data-test="conversation-message"][data-message-id="${target.id}"]`);
    await bubble.waitFor();
    const tag = bubble.locator('[data-test="alert-tag"][data-kind="lexicon.custom"]');
    await tag.waitFor();
    assert.equal(await tag.getAttribute('data-severity'), 'critical');
    assert.match(await tag.innerText(), /严重 · 自定义词/);
    await tag.hover();
    await page.locator('.el-popper', { hasText: '规则：E2E-guaranteed-return' }).waitFor();
    await page.locator('.el-popper', { hasText: '类别：自定义词' }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'conversation-alerts.png'), fullPage: true });
    // a message carries tags exactly when it has alerts (the compliance engine may flag others too)
    const bubbles = await page
      .locator('[data-test="conversation-message"]')
      .evaluateAll((nodes) =>
        nodes.map(
          (n) => [n.getAttribute('data-message-id'), !!n.querySelector('[data-test="alert-tag"]')] as const,
        ),
      );
    const hasAlerts = new Map(loaded.map((m) => [m.id, m.alerts.length > 0]));
    assert.ok(bubbles.length > 1);
    for (const [id, tagged] of bubbles)
      assert.equal(tagged, hasAlerts.get(id ?? '') ?? false, `message ${id}`);
  });
});
