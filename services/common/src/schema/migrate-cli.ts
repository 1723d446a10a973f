import { databaseConfig } from '../config';
import { createDataSource, migrate } from '../db';
import { MAIN_MIGRATIONS_TABLE, mainMigrations } from './index';

/** `npm run migrate`: applies pending migrations of the main database (a Helm hook job in the chart). */
const dataSource = createDataSource({
  config: databaseConfig(),
  migrationsTableName: MAIN_MIGRATIONS_TABLE,
  migrations: mainMigrations,
});
await dataSource.initialize();
try {
  const applied = await migrate(dataSource);
  console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
} finally {
  await dataSource.destroy();
}
