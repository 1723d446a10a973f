/**
 * 密钥管理 end to end, against the RUNNING portal (console + the relay to the key service) and the
 * local stack's key service: security officers sign in with their own key-service credential, one
 * asks for a rotation, cannot approve it (no button; the key service refuses it too), a second
 * officer approves it and the keyring's version goes up.
 *
 *   node --import tsx --test web/test/keys.e2e.test.ts
 *
 * The officers' credentials are the demo ones `make up` keeps in .stack/secrets/keyservice/officers/.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { ErrorReply, KeyRequestListReply } from '@cz/contracts';
import { assertReachable, BASE_URL, launchBrowser, pageText, SCREENSHOT_DIR, type Browser } from './helpers';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const officerToken = (name: string) =>
  readFileSync(path.join(REPO_ROOT, '.stack/secrets/keyservice/officers', `${name}.token`), 'utf8').trim();

const RUN = randomBytes(3).toString('hex');
const REASON = `e2e 年度轮换 ${RUN}`;
const REJECTED = `e2e 待驳回 ${RUN}`;

let browser: Browser | undefined;
let page: Page;

const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOT_DIR, name), fullPage: true });

async function settle(): Promise<void> {
  await page
    .locator('.el-loading-mask')
    .first()
    .waitFor({ state: 'hidden' })
    .catch(() => undefined);
  await page.mouse.move(0, 0);
}

async function dismissToasts(): Promise<void> {
  await page
    .locator('.el-message')
    .first()
    .waitFor({ state: 'detached', timeout: 10_000 })
    .catch(() => undefined);
}

async function signIn(credential: string): Promise<void> {
  await page.locator('input[data-test="officer-credential"]').fill(credential);
  await page.click('[data-test="officer-sign-in-submit"]');
}

async function openTab(
  name: 'keyrings' | 'requests' | 'create' | 'rewrap' | 'callers' | 'audit',
): Promise<void> {
  await page.click(`#tab-${name}`);
  await page.locator(`#pane-${name}`).waitFor({ state: 'visible' });
  await settle();
}

async function chatLatestVersion(): Promise<number> {
  await openTab('keyrings');
  const cell = page
    .locator('[data-test="keyring-table"] tr.el-table__row', {
      has: page.locator('[data-test="keyring-chat"]'),
    })
    .locator('[data-test="keyring-latest"]');
  return Number(await cell.innerText());
}

function requestRow(reason = REASON) {
  return page.locator('[data-test="request-table"] tr.el-table__row', { hasText: reason });
}

// Its own test so that an unreachable portal shows as a failure (the suite's tests are then cancelled).
test('console is reachable at CZ_CONSOLE_URL', assertReachable);

describe('密钥管理 e2e (security officers)', () => {
  before(async () => {
    browser = await launchBrowser('cz-e2e-keys-', 15_000);
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
  });

  test('the page asks for an officer credential of its own, not a portal login', async () => {
    await page.goto(`${BASE_URL}/keys`);
    await page.locator('[data-test="officer-sign-in"]').waitFor();
    assert.equal(new URL(page.url()).pathname, '/keys', 'no redirect to the portal login');
    const text = await pageText(page);
    for (const expected of ['密钥管理', '安全管理员登录', '密钥服务凭据']) {
      assert.ok(text.includes(expected), `sign-in should show "${expected}"`);
    }
    await shot('keys-sign-in.png');
  });

  test('[REG-06] a wrong credential shows the key service’s refusal and stays signed out', async () => {
    await signIn(`cko_${'Z'.repeat(43)}`);
    await page.locator('.el-message--error').first().waitFor();
    const error = await page.locator('[data-test="officer-sign-in"] .el-form-item__error').innerText();
    assert.match(error, /登录失败/);
    assert.equal(await page.locator('[data-test="officer-name"]').count(), 0);
    await shot('keys-sign-in-refused.png');
    await dismissToasts();
  });

  test('officer-a signs in; the credential stays in this tab only', async () => {
    const token = officerToken('officer-a');
    await signIn(token);
    await page.locator('[data-test="officer-name"]').waitFor();
    assert.match(await page.locator('[data-test="officer-name"]').innerText(), /officer-a/);
    const storage = await page.evaluate(() => ({
      session: sessionStorage.getItem('cz.officer') ?? '',
      local: Object.values({ ...localStorage }).join('\n'),
    }));
    assert.ok(storage.session.includes(token), 'kept in sessionStorage');
    assert.ok(!storage.local.includes(token), 'never in localStorage');
    await page.locator('[data-test="seal-state"]').waitFor();
    assert.equal(await page.locator('[data-test="seal-state"]').innerText(), '已解封');
    await settle();
    await shot('keys-overview.png');
  });

  let versionBefore = 0;

  test('officer-a asks for a rotation of the chat keyring: pending, without an approve button', async () => {
    versionBefore = await chatLatestVersion();
    assert.ok(versionBefore >= 1, `chat keyring version ${versionBefore}`);
    await openTab('create');
    await page.click('[data-test="create-kind-rotate"]');
    await page.locator('textarea[data-test="create-reason"]').fill(REASON);
    await page.click('[data-test="create-submit"]');
    await page.locator('.el-message--success').first().waitFor();
    // the page moves to the requests tab
    await page.locator('#pane-requests').waitFor({ state: 'visible' });
    await requestRow().waitFor();
    assert.equal(await requestRow().locator('[data-test="request-approve"]').count(), 0, 'no approve button');
    assert.equal(await requestRow().locator('[data-test="request-own"]').count(), 1);
    assert.match(await requestRow().locator('[data-test="request-status"]').innerText(), /待审批/);
    await dismissToasts();
    await settle();
    await shot('keys-pending-own.png');
  });

  test('[REG-06] self-approval is refused by the key service too (through the relay), with its reason', async () => {
    const token = officerToken('officer-a');
    const headers = { authorization: `Bearer ${token}` };
    const list = (await (
      await fetch(`${BASE_URL}/v1/keyservice/requests?status=pending`, { headers })
    ).json()) as KeyRequestListReply;
    const mine = list.requests.find((request) => request.reason === REASON);
    assert.ok(mine, 'the request is pending');
    const res = await fetch(`${BASE_URL}/v1/keyservice/requests/${mine.id}/approve`, {
      method: 'POST',
      headers,
    });
    assert.ok(res.status === 403 || res.status === 409, `self-approval → ${res.status}`);
    const body = (await res.json()) as ErrorReply;
    assert.ok(body.message.length > 0);
  });

  test('sign-out clears the credential from the tab', async () => {
    await page.click('[data-test="officer-sign-out"]');
    await page.locator('[data-test="officer-sign-in"]').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cz.officer')), null);
  });

  test('officer-b approves it; the chat keyring’s version goes up', async () => {
    await signIn(officerToken('officer-b'));
    await page.locator('[data-test="officer-name"]').waitFor();
    assert.match(await page.locator('[data-test="officer-name"]').innerText(), /officer-b/);
    await openTab('requests');
    await requestRow().waitFor();
    await settle();
    await shot('keys-pending-second-officer.png');
    await requestRow().locator('[data-test="request-approve"]').click();
    await page.locator('.el-message--success').first().waitFor();
    await dismissToasts();
    assert.equal(await requestRow().count(), 0, 'no longer pending');
    const versionAfter = await chatLatestVersion();
    assert.equal(versionAfter, versionBefore + 1);
    await settle();
    await shot('keys-rotated.png');
  });

  test('officer-b rejects another request with a reason; it shows as rejected with that reason', async () => {
    const created = await fetch(`${BASE_URL}/v1/keyservice/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${officerToken('officer-a')}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'set_auto_rotate_period',
        dataClass: 'audit',
        periodSeconds: 0,
        reason: REJECTED,
      }),
    });
    assert.ok(created.ok, `request → ${created.status}`);
    await page.click('[data-test="keys-refresh"]');
    await openTab('requests');
    await requestRow(REJECTED).waitFor();
    await requestRow(REJECTED).locator('[data-test="request-reject"]').click();
    // the reason is required: an empty one is not sent
    await page.click('[data-test="reason-confirm"]');
    await page.locator('[data-test="reason-dialog"] .el-form-item__error').waitFor();
    await page.locator('textarea[data-test="reason-input"]').fill(`e2e 不需要 ${RUN}`);
    await page.click('[data-test="reason-confirm"]');
    await page.locator('.el-message--success').first().waitFor();
    await requestRow(REJECTED).waitFor({ state: 'detached' });
    await page.click('[data-test="requests-filter-all"]');
    await requestRow(REJECTED).waitFor();
    assert.match(await requestRow(REJECTED).locator('[data-test="request-status"]').innerText(), /已驳回/);
    assert.ok((await requestRow(REJECTED).innerText()).includes(`e2e 不需要 ${RUN}`), 'the reason is shown');
    await dismissToasts();
    await settle();
    await shot('keys-requests-all.png');
  });

  test('a rewrap job after the rotation shows its progress until done', async () => {
    await openTab('rewrap');
    await page.locator('[data-test="rewrap-table"]').waitFor();
    await page.click('[data-test="rewrap-start"]');
    await page.locator('.el-message--success').first().waitFor();
    const newest = page.locator('[data-test="rewrap-table"] tr.el-table__row').first();
    await newest.waitFor();
    // polled while running; the job is small
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-test="rewrap-table"] tr.el-table__row')
          ?.textContent?.includes('已完成'),
      undefined,
      { timeout: 60_000 },
    );
    assert.match(await newest.innerText(), /officer-b/);
    await dismissToasts();
    await settle();
    await shot('keys-rewrap.png');
  });

  test('callers and the audit chain with its verification status', async () => {
    await openTab('callers');
    await page.locator('[data-test="caller-table"]').waitFor();
    await settle();
    await shot('keys-callers.png');
    await dismissToasts();

    await openTab('audit');
    await page.locator('[data-test="audit-intact"]').waitFor();
    assert.match(await page.locator('[data-test="audit-intact"]').innerText(), /审计链完整/);
    const rows = page.locator('[data-test="audit-table"] tr.el-table__row');
    await rows.first().waitFor();
    const text = await page.locator('[data-test="audit-table"]').innerText();
    assert.ok(text.includes('officer:officer-b'), 'the approval is in the chain');
    assert.equal(await page.locator('[data-test="audit-link-broken"]').count(), 0);
    await settle();
    await shot('keys-audit.png');
  });

  test('the page in English', async () => {
    await page.click('[data-test="language-switch"]');
    await openTab('keyrings');
    const text = await pageText(page);
    for (const expected of ['Key management', 'Seal status', 'Keyrings', 'Pending approval', 'Audit chain']) {
      assert.ok(text.includes(expected), `English page should show "${expected}"`);
    }
    await shot('keys-en.png');
    await page.click('[data-test="language-switch"]');
  });

  test('after 15 minutes without activity the officer is signed out', async () => {
    await page.evaluate(() => {
      const stored = JSON.parse(sessionStorage.getItem('cz.officer') ?? '{}') as { lastActiveAt?: number };
      stored.lastActiveAt = Date.now() - 16 * 60 * 1000;
      sessionStorage.setItem('cz.officer', JSON.stringify(stored));
    });
    await page.reload();
    await page.locator('[data-test="officer-sign-in"]').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cz.officer')), null);
  });
});
