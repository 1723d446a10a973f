import fp from 'fastify-plugin';
import { databasePlugin, mainDataSourceOptions, type DatabaseConfig } from '@cz/common';

/** The archive database as `app.db`: sessions, users, scopes, the directory, search and the audit trail. */
export default fp<{ database: DatabaseConfig }>(
  async (app, { database }) => {
    await app.register(databasePlugin, mainDataSourceOptions(database));
  },
  { name: 'cz-portal-database' },
);
