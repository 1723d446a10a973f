import fp from 'fastify-plugin';
import type { DataSource } from 'typeorm';
import { createDataSource, type DataSourceOptions } from './db';

declare module 'fastify' {
  interface FastifyInstance {
    db: DataSource;
  }
}

/** The service's DataSource as `app.db`, initialised on start and destroyed on close. */
export const databasePlugin = fp<DataSourceOptions>(
  async (app, options) => {
    const dataSource = createDataSource(options);
    await dataSource.initialize();
    app.decorate('db', dataSource);
    app.addHook('onClose', async () => {
      await dataSource.destroy();
    });
  },
  { name: 'cz-database' },
);
