import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The WeCom message model's archive tables.
 *
 * - `message.content_mac`: keyed fingerprint (HMAC-SM3, blind-index key "message-content") of the
 *   record as WeCom sent it, without seq. Tells a redelivery (same MAC) from another record that
 *   reuses a msgid (different MAC). NULL for records archived before it existed.
 * - `message_variant`: a record whose (corp, msgid) was already archived with different content.
 *   The first record stays the message; the later one is kept here, sealed, so that nothing
 *   acknowledged is lost and the conflict can be investigated.
 * - `message_recall`: a recall (撤回, msgtype revoke) flags its original by archive id, which is
 *   derived from (corp, pre_msgid), so the flag works whichever of the two arrives first. Nothing
 *   is deleted.
 * - `consent_event`: the consent registry's WeCom source (REG-08): agree / disagree decisions of
 *   customers. The external userid is personal data: sealed (class pii) and looked up through a
 *   blind index (purpose "consent"), never stored in clear. `scope` leaves room for the
 *   per-category marketing consents of the compliance service.
 */
export class WecomModel1795607109020 implements MigrationInterface {
  name = 'WecomModel1795607109020';

  async up(q: QueryRunner): Promise<void> {
    const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
    await q.query('ALTER TABLE message ADD COLUMN content_mac CHAR(64) NULL');
    await q.query(`
      CREATE TABLE message_variant (
        message_id CHAR(32) NOT NULL,
        content_mac CHAR(64) NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        msgid VARCHAR(128) NOT NULL,
        seq BIGINT UNSIGNED NULL,
        received_at DATETIME(3) NOT NULL,
        archived_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        kek_id VARCHAR(64) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        sealed_record MEDIUMBLOB NOT NULL,
        PRIMARY KEY (message_id, content_mac),
        KEY ix_variant_corp_time (corp_id, archived_at)
      ) ${table}`);
    await q.query(`
      CREATE TABLE message_recall (
        message_id CHAR(32) NOT NULL,
        recall_id CHAR(32) NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        recalled_at DATETIME(3) NOT NULL,
        PRIMARY KEY (message_id, recall_id)
      ) ${table}`);
    await q.query(`
      CREATE TABLE consent_event (
        corp_id VARCHAR(64) NOT NULL,
        msgid VARCHAR(128) NOT NULL,
        message_id CHAR(32) NOT NULL,
        subject_index BIGINT UNSIGNED NOT NULL,
        subject_sealed BLOB NOT NULL,
        kek_id VARCHAR(64) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        decision VARCHAR(16) NOT NULL,
        scope VARCHAR(64) NOT NULL,
        channel VARCHAR(16) NOT NULL,
        decided_at DATETIME(3) NOT NULL,
        recorded_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (corp_id, msgid),
        KEY ix_consent_subject (corp_id, subject_index, decided_at)
      ) ${table}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE consent_event');
    await q.query('DROP TABLE message_recall');
    await q.query('DROP TABLE message_variant');
    await q.query('ALTER TABLE message DROP COLUMN content_mac');
  }
}
