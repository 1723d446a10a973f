import { CryptoError, type DataClass, type KeyProvider, type WrappedKey } from '../crypto';
import type { CallerGrants, IntrospectReply } from '@cz/contracts';
import { optionalClientTlsFromEnv, type ClientTls } from '../config';
import { AppError } from '../errors';
import { secureFetch, type SecureFetch } from '../tls';

/*
 * The services' side of the key service: a KeyProvider (and blind-index key source) over its HTTP
 * API with a per-service bearer credential.
 *
 * New objects are sealed under the day's data key of their class: one call per class and day (and
 * cache period) instead of one per object, and the sealed header carries a handle to the key, so
 * rotation and rewrap in the key service never touch an object. Unwrapped keys are cached for a
 * short time (default 60 s, at most 10,000 entries, least recently used dropped first): reads of
 * one day's records cost one round trip, and a key destroyed or retired in the key service stops
 * working here within the TTL.
 *
 * Errors: a refusal about the key itself becomes a CryptoError (a record that can never be opened:
 * dead-letter it); the key service being sealed, unreachable or failing becomes a
 * KeyServiceUnavailableError (transient: retry, 503 to API callers); bad credentials a
 * KeyServiceError (502).
 */

/** KEK ids of the key service's keyrings; anything else is refused here without a round trip. */
export const KEYSERVICE_KEK_PREFIX = 'keyservice/';

/**
 * The key service refused or failed a request for a reason other than the key itself. As an
 * AppError it reaches API callers as 502 `key_service_error` (a misconfiguration on our side, not
 * theirs); `reason` and `upstreamStatus` keep what the key service said.
 */
export class KeyServiceError extends AppError {
  constructor(
    readonly upstreamStatus: number,
    readonly reason: string,
    message: string,
    statusCode = 502,
    code = 'key_service_error',
  ) {
    super(statusCode, code, `key service: ${reason}: ${message}`);
    this.name = 'KeyServiceError';
  }
}

/**
 * The key service is sealed, not initialised, unreachable or failing: transient, try again later.
 * API callers get 503 `key_service_unavailable` with nothing accepted.
 */
export class KeyServiceUnavailableError extends KeyServiceError {
  constructor(reason: string, message: string, upstreamStatus = 503) {
    super(upstreamStatus, reason, message, 503, 'key_service_unavailable');
    this.name = 'KeyServiceUnavailableError';
  }
}

export interface RemoteKeyProviderOptions {
  /** e.g. https://127.0.0.1:8082 */
  url: string;
  /**
   * the CA the key service's certificate must chain to, and this caller's client certificate
   * (default: CZ_TLS_CA_FILE, CZ_TLS_CLIENT_CERT_FILE / _KEY_FILE when set)
   */
  tls?: ClientTls;
  /** this service's credential (`cks_…`) */
  token: string;
  /** `daily` (default): the day's data key of the class; `per-object`: a fresh key per object */
  dataKeys?: 'daily' | 'per-object';
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
  timeoutMs?: number;
}

interface CacheEntry<V> {
  value: V;
  expiresAt: number;
}

/** A small TTL + LRU map (Map keeps insertion order; a hit moves the entry to the end). */
export class TtlCache<V> {
  private readonly entries = new Map<string, CacheEntry<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly onEvict: (value: V) => void = () => undefined,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) {
      this.onEvict(entry.value);
      return undefined;
    }
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, ttlMs = this.ttlMs, now = Date.now()): void {
    if (this.ttlMs <= 0 || ttlMs <= 0 || this.maxEntries <= 0) return;
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      if (previous.value !== value) this.onEvict(previous.value);
    }
    this.entries.set(key, { value, expiresAt: now + Math.min(ttlMs, this.ttlMs) });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.onEvict(this.entries.get(oldest)!.value);
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    for (const entry of this.entries.values()) this.onEvict(entry.value);
    this.entries.clear();
  }
}

