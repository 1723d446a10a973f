import { createDataSource, migrate } from '@cz/common';
import { keysDatabaseConfig } from '../config';
import { KEYS_MIGRATIONS_TABLE, keysMigrations } from './index';

/** Applies pending migrations of the key service's database (a Helm hook job in the chart). */
const dataSource = createDataSource({
  config: keysDatabaseConfig(),
  migrationsTableName: KEYS_MIGRATIONS_TABLE,
  migrations: keysMigrations,
});
await dataSource.initialize();
try {
  const applied = await migrate(dataSource);
  console.log(
    applied.length
      ? `applied key-service migrations: ${applied.join(', ')}`
      : 'key-service schema is up to date',
  );
} finally {
  await dataSource.destroy();
}
