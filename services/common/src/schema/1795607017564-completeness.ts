import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Finance-SDK puller's durable state and the archive's completeness records.
 *
 * Puller (services/puller):
 * - `wecom_corp_source` / `wecom_corp_key`: per-corp pull configuration; the chat-archive secret and
 *   every RSA private key (one per `publickey_ver`) are stored sealed (CZS1), never in clear.
 * - `wecom_pull_checkpoint`: the last seq whose batch ingest acknowledged, plus a lease so that only
 *   one puller replica pulls a corp at a time (the lease owner fences every checkpoint write).
 * - `wecom_pull_quarantine`: records that could not be decrypted or that ingest rejected; the
 *   encrypted envelope is kept (sealed) so nothing acknowledged by the checkpoint is lost.
 * - `wecom_media_job`: an outbox of media to fetch with GetMediaData, written in the same
 *   transaction as the checkpoint; both md5 digests are kept when they disagree.
 *
 * Completeness (services/archiver, the authority because any client may post records):
 * - `wecom_seq_tracker`: per corp, the lowest/highest seq archived and counters.
 * - `completeness_gap`: ranges of missing seq; `suspected` while cross-partition reordering may
 *   still fill them, `alerted` after the grace period, `filled` when a late record arrives.
 * - `completeness_day`: per corp and day, counters maintained in the archiver's batch transaction.
 * - `completeness_alert`: alerts of both services; also the outbox of `cz.alert.v1` events.
 * - `completeness_reconciliation`: the frozen daily record (canonical JSON + SM3 digest) that the
 *   evidence log signs.
 */
export class Completeness1795607017564 implements MigrationInterface {
  name = 'Completeness1795607017564';