interface DataKeyJson {
  plaintext: string;
  kekId: string;
  kekVersion: number;
  wrapped: string;
  useUntil?: string;
}

interface IssuedKey {
  plaintext: Buffer;
  wrapped: WrappedKey;
}

const cacheKeyOf = (w: WrappedKey) => `${w.kekId}#${w.kekVersion}#${w.wrapped.toString('base64url')}`;
const zero = (key: Buffer) => key.fill(0);

/** Also a blind-index key source: `indexKey(purpose)` (see ../index-keys). */
export class RemoteKeyProvider implements KeyProvider {
  private readonly base: string;
  private readonly unwrapped: TtlCache<Buffer>;
  private readonly daily: TtlCache<IssuedKey>;
  private readonly indexKeys: TtlCache<Buffer>;
  private readonly inflight = new Map<string, Promise<Buffer>>();
  private readonly dailyInflight = new Map<DataClass, Promise<IssuedKey>>();
  /** round trips made and answers served from the cache, for tests and metrics */
  readonly stats = { requests: 0, cacheHits: 0 };
  /** plaintext keys travel in these answers: HTTPS verified against our CA, never the default store */
  private readonly fetch: SecureFetch;

  constructor(private readonly options: RemoteKeyProviderOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.fetch = secureFetch(options.tls ?? optionalClientTlsFromEnv());
    const ttl = options.cacheTtlMs ?? 60000;
    const max = options.cacheMaxEntries ?? 10000;
    this.unwrapped = new TtlCache<Buffer>(ttl, max, zero);
    this.daily = new TtlCache<IssuedKey>(ttl, 64, (k) => zero(k.plaintext));
    this.indexKeys = new TtlCache<Buffer>(ttl, 256, zero);
  }

  async newDataKey(dataClass: DataClass): Promise<{ plaintext: Buffer; wrapped: WrappedKey }> {
    if (this.options.dataKeys === 'per-object') {
      const issued = this.issued(await this.call<DataKeyJson>('/v1/datakeys/generate', { dataClass }));
      return issued;
    }
    const cached = this.daily.get(dataClass);
    if (cached) {
      this.stats.cacheHits++;
      return { plaintext: Buffer.from(cached.plaintext), wrapped: cached.wrapped };
    }
    let pending = this.dailyInflight.get(dataClass);
    if (!pending) {
      pending = this.fetchDaily(dataClass).finally(() => this.dailyInflight.delete(dataClass));
      this.dailyInflight.set(dataClass, pending);
    }
    const issued = await pending;
    return { plaintext: Buffer.from(issued.plaintext), wrapped: issued.wrapped };
  }

  private async fetchDaily(dataClass: DataClass): Promise<IssuedKey> {
    const reply = await this.call<DataKeyJson>('/v1/datakeys/daily', { dataClass });
    const issued = this.issued(reply);
    const useFor = reply.useUntil ? Date.parse(reply.useUntil) - Date.now() : 0;
    this.daily.set(dataClass, { plaintext: Buffer.from(issued.plaintext), wrapped: issued.wrapped }, useFor);
    this.unwrapped.set(cacheKeyOf(issued.wrapped), Buffer.from(issued.plaintext));
    return issued;
  }

  private issued(reply: DataKeyJson): IssuedKey {
    return {
      plaintext: Buffer.from(reply.plaintext, 'base64url'),
      wrapped: {
        kekId: reply.kekId,
        kekVersion: reply.kekVersion,
        wrapped: Buffer.from(reply.wrapped, 'base64url'),
      },
    };
  }

