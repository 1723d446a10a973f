import fp from 'fastify-plugin';
import { databasePlugin, mainDataSourceOptions, type DatabaseConfig } from '@cz/common';

/** The archive database as `app.db`: recording and media rows, upload state, the announce outbox. */
export default fp<{ database: DatabaseConfig }>(
  async (app, { database }) => {
    await app.register(databasePlugin, mainDataSourceOptions(database));
  },
  { name: 'cz-recordings-database' },
);
