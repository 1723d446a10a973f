import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Crypto-shredding by retention period. A period KEK per class and calendar month
 * (ks_period_kek, wrapped under a version of the class's KEK) wraps that month's daily data keys,
 * so destroying a month destroys the key everything of that month hangs from; rewrap after a
 * rotation re-wraps twelve period KEKs a year instead of every daily key.
 *
 * ks_data_key.period names the period KEK a daily key is wrapped under; keys made before this
 * migration have none (wrapped directly under the class KEK version in kek_version, which becomes
 * NULL for period-wrapped keys) until a rewrap job moves them under their month's KEK.
 *
 * ks_legal_hold: days of a class that may not be shredded, whatever their age (the evidence
 * workflow places and releases holds).
 */
export class PeriodKeks1733300000000 implements MigrationInterface {
  name = 'PeriodKeks1733300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ks_period_kek (
        data_class VARCHAR(16) NOT NULL,
        period CHAR(7) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        wrapped_kek VARBINARY(64) NULL,
        created_at DATETIME(3) NOT NULL,
        rewrapped_at DATETIME(3) NULL,
        destroyed_at DATETIME(3) NULL,
        PRIMARY KEY (data_class, period),
        KEY ix_period_kek_version (data_class, kek_version)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      ALTER TABLE ks_data_key
        ADD COLUMN period CHAR(7) NULL AFTER day,
        MODIFY kek_version INT UNSIGNED NULL,
        ADD KEY ix_data_key_period (data_class, period)`);
    await q.query(`
      CREATE TABLE ks_legal_hold (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        data_class VARCHAR(16) NOT NULL,
        from_day DATE NOT NULL,
        to_day DATE NOT NULL,
        reason VARCHAR(500) NOT NULL,
        created_by VARCHAR(80) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        released_at DATETIME(3) NULL,
        released_by VARCHAR(80) NULL,
        PRIMARY KEY (id),
        KEY ix_legal_hold_class (data_class, from_day)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE ks_legal_hold');
    // only possible while every daily key is still wrapped directly under a class KEK version
    await q.query('ALTER TABLE ks_data_key DROP KEY ix_data_key_period, DROP COLUMN period');
    await q.query('ALTER TABLE ks_data_key MODIFY kek_version INT UNSIGNED NOT NULL');
    await q.query('DROP TABLE ks_period_kek');
  }
}