  async unwrapDataKey(wrapped: WrappedKey): Promise<Buffer> {
    if (!wrapped.kekId.startsWith(KEYSERVICE_KEK_PREFIX)) {
      throw new CryptoError(
        'unknown_key_version',
        `KEK ${wrapped.kekId} is not held by the key service (sealed by another key source)`,
      );
    }
    const key = cacheKeyOf(wrapped);
    const cached = this.unwrapped.get(key);
    if (cached) {
      this.stats.cacheHits++;
      return Buffer.from(cached);
    }
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.call<{ plaintext: string }>('/v1/datakeys/unwrap', {
        kekId: wrapped.kekId,
        kekVersion: wrapped.kekVersion,
        wrapped: wrapped.wrapped.toString('base64url'),
      })
        .then((reply) => {
          const plaintext = Buffer.from(reply.plaintext, 'base64url');
          this.unwrapped.set(key, Buffer.from(plaintext));
          return plaintext;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return Buffer.from(await pending);
  }

  async indexKey(purpose: string): Promise<Buffer> {
    const cached = this.indexKeys.get(purpose);
    if (cached) {
      this.stats.cacheHits++;
      return Buffer.from(cached);
    }
    const reply = await this.call<{ key: string }>('/v1/indexkeys', { purpose });
    const key = Buffer.from(reply.key, 'base64url');
    this.indexKeys.set(purpose, Buffer.from(key));
    return key;
  }

  /**
   * Who holds a caller's bearer credential (this service needs `callers.introspect`); an unknown
   * or revoked credential is `active: false`. Not cached here: see ../caller-auth.
   */
  async introspectCaller(token: string): Promise<IntrospectReply> {
    return this.call<IntrospectReply>('/v1/callers/introspect', { token });
  }

  /** The grants of the caller named `name` (a client certificate's CN), or undefined if unknown. */
  async callerGrants(name: string): Promise<CallerGrants | undefined> {
    try {
      return await this.call<CallerGrants>(`/v1/callers/${encodeURIComponent(name)}/grants`);
    } catch (err) {
      if (err instanceof KeyServiceError && err.upstreamStatus === 404) return undefined;
      throw err;
    }
  }

  /** Forgets every cached key (e.g. after a crypto-shredding, to not wait for the TTL). */
  clearCache(): void {
    this.unwrapped.clear();
    this.daily.clear();
    this.indexKeys.clear();
  }

  /** Throws unless the key service answers and is unsealed (for readiness checks). */
  async ready(): Promise<void> {
    let status: { sealed?: boolean; initialized?: boolean };
    try {
      const res = await this.fetch(`${this.base}/v1/sys/status`, {
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      status = (await res.json()) as typeof status;
    } catch (err) {
      throw new KeyServiceUnavailableError(
        'keyservice_unreachable',
        `no answer from ${this.base}: ${String(err)}`,
      );
    }
    if (!status.initialized)
      throw new KeyServiceUnavailableError('not_initialized', 'key service not initialised');
    if (status.sealed) throw new KeyServiceUnavailableError('sealed', 'key service is sealed');
  }

  /** POST `body` as JSON, or GET when there is none. */
  private async call<T>(path: string, body?: unknown): Promise<T> {
    this.stats.requests++;
    let res: Response;
    try {
      res = await this.fetch(`${this.base}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers:
          body === undefined
            ? { authorization: `Bearer ${this.options.token}` }
            : { authorization: `Bearer ${this.options.token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
    } catch (err) {
      throw new KeyServiceUnavailableError(
        'keyservice_unreachable',
        `no answer from ${this.base}${path}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (res.ok) return (await res.json()) as T;
    let code = 'http_error';
    let message = `HTTP ${res.status}`;
    try {
      const error = (await res.json()) as { code?: string; message?: string };
      code = error.code ?? code;
      message = error.message ?? message;
    } catch {
      // not JSON: keep the status line
    }
    if (code === 'unknown_key_version' || code === 'key_version_retired')
      throw new CryptoError(code, message);
    if (code === 'unwrap_failed' || code === 'key_destroyed') {
      throw new CryptoError(
        'unwrap_failed',
        code === 'key_destroyed' ? `key_destroyed: ${message}` : message,
      );
    }
    if (res.status === 503 || res.status >= 500)
      throw new KeyServiceUnavailableError(code, message, res.status);
    throw new KeyServiceError(res.status, code, message);
  }
}
