import { Keys1732600000000 } from './1732600000000-keys';

/** Migrations of the key service's own database (cz_keys), in order. */
export const keysMigrations = [Keys1732600000000];
export const KEYS_MIGRATIONS_TABLE = 'ks_migrations';
