import fp from 'fastify-plugin';
import { databasePlugin, type DatabaseConfig } from '@cz/common';
import { KEYS_MIGRATIONS_TABLE, keysMigrations } from '../../migrations/index';

/**
 * The key service's own database (`app.db`, schema cz_keys) with the key-service migrations,
 * kept apart from the archive services' schema and migrations table.
 */
export default fp<{ database: DatabaseConfig }>(
  async (app, { database }) => {
    await app.register(databasePlugin, {
      config: database,
      migrationsTableName: KEYS_MIGRATIONS_TABLE,
      migrations: keysMigrations,
    });
  },
  { name: 'cz-keys-database' },
);
