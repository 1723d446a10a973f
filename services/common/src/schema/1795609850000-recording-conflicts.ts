import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recordings: who uploaded each object, and second uploads kept for review (issue 10).
 *
 * - `recording_object.uploaded_by`: the authenticated caller that uploaded the object (NULL for
 *   objects stored before callers were authenticated, and for derived transcodes).
 * - `recording_object.conflict_of`: set on an object that is a conflicting version of another
 *   (the owner's original, which stays the one served); such an object never takes the owner's
 *   live slot and is never announced, but it is sealed and COMPLIANCE-locked like any other.
 * - `recording_conflict`: one row per conflicting version kept: the owner (call id or media id),
 *   who uploaded it and when, sizes and digests of both objects, the `recording_conflict` alert
 *   raised (outbox `completeness_alert`) and its review state (`open` until someone reviews it).
 */
export class RecordingConflicts1795609850000 implements MigrationInterface {
  name = 'RecordingConflicts1795609850000';

  async up(q: QueryRunner): Promise<void> {
    const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
    await q.query(`
      ALTER TABLE recording_object
        ADD COLUMN uploaded_by VARCHAR(64) NULL AFTER call_pk,
        ADD COLUMN conflict_of CHAR(32) NULL AFTER uploaded_by,
        ADD KEY ix_recording_conflict_of (conflict_of)`);
    await q.query(`
      CREATE TABLE recording_conflict (
        id CHAR(32) NOT NULL,
        kind VARCHAR(16) NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        owner_id VARCHAR(255) NOT NULL,
        original_id CHAR(32) NOT NULL,
        object_id CHAR(32) NOT NULL,
        uploaded_by VARCHAR(64) NULL,
        original_uploaded_by VARCHAR(64) NULL,
        received_at DATETIME(3) NOT NULL,
        original_size BIGINT UNSIGNED NOT NULL,
        original_sm3 CHAR(64) NOT NULL,
        original_md5 CHAR(32) NOT NULL,
        conflict_size BIGINT UNSIGNED NOT NULL,
        conflict_sm3 CHAR(64) NOT NULL,
        conflict_md5 CHAR(32) NOT NULL,
        alert_id CHAR(32) NOT NULL,
        review_state VARCHAR(16) NOT NULL DEFAULT 'open',
        PRIMARY KEY (id),
        UNIQUE KEY uq_conflict_object (object_id),
        KEY ix_conflict_owner (kind, corp_id, owner_id),
        KEY ix_conflict_review (review_state, received_at)
      ) ${table}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE recording_conflict');
    await q.query(
      'ALTER TABLE recording_object DROP KEY ix_recording_conflict_of, DROP COLUMN conflict_of, DROP COLUMN uploaded_by',
    );
  }
}