  async up(q: QueryRunner): Promise<void> {
    const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
    // completeness looks messages up by (corp, seq): a seq reused by another msgid is a conflict
    await q.query('ALTER TABLE message ADD KEY ix_message_corp_seq (corp_id, seq)');
    await q.query(`
      CREATE TABLE wecom_corp_source (
        corp_id VARCHAR(64) NOT NULL,
        enabled TINYINT(1) NOT NULL DEFAULT 1,
        sealed_secret BLOB NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (corp_id)
      ) ${table}`);
    await q.query(`
      CREATE TABLE wecom_corp_key (
        corp_id VARCHAR(64) NOT NULL,
        publickey_ver INT UNSIGNED NOT NULL,
        sealed_private_key BLOB NOT NULL,
        public_key_sha256 CHAR(64) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        retired_at DATETIME(3) NULL,
        PRIMARY KEY (corp_id, publickey_ver)
      ) ${table}`);
    await q.query(`
      CREATE TABLE wecom_pull_checkpoint (
        corp_id VARCHAR(64) NOT NULL,
        seq BIGINT UNSIGNED NOT NULL DEFAULT 0,
        lease_owner VARCHAR(128) NULL,
        lease_expires_at DATETIME(3) NULL,
        batches BIGINT UNSIGNED NOT NULL DEFAULT 0,
        records BIGINT UNSIGNED NOT NULL DEFAULT 0,
        last_batch_at DATETIME(3) NULL,
        last_error VARCHAR(1000) NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (corp_id)
      ) ${table}`);
    await q.query(`
      CREATE TABLE wecom_pull_quarantine (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        corp_id VARCHAR(64) NOT NULL,
        seq BIGINT UNSIGNED NOT NULL,
        msgid VARCHAR(128) NOT NULL,
        publickey_ver INT UNSIGNED NULL,
        stage VARCHAR(16) NOT NULL,
        reason VARCHAR(1000) NOT NULL,
        sealed_envelope MEDIUMBLOB NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        resolved_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        KEY ix_quarantine_corp_seq (corp_id, seq),
        KEY ix_quarantine_open (corp_id, resolved_at)
      ) ${table}`);
    await q.query(`
      CREATE TABLE wecom_media_job (
        id CHAR(64) NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        msgid VARCHAR(128) NOT NULL,
        seq BIGINT UNSIGNED NULL,
        sdkfileid TEXT NOT NULL,
        expected_md5 CHAR(32) NULL,
        expected_size BIGINT UNSIGNED NULL,
        actual_md5 CHAR(32) NULL,
        bytes BIGINT UNSIGNED NULL,
        status VARCHAR(16) NOT NULL DEFAULT 'pending',
        attempts INT UNSIGNED NOT NULL DEFAULT 0,
        last_error VARCHAR(1000) NULL,
        next_attempt_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        KEY ix_media_due (corp_id, status, next_attempt_at)
      ) ${table}`);
    await q.query(`
      CREATE TABLE wecom_seq_tracker (
        corp_id VARCHAR(64) NOT NULL,
        low_seq BIGINT UNSIGNED NULL,
        high_seq BIGINT UNSIGNED NULL,
        seq_records BIGINT UNSIGNED NOT NULL DEFAULT 0,
        duplicates BIGINT UNSIGNED NOT NULL DEFAULT 0,
        conflicts BIGINT UNSIGNED NOT NULL DEFAULT 0,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (corp_id)
      ) ${table}`);
    await q.query(`
      CREATE TABLE completeness_gap (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        corp_id VARCHAR(64) NOT NULL,
        from_seq BIGINT UNSIGNED NOT NULL,
        to_seq BIGINT UNSIGNED NOT NULL,
        state VARCHAR(16) NOT NULL,
        detected_at DATETIME(3) NOT NULL,
        alerted_at DATETIME(3) NULL,
        filled_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        KEY ix_gap_corp_state (corp_id, state, from_seq),
        KEY ix_gap_state_time (state, detected_at)
      ) ${table}`);
    await q.query(`
      CREATE TABLE completeness_day (
        corp_id VARCHAR(64) NOT NULL,
        day DATE NOT NULL,
        received BIGINT UNSIGNED NOT NULL DEFAULT 0,
        stored BIGINT UNSIGNED NOT NULL DEFAULT 0,
        duplicates BIGINT UNSIGNED NOT NULL DEFAULT 0,
        conflicts BIGINT UNSIGNED NOT NULL DEFAULT 0,
        first_seq BIGINT UNSIGNED NULL,
        last_seq BIGINT UNSIGNED NULL,
        PRIMARY KEY (corp_id, day)
      ) ${table}`);
    await q.query(`
      CREATE TABLE completeness_alert (
        id CHAR(32) NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        kind VARCHAR(32) NOT NULL,
        severity VARCHAR(16) NOT NULL,
        source VARCHAR(32) NOT NULL,
        from_seq BIGINT UNSIGNED NULL,
        to_seq BIGINT UNSIGNED NULL,
        detail JSON NOT NULL,
        raised_at DATETIME(3) NOT NULL,
        published_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        KEY ix_alert_corp_time (corp_id, raised_at),
        KEY ix_alert_outbox (published_at, raised_at)
      ) ${table}`);
    await q.query(`
      CREATE TABLE completeness_reconciliation (
        corp_id VARCHAR(64) NOT NULL,
        day DATE NOT NULL,
        time_zone VARCHAR(40) NOT NULL,
        messages BIGINT UNSIGNED NOT NULL,
        seq_records BIGINT UNSIGNED NOT NULL,
        first_seq BIGINT UNSIGNED NULL,
        last_seq BIGINT UNSIGNED NULL,
        open_gaps INT UNSIGNED NOT NULL,
        missing_seqs BIGINT UNSIGNED NOT NULL,
        -- exact canonical bytes that the digest covers (MySQL's JSON type would re-order keys)
        body MEDIUMTEXT NOT NULL,
        digest_sm3 CHAR(64) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (corp_id, day)
      ) ${table}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const name of [
      'completeness_reconciliation',
      'completeness_alert',
      'completeness_day',
      'completeness_gap',
      'wecom_seq_tracker',
      'wecom_media_job',
      'wecom_pull_quarantine',
      'wecom_pull_checkpoint',
      'wecom_corp_key',
      'wecom_corp_source',
    ]) {
      await q.query(`DROP TABLE ${name}`);
    }
    await q.query('ALTER TABLE message DROP KEY ix_message_corp_seq');
  }
}
