import fp from 'fastify-plugin';
import { databasePlugin, mainDataSourceOptions, type DatabaseConfig } from '@cz/common';

/**
 * The archive database as `app.db`. A small pool: the puller writes checkpoints, leases and media
 * jobs per corp, a few statements per batch.
 */
export default fp<{ database: DatabaseConfig }>(
  async (app, { database }) => {
    await app.register(databasePlugin, { ...mainDataSourceOptions(database), poolSize: 5 });
  },
  { name: 'cz-puller-database' },
);
