/**
 * After the demo is loaded: waits (bounded) until the compliance service has scanned the demo
 * scenarios and raised their alerts, then moves a few of them along their lifecycle through the
 * portal's API as the demo admin (one acknowledged, one resolved with a note), as a risk officer
 * would. Prints the demo corp's alerts by category and severity. Never fails `make up`: a slow
 * machine just gets a warning.
 */
import mysql from 'mysql2/promise';
import { databaseConfig } from '@cz/common';
import { loadStackEnv } from '@cz/testkit';
import { DEMO_CORP } from './compliance-scenarios';

loadStackEnv();
const PORTAL_URL = process.env.CZ_CONSOLE_URL ?? 'https://127.0.0.1:8080';
const WAIT_MS = Number(process.env.CZ_DEMO_ALERT_WAIT_MS ?? 120000);
const config = databaseConfig();
const db = await mysql.createConnection({
  host: config.host,
  port: config.port,
  user: config.user,
  password: config.password,
  database: config.database,
  ...(config.ssl ? { ssl: config.ssl } : {}),
});

const count = async (where: string) => {
  const [rows] = (await db.query(
    `SELECT COUNT(*) AS n FROM compliance_alert WHERE corp_id = ? AND ${where}`,
    [DEMO_CORP],
  )) as unknown as [{ n: number }[]];
  return Number(rows[0]?.n ?? 0);
};

// the scenarios (msgids demo-cx-…) are posted last: once they are alerted and the count is stable,
// the engine has been through the demo
const deadline = Date.now() + WAIT_MS;
let last = -1;
let stable = 0;
for (;;) {
  const scenarios = await count("msgid LIKE 'demo-cx-%'");
  const all = await count('1 = 1');
  stable = all === last && scenarios > 0 ? stable + 1 : 0;
  last = all;
  if (stable >= 3) break;
  if (Date.now() > deadline) {
    console.warn(
      `demo alerts: still ${all} after ${WAIT_MS / 1000} s (is compliance running? .stack/logs/compliance.log)`,
    );
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}

async function portal(path: string, body: unknown, token?: string) {
  const res = await fetch(`${PORTAL_URL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

// once per demo: a second `make up` finds the states already set
const handled = await count("status IN ('acknowledged', 'resolved')");
const login =
  handled > 0 ? undefined : await portal('/v1/auth/login', { username: 'admin', password: 'Admin#2026' });
const token = typeof login?.body.token === 'string' ? login.body.token : undefined;
if (token) {
  // two live (not overdue) alerts of ordinary demo conversations: one acknowledged, one resolved
  const [open] = (await db.query(
    `SELECT id FROM compliance_alert WHERE corp_id = ? AND status = 'open' AND due_at > NOW(3)
      AND msgid LIKE 'demo-%' AND msgid NOT LIKE 'demo-cx-%' ORDER BY id LIMIT 2`,
    [DEMO_CORP],
  )) as unknown as [{ id: string }[]];
  const [acknowledge, resolve] = open;
  const actions = [
    acknowledge && { id: acknowledge.id, body: { action: 'acknowledge' } },
    resolve && {
      id: resolve.id,
      body: { action: 'resolve', note: '已与客户经理面谈并重新做风险揭示，客户确认知晓产品风险。' },
    },
  ];
  for (const action of actions) {
    if (!action) continue;
    const reply = await portal(`/v1/alerts/${action.id}/actions`, action.body, token);
    if (reply.status !== 200) console.warn(`demo alerts: ${action.body.action} answered ${reply.status}`);
  }
} else if (login) {
  console.warn(`demo alerts: the portal login as admin answered ${login.status}; no alert states set`);
}

const [byCategory] = (await db.query(
  `SELECT category, severity, status, COUNT(*) AS n FROM compliance_alert WHERE corp_id = ?
    GROUP BY category, severity, status ORDER BY category, severity, status`,
  [DEMO_CORP],
)) as unknown as [{ category: string; severity: string; status: string; n: number }[]];
console.log(
  `demo alerts raised by the engine: ${byCategory.reduce((sum, r) => sum + Number(r.n), 0)} (` +
    byCategory.map((r) => `${r.category}/${r.severity}/${r.status} ${r.n}`).join(', ') +
    ')',
);
await db.end();
