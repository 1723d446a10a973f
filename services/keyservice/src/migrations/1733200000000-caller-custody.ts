import type { MigrationInterface, QueryRunner } from 'typeorm';

const ALL_CLASSES = 'chat,recording,pii,index,audit';
const KEY_OPERATIONS = 'keys.seal,keys.unwrap,keys.index,keys.rewrap';

/**
 * The local stack's callers as they were issued before grants existed (every class, every
 * operation), narrowed to what each needs. A snapshot: the bootstrap (scripts/services/env.sh)
 * holds the living table.
 */
const STACK_GRANTS: Record<string, { classes: string; operations: string; corps: string }> = {
  ingest: { classes: 'chat,index', operations: 'keys.seal,keys.index,callers.introspect', corps: '*' },
  archiver: {
    classes: 'chat,pii,index',
    operations: 'keys.seal,keys.unwrap,keys.index,callers.introspect',
    corps: '*',
  },
  recordings: {
    classes: 'chat,recording',
    operations: 'keys.seal,keys.unwrap,callers.introspect',
    corps: '*',
  },
  portal: {
    classes: 'chat,pii,index,audit',
    operations: 'keys.seal,keys.unwrap,keys.index,recordings.read',
    corps: '*',
  },
  puller: {
    classes: 'chat,pii',
    operations: 'keys.seal,keys.unwrap,ingest.write,recordings.write',
    corps: '*',
  },
  compliance: { classes: '', operations: '', corps: '' },
  dev: {
    classes: ALL_CLASSES,
    operations: `${KEY_OPERATIONS},callers.introspect,ingest.write,recordings.write,recordings.read,archiver.read,archiver.reconcile`,
    corps: '*',
  },
};

/**
 * Callers under dual control: each caller gets explicit operations and corps next to its data
 * classes, and an empty list now means none (deny by default). Revocation is a state with who and
 * when. Officers enrol an SM2 public key before init (no credential yet: token_hash NULL), and each
 * Shamir share is bound to the officer it was encrypted to. Requests about callers carry no data
 * class; an approved issue waits, encrypted to the requesting officer, until collected once.
 */
export class CallerCustody1733200000000 implements MigrationInterface {
  name = 'CallerCustody1733200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE ks_principal
        MODIFY token_hash CHAR(64) NULL,
        ADD COLUMN operations VARCHAR(512) NOT NULL DEFAULT '' AFTER classes,
        ADD COLUMN corps VARCHAR(2048) NOT NULL DEFAULT '' AFTER operations,
        ADD COLUMN public_key CHAR(130) NULL,
        ADD COLUMN enrolled_at DATETIME(3) NULL,
        ADD COLUMN revoked_at DATETIME(3) NULL,
        ADD COLUMN revoked_by VARCHAR(80) NULL`);
    // existing callers keep working: the stack's by name, any other one what it had (all = every class)
    for (const [name, grants] of Object.entries(STACK_GRANTS)) {
      await q.query(
        "UPDATE ks_principal SET classes = ?, operations = ?, corps = ? WHERE kind = 'service' AND name = ?",
        [grants.classes, grants.operations, grants.corps, name],
      );
    }
    await q.query(
      `UPDATE ks_principal SET classes = IF(classes = '', ?, classes), operations = ?, corps = '*'
       WHERE kind = 'service' AND name NOT IN (?)`,
      [ALL_CLASSES, KEY_OPERATIONS, Object.keys(STACK_GRANTS)],
    );
    await q.query(
      "UPDATE ks_principal SET revoked_at = created_at, revoked_by = 'unknown' WHERE disabled = 1",
    );
    await q.query('ALTER TABLE ks_share_check ADD COLUMN officer VARCHAR(64) NULL');
    await q.query(`
      ALTER TABLE ks_request
        MODIFY data_class VARCHAR(16) NULL,
        ADD COLUMN decision_reason VARCHAR(500) NULL,
        ADD COLUMN credential_ciphertext TEXT NULL,
        ADD COLUMN credential_state VARCHAR(16) NOT NULL DEFAULT 'none'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE ks_request DROP COLUMN credential_state, DROP COLUMN credential_ciphertext, DROP COLUMN decision_reason',
    );
    await q.query('ALTER TABLE ks_share_check DROP COLUMN officer');
    await q.query(`
      ALTER TABLE ks_principal
        DROP COLUMN revoked_by, DROP COLUMN revoked_at, DROP COLUMN enrolled_at, DROP COLUMN public_key,
        DROP COLUMN corps, DROP COLUMN operations`);
  }
}
