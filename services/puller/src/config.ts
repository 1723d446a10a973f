import { envInt, envString, optionalClientTlsFromEnv, requireSecureUrl, type ClientTls } from '@cz/common';

export interface PullerSettings {
  /** path of the bank-supplied libWeWorkFinanceSdk_C.so; without it the puller stays idle */
  sdkPath: string | undefined;
  ingestUrl: string;
  /** this puller's caller credential (its key-service credential): ingest and recordings */
  callerToken: string;
  recordingsUrl: string;
  /** the CA ingest's and recordings' certificates chain to, and this puller's client certificate */
  tls?: ClientTls;
  /** records per GetChatData call (the SDK refuses more than 1000) */
  batchLimit: number;
  /** pause after a batch that was not full */
  pollIntervalMs: number;
  sdkTimeoutSec: number;
  proxy: string;
  proxyPasswd: string;
  leaseMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  corpScanIntervalMs: number;
  mediaPerCycle: number;
  /** after this long on media in one cycle, pulling chat records goes first again */
  mediaCycleBudgetMs: number;
  mediaMaxAttempts: number;
  md5Attempts: number;
  mediaMaxBytes: number;
  /**
   * bearer secret for the configuration routes (corp secrets, private keys); without it they
   * refuse every write
   */
  adminToken: string | undefined;
  /** extra environment of the SDK child (tests point the C double at its script here) */
  childEnv?: Record<string, string>;
}

export function pullerSettingsFromEnv(): PullerSettings {
  const sdkPath = process.env.CZ_WECOM_SDK_PATH;
  const batchLimit = envInt('CZ_PULLER_BATCH_LIMIT', 1000);
  if (batchLimit < 1 || batchLimit > 1000) throw new Error('CZ_PULLER_BATCH_LIMIT must be 1..1000');
  return {
    sdkPath: sdkPath ? sdkPath : undefined,
    ingestUrl: requireSecureUrl('CZ_INGEST_URL', envString('CZ_INGEST_URL', 'https://127.0.0.1:8081')),
    callerToken: envString('CZ_KEYSERVICE_TOKEN'),
    recordingsUrl: requireSecureUrl(
      'CZ_RECORDINGS_URL',
      envString('CZ_RECORDINGS_URL', 'https://127.0.0.1:8084'),
    ),
    tls: optionalClientTlsFromEnv(),
    adminToken: process.env.CZ_PULLER_ADMIN_TOKEN || undefined,
    batchLimit,
    pollIntervalMs: envInt('CZ_PULLER_POLL_MS', 5000),
    sdkTimeoutSec: envInt('CZ_WECOM_SDK_TIMEOUT_SEC', 30),
    proxy: envString('CZ_WECOM_PROXY', ''),
    proxyPasswd: envString('CZ_WECOM_PROXY_PASSWD', ''),
    leaseMs: envInt('CZ_PULLER_LEASE_MS', 60000),
    backoffInitialMs: envInt('CZ_PULLER_BACKOFF_MS', 500),
    backoffMaxMs: envInt('CZ_PULLER_BACKOFF_MAX_MS', 30000),
    corpScanIntervalMs: envInt('CZ_PULLER_CORP_SCAN_MS', 30000),
    mediaPerCycle: envInt('CZ_PULLER_MEDIA_PER_CYCLE', 10),
    mediaCycleBudgetMs: envInt('CZ_PULLER_MEDIA_BUDGET_MS', 15000),
    mediaMaxAttempts: envInt('CZ_PULLER_MEDIA_ATTEMPTS', 8),
    md5Attempts: envInt('CZ_PULLER_MD5_ATTEMPTS', 3),
    mediaMaxBytes: envInt('CZ_PULLER_MEDIA_MAX_BYTES', 2 * 1024 * 1024 * 1024),
  };
}
