import { Messages1732500000000 } from './1732500000000-messages';
import { Portal1732500001000 } from './1732500001000-portal';

/** Migrations of the main archive database (cz_main), in order. */
export const mainMigrations = [Messages1732500000000, Portal1732500001000];
export const MAIN_MIGRATIONS_TABLE = 'cz_migrations';
