/**
 * The walking skeleton end to end, through the RUNNING services started by the project's scripts
 * (make up / make test): ingest → Kafka → archiver → MariaDB → portal.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import type { IngestBatchReply, LoginReply, MessageListReply } from '@cz/contracts';
import { databaseConfig } from '@cz/common';
import { callerHeaders, eventually, loadStackEnv } from '@cz/testkit';

loadStackEnv();
const INGEST = process.env.CZ_INGEST_URL ?? 'http://127.0.0.1:8081';
const PORTAL = process.env.CZ_CONSOLE_URL ?? 'http://127.0.0.1:8080';

describe('walking skeleton on the running stack', () => {
  let connection: mysql.Connection;
  before(async () => {
    const config = databaseConfig();
    connection = await mysql.createConnection({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.database,
      ...(config.ssl ? { ssl: config.ssl } : {}),
    });
  });
  after(async () => {
    await connection.end();
  });

  test('[REG-01][REG-04][REG-06] a posted chat is searchable in the portal, masked, and stored without plaintext', async () => {
    const corpId = `flowcorp-${randomBytes(3).toString('hex')}`;
    const employee = `emp${randomBytes(4).toString('hex')}`;
    const phone = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
    const body = `这款理财保本保息，年化6%，有问题打我电话${phone}`;
    const now = Date.now();
    const ingestReply = await fetch(`${INGEST}/v1/wecom/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...callerHeaders() },
      body: JSON.stringify({
        corpId,
        messages: [
          {
            msgid: 'flow-1',
            action: 'send',
            from: employee,
            tolist: ['wmFlowCustomer'],
            msgtime: now - 60000,
            msgtype: 'text',
            text: { content: body },
          },
          {
            msgid: 'flow-2',
            action: 'send',
            from: 'wmFlowCustomer',
            tolist: [employee],
            msgtime: now - 30000,
            msgtype: 'text',
            text: { content: '真的保本吗？' },
          },
        ],
      }),
    });
    assert.equal(ingestReply.status, 202);
    const { accepted } = (await ingestReply.json()) as IngestBatchReply;
    assert.equal(accepted.length, 2);

    const login = await fetch(`${PORTAL}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'auditor', password: 'Auditor#2026' }),
    });
    assert.equal(login.status, 200);
    const { token } = (await login.json()) as LoginReply;

    const from = new Date(now - 3600000).toISOString();
    const to = new Date(now + 60000).toISOString();
    const page = await eventually('both messages visible in the portal', async () => {
      const res = await fetch(`${PORTAL}/v1/messages?employee=${employee}&from=${from}&to=${to}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const json = (await res.json()) as MessageListReply;
      return json.items.length === 2 ? json : undefined;
    });
    assert.deepEqual(
      page.items.map((i) => i.msgid),
      ['flow-2', 'flow-1'],
    );
    const shown = page.items[1]!;
    assert.equal(shown.id, accepted[0]!.id);
    assert.equal(shown.text, body.replace(phone, `${phone.slice(0, 3)}****${phone.slice(-4)}`));
    assert.ok(!JSON.stringify(page).includes(phone), 'the phone number never leaves the portal unmasked');

    // Read MariaDB directly: no column of these rows holds the body or the phone in clear.
    const [rows] = await connection.query('SELECT * FROM message WHERE corp_id = ?', [corpId]);
    const stored = rows as Record<string, unknown>[];
    assert.equal(stored.length, 2);
    for (const row of stored) {
      for (const [column, value] of Object.entries(row)) {
        const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
        for (const needle of [phone, '保本保息', '真的保本']) {
          assert.ok(
            !bytes.includes(Buffer.from(needle)),
            `plaintext "${needle}" in column message.${column}`,
          );
        }
      }
    }
  });
});
