import { databaseConfig, envInt, envString, type DatabaseConfig } from '@cz/common';
import { DEFAULT_RETENTION_MONTHS, retentionFromEnv, type RetentionMonths } from './core/retention';

/**
 * The key service's database: its own schema (CZ_KEYS_DB_NAME, default cz_keys) and, where the
 * deployment provides them, its own credentials (CZ_KEYS_DB_USER / CZ_KEYS_DB_PASSWORD), so the
 * archive services' database account need not reach key material.
 */
export function keysDatabaseConfig(): DatabaseConfig {
  const base = databaseConfig('CZ_KEYS_DB_NAME', 'cz_keys');
  return {
    ...base,
    user: envString('CZ_KEYS_DB_USER', base.user),
    password: envString('CZ_KEYS_DB_PASSWORD', base.password),
  };
}

export interface KeyServiceSettings {
  /** minutes east of UTC that define a "day" for daily data keys (China Standard Time: 480) */
  dayOffsetMinutes: number;
  /** how long an unfinished unseal round keeps its shares */
  unsealRoundTimeoutMs: number;
  /** how often due automatic rotations are looked for */
  autoRotateCheckMs: number;
  /** how long a dual-control request waits for approval */
  requestTtlMs: number;
  /**
   * how long a looked-up credential is trusted before the database is asked again: a revocation
   * reaches every replica within it (≤ 30 s, so with the consumers' own ≤ 30 s cache ≤ 60 s)
   */
  principalCacheMs: number;
  /**
   * the one-time secret set at deploy time (CZ_KEYS_BOOTSTRAP_SECRET) that officers' enrolment and
   * init need; unset = neither is possible, and after init it is refused anyway
   */
  bootstrapSecret: string | undefined;
  /**
   * months each class's key material is kept after the end of the month it belongs to, never below
   * the legal minimum (CZ_KEYS_RETENTION_MONTHS_<CLASS>; see core/retention.ts)
   */
  retentionMonths: RetentionMonths;
}

/** What an app built without settings (tests, benches) uses; the server reads the env instead. */
export const DEFAULT_KEY_SERVICE_SETTINGS: Readonly<KeyServiceSettings> = {
  dayOffsetMinutes: 480,
  unsealRoundTimeoutMs: 600 * 1000,
  autoRotateCheckMs: 60 * 1000,
  requestTtlMs: 72 * 3600 * 1000,
  principalCacheMs: 30 * 1000,
  bootstrapSecret: undefined,
  retentionMonths: DEFAULT_RETENTION_MONTHS,
};

/** The longest principal cache the key service accepts: half of the 60 s revocation window. */
export const MAX_PRINCIPAL_CACHE_MS = 30 * 1000;

/** The settings from the environment, read once when the server starts. */
export function keyServiceSettings(): KeyServiceSettings {
  const defaults = DEFAULT_KEY_SERVICE_SETTINGS;
  return {
    dayOffsetMinutes: envInt('CZ_KEYS_DAY_OFFSET_MINUTES', defaults.dayOffsetMinutes),
    unsealRoundTimeoutMs:
      envInt('CZ_KEYS_UNSEAL_TIMEOUT_SECONDS', defaults.unsealRoundTimeoutMs / 1000) * 1000,
    autoRotateCheckMs: envInt('CZ_KEYS_AUTO_ROTATE_CHECK_SECONDS', defaults.autoRotateCheckMs / 1000) * 1000,
    requestTtlMs: envInt('CZ_KEYS_REQUEST_TTL_HOURS', defaults.requestTtlMs / 3600000) * 3600 * 1000,
    principalCacheMs: Math.min(
      MAX_PRINCIPAL_CACHE_MS,
      envInt('CZ_KEYS_PRINCIPAL_CACHE_SECONDS', defaults.principalCacheMs / 1000) * 1000,
    ),
    bootstrapSecret: process.env.CZ_KEYS_BOOTSTRAP_SECRET || undefined,
    retentionMonths: retentionFromEnv(),
  };
}
