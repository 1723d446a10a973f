import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Archived chat messages. Metadata needed for filtering is kept in columns; everything a person
 * said (text, the original record) lives only in `sealed_record`, the SM4-sealed object exactly as
 * it travelled through Kafka.
 */
export class Messages1732500000000 implements MigrationInterface {
  name = 'Messages1732500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE message (
        id CHAR(32) NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        msgid VARCHAR(128) NOT NULL,
        seq BIGINT UNSIGNED NULL,
        action VARCHAR(16) NOT NULL,
        msgtype VARCHAR(64) NULL,
        sender VARCHAR(128) NOT NULL,
        room_id VARCHAR(128) NULL,
        conversation_id VARCHAR(300) NOT NULL,
        msgtime DATETIME(3) NOT NULL,
        received_at DATETIME(3) NOT NULL,
        archived_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        kek_id VARCHAR(64) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        sealed_record MEDIUMBLOB NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_message_corp_msgid (corp_id, msgid),
        KEY ix_message_sender_time (sender, msgtime, id),
        KEY ix_message_conversation_time (conversation_id, msgtime, id),
        KEY ix_message_time (msgtime, id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE message_recipient (
        message_id CHAR(32) NOT NULL,
        recipient VARCHAR(128) NOT NULL,
        msgtime DATETIME(3) NOT NULL,
        PRIMARY KEY (message_id, recipient),
        KEY ix_recipient_time (recipient, msgtime, message_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE message_recipient');
    await q.query('DROP TABLE message');
  }
}
