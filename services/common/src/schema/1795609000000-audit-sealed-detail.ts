import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit events may need to record what a person typed (a search phrase can hold a customer's
 * name): that part is kept sealed (SM4, class 'audit'), its SM3 covered by the hash chain.
 */
export class AuditSealedDetail1795609000000 implements MigrationInterface {
  name = 'AuditSealedDetail1795609000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE audit_event ADD COLUMN sealed_detail MEDIUMBLOB NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE audit_event DROP COLUMN sealed_detail');
  }
}
