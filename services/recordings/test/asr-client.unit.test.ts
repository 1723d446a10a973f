import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { AsrError, transcribe, transcriptionUrl } from '../src/transcription/asr-client';

/*
 * The ASR engine (FunASR / whisper server) is external and cannot run here, so this unit test of
 * the client module talks to a stand-in HTTP server on 127.0.0.1 that implements the
 * OpenAI-compatible endpoint's wire format.
 */

interface Received {
  path: string;
  authorization: string | undefined;
  fields: Record<string, string>;
  file: { filename: string; contentType: string; bytes: Buffer } | undefined;
}

/** Minimal multipart/form-data parser for the stand-in server. */
function parseMultipart(body: Buffer, contentType: string): Omit<Received, 'path' | 'authorization'> {
  const boundary = /boundary=(.+)$/.exec(contentType)?.[1];
  assert.ok(boundary, 'multipart boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const fields: Record<string, string> = {};
  let file: Received['file'];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(at + delimiter.length + 2, next - 2); // skip CRLF after the delimiter and before the next
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString('utf8');
    const content = part.subarray(split + 4);
    const name = /name="([^"]+)"/.exec(head)?.[1] ?? '';
    const filename = /filename="([^"]+)"/.exec(head)?.[1];
    if (filename) {
      file = {
        filename,
        contentType: /Content-Type: (.+)/i.exec(head)?.[1]?.trim() ?? '',
        bytes: Buffer.from(content),
      };
    } else fields[name] = content.toString('utf8');
    at = next;
  }
  return { fields, file };
}

describe('ASR client (OpenAI-compatible /v1/audio/transcriptions)', () => {
  let server: Server;
  let base: string;
  const received: Received[] = [];
  let respond: (req: IncomingMessage, res: ServerResponse, got: Received) => void;

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const got: Received = {
          path: req.url ?? '',
          authorization: req.headers.authorization,
          ...parseMultipart(Buffer.concat(chunks), req.headers['content-type'] ?? ''),
        };
        received.push(got);
        respond(req, res, got);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const audio = (bytes: Buffer) => ({
    body: Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
    filename: 'c-1.wav',
    contentType: 'audio/wav',
  });
  const endpoint = (extra = {}) => ({ url: base, model: 'paraformer-zh', timeoutMs: 5000, ...extra });

  test('streams the audio as the multipart file part with the model, returns the text', async () => {
    respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ text: '您好，这里是某某银行客服，工号1234。', language: 'zh' }));
    };
    const bytes = randomBytes(300_000);
    const result = await transcribe(endpoint({ apiKey: 'asr-secret', language: 'zh' }), audio(bytes));
    assert.deepEqual(result, { text: '您好，这里是某某银行客服，工号1234。', language: 'zh' });
    const got = received.at(-1)!;
    assert.equal(got.path, '/v1/audio/transcriptions');
    assert.equal(got.authorization, 'Bearer asr-secret');
    assert.equal(got.fields.model, 'paraformer-zh');
    assert.equal(got.fields.language, 'zh');
    assert.equal(got.fields.response_format, 'json');
    assert.equal(got.file?.filename, 'c-1.wav');
    assert.equal(got.file?.contentType, 'audio/wav');
    assert.ok(got.file?.bytes.equals(bytes), 'the file part carries the audio byte for byte');
  });

  test('an endpoint URL is used as given; a base URL gets the standard path', () => {
    assert.equal(transcriptionUrl('http://asr:8000').pathname, '/v1/audio/transcriptions');
    assert.equal(transcriptionUrl('http://asr:8000/api/').pathname, '/api/v1/audio/transcriptions');
    assert.equal(
      transcriptionUrl('http://asr:8000/x/v1/audio/transcriptions').pathname,
      '/x/v1/audio/transcriptions',
    );
  });

  test('5xx and 429 are retriable, 4xx are not, and the reply body is not echoed', async () => {
    for (const [status, retriable] of [
      [500, true],
      [503, true],
      [429, true],
      [400, false],
      [415, false],
    ] as const) {
      respond = (_req, res) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: '客户说的话' } }));
      };
      await assert.rejects(transcribe(endpoint(), audio(randomBytes(2000))), (err: unknown) => {
        assert.ok(err instanceof AsrError);
        assert.equal(err.status, status);
        assert.equal(err.retriable, retriable, `status ${status}`);
        assert.ok(!err.message.includes('客户'), 'no reply content in the error');
        return true;
      });
    }
  });

  test('a reply without text, or not JSON, is a non-retriable error', async () => {
    for (const body of ['{"result":"x"}', 'not json']) {
      respond = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      };
      await assert.rejects(transcribe(endpoint(), audio(randomBytes(2000))), (err: unknown) => {
        assert.ok(err instanceof AsrError && !err.retriable, String(err));
        return true;
      });
    }
  });

  test('an engine that does not answer in time is a retriable timeout', async () => {
    respond = () => undefined; // never answers
    await assert.rejects(
      transcribe(endpoint({ timeoutMs: 300 }), audio(randomBytes(2000))),
      (err: unknown) => {
        assert.ok(
          err instanceof AsrError && err.retriable && /did not answer/.test(err.message),
          String(err),
        );
        return true;
      },
    );
  });

  test('an unreachable engine is retriable', async () => {
    await assert.rejects(
      transcribe({ url: 'http://127.0.0.1:9', model: 'm', timeoutMs: 2000 }, audio(randomBytes(10))),
      (err: unknown) => {
        assert.ok(err instanceof AsrError && err.retriable, String(err));
        return true;
      },
    );
  });

  test('audio that cannot be read fails with its own error, not as an engine failure', async () => {
    respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"text":"x"}');
    };
    const broken = new Readable({
      read() {
        this.destroy(new Error('segment 3 failed authentication'));
      },
    });
    await assert.rejects(
      transcribe(endpoint(), { body: broken, filename: 'x.wav', contentType: 'audio/wav' }),
      (err: unknown) => {
        assert.ok(!(err instanceof AsrError), String(err));
        assert.match(String(err), /failed authentication/);
        return true;
      },
    );
  });
});
