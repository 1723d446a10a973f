import { Keys1732600000000 } from './1732600000000-keys';
import { CallerCustody1733200000000 } from './1733200000000-caller-custody';
import { PeriodKeks1733300000000 } from './1733300000000-period-keks';

/** Migrations of the key service's own database (cz_keys), in order. */
export const keysMigrations = [Keys1732600000000, CallerCustody1733200000000, PeriodKeks1733300000000];
export const KEYS_MIGRATIONS_TABLE = 'ks_migrations';
