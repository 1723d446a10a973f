import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { pino } from 'pino';
import { loggerOptions, REDACTED_FIELDS } from '../src/logger';

/** A pino destination that keeps every line written to it. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream, text: () => lines.join('\n') };
}

const secretFor = (field: string) => `S3CR3T-${field}-${Math.random().toString(36).slice(2)}`;

describe('logs carry no secrets, keys, shares, bodies or query strings', () => {
  test('every redacted field is censored at the top level, one level down and two levels down', () => {
    const out = capture();
    const log = pino(loggerOptions('test'), out.stream);
    const values: string[] = [];
    for (const field of REDACTED_FIELDS) {
      const top = secretFor(field);
      const nested = secretFor(field);
      const deep = secretFor(field);
      values.push(top, nested, deep);
      log.info({ [field]: top, caller: { [field]: nested }, err: { driverError: { [field]: deep } } }, 'x');
    }
    for (const value of values) assert.ok(!out.text().includes(value), `a value reached the log: ${value}`);
    assert.equal(out.lines.length, REDACTED_FIELDS.length);
    assert.match(out.lines[0]!, /\[redacted\]/);
  });

  test('[REG-06] the named secrets of the issue: plaintext, share, key, secret, privateKeyPem, token, password, authorization, cookie', () => {
    const out = capture();
    const log = pino(loggerOptions('test'), out.stream);
    const record = {
      plaintext: secretFor('plaintext'),
      share: secretFor('share'),
      shares: [secretFor('shares'), secretFor('shares')],
      key: secretFor('key'),
      secret: secretFor('secret'),
      privateKeyPem: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----',
      token: secretFor('token'),
      password: secretFor('password'),
      req: { headers: { authorization: `Bearer ${secretFor('bearer')}`, cookie: `sid=${secretFor('sid')}` } },
    };
    log.warn(record, 'careless');
    log.error(
      { err: Object.assign(new Error('boom'), { token: record.token, sql: "WHERE p = '1380'" }) },
      'e',
    );
    const text = out.text();
    for (const value of [
      record.plaintext,
      record.share,
      ...record.shares,
      record.key,
      record.secret,
      'MIIEvQIBADANBg',
      record.token,
      record.password,
      record.req.headers.authorization,
      record.req.headers.cookie,
      "'1380'",
    ]) {
      assert.ok(!text.includes(value), `a value reached the log: ${value}`);
    }
    assert.match(text, /"msg":"careless"/, 'the line itself is still logged');
    assert.match(text, /"message":"boom"/, 'an error keeps its message');
  });

  test('a request is logged by its path only: the query string and the body never appear', async () => {
    const out = capture();
    const app = Fastify({ logger: { ...loggerOptions('test'), stream: out.stream } });
    app.post('/v1/search', async () => ({ ok: true }));
    app.get('/v1/items/:id', async () => ({ ok: true }));
    await app.ready();
    try {
      const found = await app.inject({
        method: 'POST',
        url: '/v1/search?q=secret-query-13800138000&customer=%E5%BC%A0%E4%B8%89',
        headers: { authorization: 'Bearer header-secret-value', cookie: 'cz_session=cookie-secret' },
        payload: { password: 'body-password-value', text: 'body-text-value' },
      });
      assert.equal(found.statusCode, 200);
      await app.inject({ method: 'GET', url: '/v1/items/42#fragment-secret' });
    } finally {
      await app.close();
    }
    const text = out.text();
    for (const value of [
      'secret-query',
      '13800138000',
      '%E5%BC%A0',
      'customer=',
      'header-secret-value',
      'cookie-secret',
      'body-password-value',
      'body-text-value',
      'fragment-secret',
    ]) {
      assert.ok(!text.includes(value), `${value} reached the log`);
    }
    const incoming = out.lines
      .map((line) => JSON.parse(line) as { msg?: string; req?: { method: string; url: string } })
      .filter((line) => line.msg === 'incoming request');
    assert.deepEqual(
      incoming.map((line) => [line.req?.method, line.req?.url]),
      [
        ['POST', '/v1/search'],
        ['GET', '/v1/items/42'],
      ],
    );
  });
});
