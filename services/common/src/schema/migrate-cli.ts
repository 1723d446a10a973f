import { migrate } from '../db';
import { createMainDataSource } from './index';

/** `npm run migrate`: applies pending migrations of the main database (a Helm hook job in the chart). */
const dataSource = createMainDataSource();
await dataSource.initialize();
try {
  const applied = await migrate(dataSource);
  console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
} finally {
  await dataSource.destroy();
}
