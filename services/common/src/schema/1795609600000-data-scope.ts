import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Permission isolation by organisation (REG-05, PIPL minimum necessary).
 *
 * - `portal_data_scope`: what a portal user may see. `all_units` 1: everything (head office);
 *   0: the org units listed in `portal_data_scope_unit`, each with every unit below it. A user
 *   without a row sees nothing (fail closed).
 * - `portal_data_scope_unit`: the units of a scope, by (corp, unit id). Resolved against
 *   `org_unit` at every request, so moves in the org tree apply at once; a unit that no longer
 *   exists grants nothing.
 * - `protected_employee`: per corp, employees (executives, finance) whose chats and calls only a
 *   user with the `super_admin` role sees, whatever the org scope.
 */
export class DataScope1795609600000 implements MigrationInterface {
  name = 'DataScope1795609600000';

  async up(q: QueryRunner): Promise<void> {
    const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
    await q.query(`
      CREATE TABLE portal_data_scope (
        username VARCHAR(64) NOT NULL,
        all_units TINYINT(1) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        updated_by VARCHAR(64) NOT NULL,
        PRIMARY KEY (username)
      ) ${table}`);
    await q.query(`
      CREATE TABLE portal_data_scope_unit (
        username VARCHAR(64) NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        org_unit_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        PRIMARY KEY (username, corp_id, org_unit_id)
      ) ${table}`);
    await q.query(`
      CREATE TABLE protected_employee (
        corp_id VARCHAR(64) NOT NULL,
        userid VARCHAR(128) NOT NULL,
        added_by VARCHAR(64) NOT NULL,
        added_at DATETIME(3) NOT NULL,
        PRIMARY KEY (corp_id, userid)
      ) ${table}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE protected_employee');
    await q.query('DROP TABLE portal_data_scope_unit');
    await q.query('DROP TABLE portal_data_scope');
  }
}
