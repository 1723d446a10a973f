import { DataSource, type EntitySchema, type MigrationInterface } from 'typeorm';
import type { DatabaseConfig } from './config';

type MigrationClass = new () => MigrationInterface;

export interface DataSourceOptions {
  config: DatabaseConfig;
  /** each service keeps its own migration history, even when it shares a database */
  migrationsTableName: string;
  migrations: MigrationClass[];
  entities?: EntitySchema[];
  poolSize?: number;
}

/**
 * A TypeORM DataSource on mysql2 with the project's rules: migrations only (never synchronize),
 * utf8mb4, UTC, bigints as strings, millisecond datetimes.
 */
export function createDataSource(options: DataSourceOptions): DataSource {
  const { config } = options;
  return new DataSource({
    type: 'mysql',
    host: config.host,
    port: config.port,
    username: config.user,
    password: config.password,
    database: config.database,
    // TLS to the database when configured (CZ_DB_TLS): mysql2 verifies the server against our CA
    ...(config.ssl ? { ssl: config.ssl } : {}),
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: options.migrationsTableName,
    migrations: options.migrations,
    entities: options.entities ?? [],
    poolSize: options.poolSize ?? 10,
    // Failed queries reach the caller as errors, which log through pino (with its redaction).
    // TypeORM's own console logging would print the statement and its parameters unredacted, and
    // expected failures (FOR UPDATE NOWAIT retries, duplicate-key races) as noise.
    logging: false,
    extra: { connectTimeout: 5000 },
  });
}

/** Runs pending migrations in order, each in its own transaction. Returns the names applied. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  return applied.map((m) => m.name);
}
