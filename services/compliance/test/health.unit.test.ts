import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer } from '@cz/common';
import compliance from '../src/app';

describe('compliance health', () => {
  const app = createServer('compliance', { logger: false });

  before(async () => {
    await app.register(compliance, {});
    await app.ready();
  });
  after(() => app.close());

  it('answers liveness', async () => {
    const reply = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(reply.statusCode, 200);
    assert.deepEqual(reply.json(), { status: 'ok', service: 'compliance', checks: {} });
  });

  it('is ready: it depends on nothing yet', async () => {
    const reply = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(reply.statusCode, 200);
    assert.deepEqual(reply.json(), { status: 'ok', service: 'compliance', checks: {} });
  });

  it('answers an unknown route with the shared error shape', async () => {
    const reply = await app.inject({ method: 'GET', url: '/no-such-route' });
    assert.equal(reply.statusCode, 404);
    assert.deepEqual(reply.json(), { code: 'not_found', message: 'no route GET /no-such-route' });
  });
});
