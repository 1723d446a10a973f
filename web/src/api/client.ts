/**
 * The one request client of the console. Every API module goes through `request`, which
 * - adds `Authorization: Bearer <token>` when a session exists,
 * - turns any failure into an `ApiError` and shows the server's `message` as a toast,
 * - on 401 of an authenticated call hands over to the app's 401 handler (clear the session, go to login).
 * The token and the 401 handler are injected at start-up (`configureClient` in main.ts), so that api/
 * imports neither the router nor the stores (which import api/ themselves).
 */
import type { ErrorReply } from '@cz/contracts';
import { ElMessage } from 'element-plus/es/components/message/index.mjs';
import 'element-plus/es/components/message/style/css';
import { i18n } from '@/locales';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** the error reply as sent, for replies that carry more than code and message (import line errors) */
    readonly body: unknown = null,
  ) {
    super(message);
  }
}

/** What the client needs from the app. */
export interface ClientHooks {
  /** the bearer token of the current session, if any */
  token: () => string | null;
  /** an authenticated call was answered 401: the session is gone */
  onUnauthorized: () => void;
}

// Until main.ts configures the client: anonymous calls, nothing to do on 401.
let hooks: ClientHooks = { token: () => null, onUnauthorized: () => undefined };

export function configureClient(appHooks: ClientHooks): void {
  hooks = appHooks;
}

type QueryScalar = string | number | boolean | null | undefined;
/** Arrays go out as repeated parameters (`msgtype=a&msgtype=b`), as Fastify's parser reads them. */
type QueryValue = QueryScalar | readonly string[];

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  signal?: AbortSignal;
  /** Set to false where a 401 means "bad credentials", not "session expired" (login, logout). */
  redirectOn401?: boolean;
  /** Do not toast failures; the caller handles them. */
  silent?: boolean;
}

function buildUrl(path: string, query: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      for (const item of value as readonly string[]) params.append(key, item);
    } else {
      params.set(key, String(value));
    }
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

// Request interceptor: headers for every call.
function requestHeaders(hasBody: boolean): Headers {
  const headers = new Headers({ Accept: 'application/json' });
  // Only with a body: Fastify rejects an empty body sent as application/json.
  if (hasBody) headers.set('Content-Type', 'application/json');
  const token = hooks.token();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  return headers;
}

function isErrorReply(value: unknown): value is ErrorReply {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).message === 'string' &&
    typeof (value as Record<string, unknown>).code === 'string'
  );
}

async function toApiError(response: Response): Promise<ApiError> {
  const body: unknown = await response.json().catch(() => null);
  if (isErrorReply(body)) return new ApiError(response.status, body.code, body.message, body);
  return new ApiError(
    response.status,
    `http_${response.status}`,
    i18n.global.t('error.unexpected', { status: response.status }),
    body,
  );
}

// Response interceptor: what every failure does to the UI.
function onFailure(error: ApiError, options: RequestOptions): void {
  if (!options.silent) ElMessage({ type: 'error', message: error.message, grouping: true, showClose: true });
  if (error.status === 401 && options.redirectOn401 !== false) hooks.onUnauthorized();
}

/**
 * Sends one request and returns the response when it is 2xx. A network failure or an error status
 * becomes an `ApiError` (shown and, on 401, handled per `options`); an abort is rethrown as is.
 */
async function send(
  path: string,
  init: Pick<RequestInit, 'method' | 'headers' | 'body'>,
  options: RequestOptions,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), {
      ...init,
      signal: options.signal ?? null,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (cause) {
    // A superseded request is not an error worth telling the user about.
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    const error = new ApiError(0, 'network_error', i18n.global.t('error.network'));
    onFailure(error, options);
    throw error;
  }
  if (!response.ok) {
    const error = await toApiError(response);
    onFailure(error, options);
    throw error;
  }
  return response;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const hasBody = options.body !== undefined;
  const response = await send(
    path,
    { method, headers: requestHeaders(hasBody), body: hasBody ? JSON.stringify(options.body) : null },
    options,
  );
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export interface RawRequestOptions extends Pick<RequestOptions, 'query' | 'signal' | 'silent'> {
  /** extra request headers, e.g. `Range` */
  headers?: Record<string, string>;
}

/**
 * A GET whose body is not JSON (recordings, media): the same auth header and failure handling
 * as `request`, but the caller reads the `Response` (status 200/206, headers, body) itself.
 */
export async function requestRaw(path: string, options: RawRequestOptions = {}): Promise<Response> {
  const headers = requestHeaders(false);
  headers.set('Accept', '*/*');
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  return send(path, { method: 'GET', headers }, options);
}

export function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
