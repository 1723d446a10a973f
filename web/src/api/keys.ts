/**
 * The key service's officer endpoints, through the portal's relay (/v1/keyservice/…). These calls
 * carry the security officer's OWN key-service credential, never the portal session, so they do
 * not go through the console's request client: a refused officer credential must not end the
 * portal session, and the portal session must never reach the key service.
 */
import type {
  AuditVerifyReply,
  CallerListReply,
  CreateCallerRequest,
  CreateKeyRequest,
  CustodyReasonRequest,
  KeyAuditEventListReply,
  KeyRequestListReply,
  KeyRequestStatus,
  KeyRequestView,
  KeyServiceStatus,
  KeyringListReply,
  OfficerListReply,
  OfficerSelfReply,
  RejectKeyRequest,
  RewrapJobListReply,
  RewrapJobView,
  DataClassName,
} from '@cz/contracts';
import { ElMessage } from 'element-plus/es/components/message/index.mjs';
import 'element-plus/es/components/message/style/css';
import { ApiError } from '@/api/client';
import { i18n } from '@/locales';

const PREFIX = '/v1/keyservice';

export interface OfficerClientHooks {
  /** the signed-in officer's credential */
  credential: () => string | null;
  /** the key service refused the credential (revoked, or typed wrong): sign the officer out */
  onUnauthorized: () => void;
  /** every successful call counts as activity (the idle sign-out) */
  onActivity: () => void;
}

interface CallOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** no toast; the caller shows the failure itself */
  silent?: boolean;
  /** a credential to try instead of the stored one (sign-in) */
  credential?: string;
}

async function errorOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => null)) as { code?: unknown; message?: unknown } | null;
  if (body && typeof body.code === 'string' && typeof body.message === 'string') {
    return new ApiError(response.status, body.code, body.message);
  }
  return new ApiError(
    response.status,
    `http_${response.status}`,
    i18n.global.t('error.unexpected', { status: response.status }),
  );
}

/** The officer API over one credential source. */
export function createKeysApi(hooks: OfficerClientHooks) {
  async function call<T>(method: 'GET' | 'POST', path: string, options: CallOptions = {}): Promise<T> {
    const credential = options.credential ?? hooks.credential();
    const headers = new Headers({ Accept: 'application/json' });
    if (credential) headers.set('Authorization', `Bearer ${credential}`);
    if (options.body !== undefined) headers.set('Content-Type', 'application/json');
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') params.set(key, String(value));
    }
    const url = `${PREFIX}${path}${params.size > 0 ? `?${params.toString()}` : ''}`;
    let error: ApiError;
    try {
      const response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        // the officer's credential is the only authority here: no portal cookie goes along
        credentials: 'omit',
        cache: 'no-store',
      });
      if (response.ok) {
        hooks.onActivity();
        return (await response.json()) as T;
      }
      error = await errorOf(response);
    } catch {
      error = new ApiError(0, 'network_error', i18n.global.t('error.network'));
    }
    if (!options.silent)
      ElMessage({ type: 'error', message: error.message, grouping: true, showClose: true });
    if (error.status === 401 && options.credential === undefined) hooks.onUnauthorized();
    throw error;
  }

  return {
    /** who holds `credential` (the sign-in check) */
    whoAmI: (credential: string) =>
      call<OfficerSelfReply>('GET', '/officers/me', { credential, silent: true }),
    status: () => call<KeyServiceStatus>('GET', '/sys/status'),
    keyrings: () => call<KeyringListReply>('GET', '/keyrings'),
    requests: (status?: KeyRequestStatus) =>
      call<KeyRequestListReply>('GET', '/requests', { query: { status } }),
    createRequest: (body: CreateKeyRequest) => call<KeyRequestView>('POST', '/requests', { body }),
    approve: (id: string) => call<KeyRequestView>('POST', `/requests/${encodeURIComponent(id)}/approve`),
    reject: (id: string, body: RejectKeyRequest) =>
      call<KeyRequestView>('POST', `/requests/${encodeURIComponent(id)}/reject`, { body }),
    rewrapJobs: (limit = 20) => call<RewrapJobListReply>('GET', '/rewrap', { query: { limit } }),
    startRewrap: (dataClass?: DataClassName) =>
      call<RewrapJobView>('POST', '/rewrap', { body: dataClass ? { dataClass } : {} }),
    verifyAudit: () => call<AuditVerifyReply>('GET', '/audit/verify'),
    auditEvents: (before?: string, limit = 50) =>
      call<KeyAuditEventListReply>('GET', '/audit/events', { query: { before, limit } }),
    callers: () => call<CallerListReply>('GET', '/callers'),
    requestCaller: (body: CreateCallerRequest) => call<KeyRequestView>('POST', '/callers', { body }),
    requestCallerChange: (name: string, change: 'reissue' | 'revoke', body: CustodyReasonRequest) =>
      call<KeyRequestView>('POST', `/callers/${encodeURIComponent(name)}/${change}`, { body }),
    officers: () => call<OfficerListReply>('GET', '/officers'),
    requestOfficerRevoke: (name: string, body: CustodyReasonRequest) =>
      call<KeyRequestView>('POST', `/officers/${encodeURIComponent(name)}/revoke`, { body }),
  };
}
