import { databaseConfig, envInt, envString, type DatabaseConfig } from '@cz/common';

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
}

export function keyServiceSettings(): KeyServiceSettings {
  return {
    dayOffsetMinutes: envInt('CZ_KEYS_DAY_OFFSET_MINUTES', 480),
    unsealRoundTimeoutMs: envInt('CZ_KEYS_UNSEAL_TIMEOUT_SECONDS', 600) * 1000,
    autoRotateCheckMs: envInt('CZ_KEYS_AUTO_ROTATE_CHECK_SECONDS', 60) * 1000,
    requestTtlMs: envInt('CZ_KEYS_REQUEST_TTL_HOURS', 72) * 3600 * 1000,
  };
}
