/**
 * The archiver's completeness and stats routes on the RUNNING archiver (make up / make test):
 * every one authenticates its caller at the key service; a reconciliation needs
 * `archiver.reconcile`, reads need `archiver.read`, both for a corp the caller was granted.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { databaseConfig, optionalClientTlsFromEnv, secureFetchFor } from '@cz/common';
import {
  callerHeaders,
  issueTestCaller,
  loadStackEnv,
  repoRoot,
  revokeTestCaller,
  uniqueCorp,
  type IssuedTestCaller,
} from '@cz/testkit';

loadStackEnv();
const ARCHIVER = process.env.CZ_ARCHIVER_URL ?? 'https://127.0.0.1:8083';
const tls = optionalClientTlsFromEnv();
// the CA only: the stack's client certificate (CN dev) would authenticate these requests as dev
const fetch = secureFetchFor(tls ? { ca: tls.ca } : undefined);
/** a finished day, and one not finished in any zone */
const FINISHED_DAY = new Date(Date.now() - 2 * 86400000).toISOString().slice(0, 10);
const UNFINISHED_DAY = new Date(Date.now() + 86400000).toISOString().slice(0, 10);

const call = async (method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${ARCHIVER}${path}`, { method, headers });
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
};

describe('archiver: completeness and stats need a caller credential (running archiver)', () => {
  let connection: mysql.Connection;
  let reader: IssuedTestCaller;
  const corpId = uniqueCorp('recon');

  before(async () => {
    const config = databaseConfig();
    connection = await mysql.createConnection({ ...config, ...(config.ssl ? { ssl: config.ssl } : {}) });
    reader = await issueTestCaller({ operations: ['archiver.read'], corps: [corpId] });
  });
  after(async () => {
    await connection.end();
    await revokeTestCaller(reader.name).catch(() => undefined);
  });

  const reconciliations = async () => {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM completeness_reconciliation WHERE corp_id = ?',
      [corpId],
    );
    return Number(rows[0]!.n);
  };

  test('[REG-06] completeness, reconciliation and stats without a credential → 401, nothing frozen', async () => {
    const reads = await call('GET', `/v1/completeness/${corpId}`);
    assert.equal(reads.status, 401);
    assert.equal(reads.body.code, 'unauthorized');
    const reconcile = await call('POST', `/v1/completeness/${corpId}/reconciliations/${FINISHED_DAY}`);
    assert.equal(reconcile.status, 401);
    assert.equal((await call('GET', '/v1/archiver/stats')).status, 401);
    const forged = await call('POST', `/v1/completeness/${corpId}/reconciliations/${FINISHED_DAY}`, {
      authorization: `Bearer cks_${'F'.repeat(43)}`,
    });
    assert.equal(forged.status, 401, 'an unknown credential');
    assert.equal(await reconciliations(), 0, 'no reconciliation record was frozen');
    assert.equal((await call('GET', '/healthz')).status, 200, 'health stays open');
  });

  test('[REG-06] a reader may read its corp but not reconcile (403), nor read another corp (403)', async () => {
    const own = await call('GET', `/v1/completeness/${corpId}`, callerHeaders(reader.token));
    assert.equal(own.status, 200);
    const reconcile = await call(
      'POST',
      `/v1/completeness/${corpId}/reconciliations/${FINISHED_DAY}`,
      callerHeaders(reader.token),
    );
    assert.equal(reconcile.status, 403);
    assert.equal(reconcile.body.code, 'operation_not_allowed');
    assert.equal(await reconciliations(), 0);
    const other = uniqueCorp('other');
    const foreign = await call('GET', `/v1/completeness/${other}`, callerHeaders(reader.token));
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.code, 'corp_not_allowed');
    assert.match(foreign.body.message ?? '', new RegExp(other));
    assert.equal((await call('GET', '/v1/archiver/stats', callerHeaders(reader.token))).status, 200);
  });

  test('a caller with archiver.reconcile passes authentication (an unfinished day is still refused)', async () => {
    const res = await call(
      'POST',
      `/v1/completeness/${corpId}/reconciliations/${UNFINISHED_DAY}`,
      callerHeaders(),
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'day_not_finished');
  });

  test('[REG-06] a client certificate from the stack CA authenticates its CN (mutual TLS): dev reads, compliance (no grants) is refused', async (t) => {
    if (!tls) return t.skip('the stack runs without TLS (CZ_INSECURE_DEV=1)');
    const withCertificate = (name: string) =>
      secureFetchFor({
        ca: tls.ca,
        cert: readFileSync(`${repoRoot}.stack/tls/clients/${name}.crt`, 'utf8'),
        key: readFileSync(`${repoRoot}.stack/tls/clients/${name}.key`, 'utf8'),
      });
    const asDev = await withCertificate('dev')(`${ARCHIVER}/v1/completeness/${corpId}`);
    assert.equal(asDev.status, 200, await asDev.text());
    const asCompliance = await withCertificate('compliance')(`${ARCHIVER}/v1/completeness/${corpId}`);
    assert.equal(asCompliance.status, 403);
    assert.equal(((await asCompliance.json()) as { code: string }).code, 'operation_not_allowed');
  });
});
