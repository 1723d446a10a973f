import { databaseConfig, type DatabaseConfig } from '../config';
import { createDataSource } from '../db';
import { Messages1732500000000 } from './1732500000000-messages';
import { Portal1732500001000 } from './1732500001000-portal';
import { Completeness1795607017564 } from './1795607017564-completeness';
import { WecomModel1795607109020 } from './1795607109020-wecom-model';
import { CallsEvents1795607243235 } from './1795607243235-calls-events';
import { SearchArchive1795607400000 } from './1795607400000-search-archive';
import { SearchBackfill1795608200000 } from './1795608200000-search-backfill';
import { AuditSealedDetail1795609000000 } from './1795609000000-audit-sealed-detail';
import { DataScope1795609600000 } from './1795609600000-data-scope';
import { RecordAlerts1795609700000 } from './1795609700000-record-alerts';
import { TranscriptBackfill1795609710000 } from './1795609710000-transcript-backfill';
import { RecordingConflicts1795609850000 } from './1795609850000-recording-conflicts';
import { Compliance1795700000000 } from './1795700000000-compliance';

/** Migrations of the main archive database (cz_main), in order. */
export const mainMigrations = [
  Messages1732500000000,
  Portal1732500001000,
  Completeness1795607017564,
  WecomModel1795607109020,
  CallsEvents1795607243235,
  SearchArchive1795607400000,
  SearchBackfill1795608200000,
  AuditSealedDetail1795609000000,
  DataScope1795609600000,
  RecordAlerts1795609700000,
  TranscriptBackfill1795609710000,
  RecordingConflicts1795609850000,
  Compliance1795700000000,
];
export const MAIN_MIGRATIONS_TABLE = 'cz_migrations';

/** Options of a DataSource on the main database; `config` defaults to the environment's. */
export function mainDataSourceOptions(config: DatabaseConfig = databaseConfig()) {
  return { config, migrationsTableName: MAIN_MIGRATIONS_TABLE, migrations: mainMigrations };
}

/** A DataSource on the main archive database (not yet initialised). */
export const createMainDataSource = (config?: DatabaseConfig) =>
  createDataSource(mainDataSourceOptions(config));
