import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  createServer,
  databasePlugin,
  keyProviderFromEnv,
  keysPlugin,
  mainDataSourceOptions,
} from '@cz/common';
import { createTestDatabase, eventually, loadStackEnv, uniqueCorp, type TestDatabase } from '@cz/testkit';
import workflowPlugin from '../src/plugins/app/workflow';
import { insertAlert, insertChannel, insertOrgTree } from './workflow-fixtures';

loadStackEnv();
const keys = keyProviderFromEnv();

describe('the workflow plugin runs the sweeps on its timer (real MariaDB, a local webhook)', () => {
  let db: TestDatabase;
  let app: ReturnType<typeof createServer>;
  let receiver: Server;
  const bodies: { event: string; alertId: string }[] = [];
  const corpId = uniqueCorp('timercorp');

  before(async () => {
    db = await createTestDatabase();
    receiver = createHttpServer((req, res) => {
      let data = '';
      req.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
      req.on('end', () => {
        bodies.push(JSON.parse(data) as { event: string; alertId: string });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    await insertOrgTree(db, corpId);
    await insertChannel(db, keys, {
      kind: 'webhook',
      target: { url: `http://127.0.0.1:${port}/hook` },
      onEscalation: true,
    });
    app = createServer('compliance', { logger: false });
    await app.register(databasePlugin, mainDataSourceOptions(db.config));
    await app.register(keysPlugin, { keys });
    await app.register(workflowPlugin, {
      settings: { sweepIntervalMs: 100, retryBackoffMs: [50], reviewSampling: false },
    });
    await app.ready();
  });
  after(async () => {
    await app?.close();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    await db?.drop();
  });

  it('a new alert is notified, an overdue one escalated and notified again, without anyone calling a sweep', async () => {
    const fresh = await insertAlert(db, keys, { corpId, orgUnitId: 'lujiazui' });
    const overdue = await insertAlert(db, keys, {
      corpId,
      orgUnitId: 'lujiazui',
      dueAt: new Date(Date.now() - 1000),
    });
    await eventually('both alerts raised and the overdue one escalated at the receiver', async () => {
      const seen = bodies.map((b) => `${b.event}:${b.alertId}`);
      return [`raised:${fresh}`, `raised:${overdue}`, `escalated:${overdue}`].every((s) => seen.includes(s))
        ? true
        : undefined;
    });
    const [row] = await db.query<{ status: string; assigned_org_unit_id: string }>(
      'SELECT status, assigned_org_unit_id FROM compliance_alert WHERE id = ?',
      [overdue],
    );
    assert.deepEqual(row, { status: 'escalated', assigned_org_unit_id: 'pudong' });
    await eventually('every delivery sent', async () => {
      const [open] = await db.query<{ n: number }>(
        "SELECT COUNT(*) AS n FROM notification_delivery WHERE status <> 'sent'",
      );
      return Number(open!.n) === 0 ? true : undefined;
    });
    assert.equal(bodies.filter((b) => b.alertId === fresh).length, 1, 'notified once');
  });
});
