import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { agentFor, type ClientTls } from '@cz/common';

/*
 * Client of an on-prem speech-recognition server speaking the OpenAI-compatible
 * `POST /v1/audio/transcriptions` (multipart/form-data: file, model[, language, response_format];
 * reply JSON `{ "text": ... }`), as FunASR's and whisper's servers offer. The audio is streamed
 * as the multipart file part, never buffered, so a 2 GB recording costs no memory.
 */

export interface AsrEndpoint {
  /** base URL (…/v1/audio/transcriptions is appended) or the endpoint itself */
  url: string;
  model: string;
  apiKey?: string;
  language?: string;
  timeoutMs: number;
  /** for https: the CA the engine's certificate must chain to (and a client certificate, if any) */
  tls?: ClientTls;
}

export interface AsrAudio {
  body: Readable;
  filename: string;
  contentType: string;
}

export interface Transcript {
  text: string;
  language?: string;
}

/** `retriable`: the engine was unreachable, overloaded or failed (5xx, 429, timeout) — try again later. */
export class AsrError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'AsrError';
  }
}

const MAX_REPLY_BYTES = 16 * 1024 * 1024;

export function transcriptionUrl(base: string): URL {
  const url = new URL(base);
  if (!/\/audio\/transcriptions\/?$/.test(url.pathname)) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/audio/transcriptions`;
  }
  return url;
}

const quoted = (value: string) => value.replace(/["\r\n\\]/g, '_');

function field(boundary: string, name: string, value: string): string {
  return `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
}

async function readReply(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > MAX_REPLY_BYTES)
      throw new AsrError('the ASR reply is larger than 16 MiB', false, response.statusCode);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function transcribe(endpoint: AsrEndpoint, audio: AsrAudio): Promise<Transcript> {
  const url = transcriptionUrl(endpoint.url);
  const boundary = `----cz-asr-${randomBytes(12).toString('hex')}`;
  const preamble =
    field(boundary, 'model', endpoint.model) +
    field(boundary, 'response_format', 'json') +
    (endpoint.language ? field(boundary, 'language', endpoint.language) : '') +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted(audio.filename)}"\r\n` +
    `Content-Type: ${quoted(audio.contentType)}\r\n\r\n`;
  const epilogue = `\r\n--${boundary}--\r\n`;
  let audioError: Error | undefined;
  async function* multipart() {
    yield Buffer.from(preamble, 'utf8');
    try {
      for await (const chunk of audio.body) yield chunk as Buffer;
    } catch (err) {
      audioError = err as Error;
      throw err;
    }
    yield Buffer.from(epilogue, 'utf8');
  }

  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = {
    'content-type': `multipart/form-data; boundary=${boundary}`,
    accept: 'application/json',
  };
  if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;

  return new Promise<Transcript>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, value?: Transcript) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        audio.body.destroy();
        reject(err);
      } else resolve(value!);
    };
    const timer = setTimeout(
      () => finish(new AsrError(`the ASR engine did not answer within ${endpoint.timeoutMs} ms`, true)),
      endpoint.timeoutMs,
    );
    const req = send(url, { method: 'POST', headers, agent: agentFor(url, endpoint.tls) }, (response) => {
      readReply(response).then((body) => {
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          // the body may echo audio content: only the status is reported
          finish(new AsrError(`the ASR engine answered ${status}`, status >= 500 || status === 429, status));
          return;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          finish(new AsrError('the ASR engine answered with something other than JSON', false, status));
          return;
        }
        const text = (parsed as { text?: unknown } | null)?.text;
        if (typeof text !== 'string') {
          finish(new AsrError('the ASR reply has no text', false, status));
          return;
        }
        const language = (parsed as { language?: unknown }).language;
        finish(undefined, typeof language === 'string' ? { text, language } : { text });
      }, finish);
    });
    req.on('error', (err) => finish(new AsrError(`the ASR engine is unreachable: ${err.message}`, true)));
    pipeline(Readable.from(multipart()), req).catch((err: Error) =>
      // reading our own audio failed (e.g. it did not authenticate): not the engine's fault
      finish(audioError ?? new AsrError(`sending audio to the ASR engine failed: ${err.message}`, true)),
    );
  });
}
