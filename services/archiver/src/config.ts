import { databaseConfig, envInt, kafkaConfig, type DatabaseConfig, type KafkaConfig } from '@cz/common';

/*
 * The archiver's settings, read from the environment once, at start-up (server.ts), and handed to
 * the app as plugin options. Nothing below app.ts reads the environment.
 */

/** Completeness tracking (see completeness/). */
export interface CompletenessSettings {
  /** calendar of the daily counters and reconciliations */
  timeZone: string;
  /** how long a hole may stay open before it is a gap alert (records of a corp cross partitions) */
  gapGraceMs: number;
  sweepIntervalMs: number;
  reconcileIntervalMs: number;
}

export const completenessDefaults: Readonly<CompletenessSettings> = {
  timeZone: 'Asia/Shanghai',
  gapGraceMs: 120000,
  sweepIntervalMs: 5000,
  reconcileIntervalMs: 3600000,
};

/** The consumer group of the chat topic; the other topics' groups add `-calls`, `-events`, `-alerts`. */
export const DEFAULT_GROUP_ID = 'cz-archiver';

/** Days of the daily reconciliation are calendar days in this zone (CZ_COMPLETENESS_TZ). */
export function completenessTimeZone(): string {
  const zone = process.env.CZ_COMPLETENESS_TZ || completenessDefaults.timeZone;
  new Intl.DateTimeFormat('en-CA', { timeZone: zone }); // throws a RangeError for an unknown zone
  return zone;
}

interface ArchiverConfig {
  database: DatabaseConfig;
  kafka: KafkaConfig;
  groupId: string;
  completeness: CompletenessSettings;
}

/** Everything the archiver reads from the environment (the keys come from keyProviderFromEnv). */
export function archiverConfig(): ArchiverConfig {
  return {
    database: databaseConfig(),
    kafka: kafkaConfig('cz-archiver'),
    groupId: DEFAULT_GROUP_ID,
    completeness: {
      timeZone: completenessTimeZone(),
      gapGraceMs: envInt('CZ_COMPLETENESS_GAP_GRACE_MS', completenessDefaults.gapGraceMs),
      sweepIntervalMs: envInt('CZ_COMPLETENESS_SWEEP_MS', completenessDefaults.sweepIntervalMs),
      reconcileIntervalMs: completenessDefaults.reconcileIntervalMs,
    },
  };
}
