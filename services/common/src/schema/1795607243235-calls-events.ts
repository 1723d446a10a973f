import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Call centre and behaviour events.
 *
 * - `call_record`: one CDR per (corp, callId). Filter metadata in columns; the customer number is
 *   personal data, so it exists only inside `sealed_record` and as a blind index
 *   (`customer_index`, purpose "phone") for exact look-up. `content_mac` (HMAC-SM3, purpose
 *   "call-content") tells a redelivery from a different CDR reusing a callId.
 * - `call_transcript`: transcripts (from the call centre, or the on-prem ASR engine), sealed;
 *   one per (call, source).
 * - `recording_object`: every object the recordings service wrote or is writing to MinIO (call
 *   recordings, chat media, transcoded derivatives): bucket, key, versionId, sizes, SM3 (and MD5
 *   for media) of the plaintext, the sealed header (it holds only the wrapped data key, and a
 *   copy here lets a key rotation rewrap it although the locked object can never change), the
 *   COMPLIANCE retention. `slot` is 1 while an upload runs or once it completed and NULL after it
 *   failed, so the unique key allows one live object per owner.
 * - `behaviour_event`: staff behaviour and consent events (REG-08, REG-13), sealed, with the
 *   customer's external userid and phone only as blind indexes.
 */
export class CallsEvents1795607243235 implements MigrationInterface {
  name = 'CallsEvents1795607243235';

  async up(q: QueryRunner): Promise<void> {
    const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
    await q.query(`
      CREATE TABLE call_record (
        id CHAR(32) NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        call_id VARCHAR(128) NOT NULL,
        agent_id VARCHAR(128) NOT NULL,
        direction VARCHAR(16) NOT NULL,
        customer_index BIGINT UNSIGNED NOT NULL,
        start_time DATETIME(3) NOT NULL,
        end_time DATETIME(3) NOT NULL,
        business_type VARCHAR(64) NOT NULL,
        case_id VARCHAR(128) NULL,
        campaign VARCHAR(128) NULL,
        has_transcript TINYINT(1) NOT NULL DEFAULT 0,
        recording_id CHAR(32) NULL,
        received_at DATETIME(3) NOT NULL,
        archived_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        content_mac CHAR(64) NOT NULL,
        kek_id VARCHAR(64) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        sealed_record MEDIUMBLOB NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_call_corp_callid (corp_id, call_id),
        KEY ix_call_agent_time (agent_id, start_time, id),
        KEY ix_call_customer_time (customer_index, start_time, id),
        KEY ix_call_business_time (business_type, start_time, id),
        KEY ix_call_time (start_time, id)
      ) ${table}`);
    await q.query(`
      CREATE TABLE call_transcript (
        call_pk CHAR(32) NOT NULL,
        source VARCHAR(16) NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        language VARCHAR(16) NULL,
        model VARCHAR(128) NULL,
        recording_id CHAR(32) NULL,
        created_at DATETIME(3) NOT NULL,
        archived_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        kek_id VARCHAR(64) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        sealed_text MEDIUMBLOB NOT NULL,
        PRIMARY KEY (call_pk, source),
        KEY ix_transcript_corp_time (corp_id, created_at)
      ) ${table}`);
    await q.query(`
      CREATE TABLE recording_object (
        id CHAR(32) NOT NULL,
        kind VARCHAR(16) NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        owner_id VARCHAR(255) NOT NULL,
        call_pk CHAR(32) NULL,
        slot TINYINT UNSIGNED NULL,
        status VARCHAR(16) NOT NULL,
        bucket VARCHAR(63) NOT NULL,
        object_key VARCHAR(700) NOT NULL,
        version_id VARCHAR(128) NULL,
        content_type VARCHAR(127) NOT NULL,
        plaintext_size BIGINT UNSIGNED NULL,
        sealed_size BIGINT UNSIGNED NULL,
        sealed_header VARBINARY(1200) NULL,
        kek_id VARCHAR(64) NULL,
        kek_version INT UNSIGNED NULL,
        plaintext_sm3 CHAR(64) NULL,
        plaintext_md5 CHAR(32) NULL,
        expected_md5 CHAR(32) NULL,
        retain_until DATETIME(3) NULL,
        error VARCHAR(255) NULL,
        started_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        completed_at DATETIME(3) NULL,
        announced_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_recording_live (kind, corp_id, owner_id, slot),
        KEY ix_recording_call (call_pk),
        KEY ix_recording_unannounced (kind, status, announced_at)
      ) ${table}`);
    await q.query(`
      CREATE TABLE behaviour_event (
        id CHAR(32) NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        event_id VARCHAR(128) NOT NULL,
        type VARCHAR(32) NOT NULL,
        staff_id VARCHAR(128) NOT NULL,
        customer_index BIGINT UNSIGNED NULL,
        phone_index BIGINT UNSIGNED NULL,
        consent_category VARCHAR(64) NULL,
        occurred_at DATETIME(3) NOT NULL,
        received_at DATETIME(3) NOT NULL,
        archived_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        content_mac CHAR(64) NOT NULL,
        kek_id VARCHAR(64) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        sealed_record MEDIUMBLOB NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_event_corp_eventid (corp_id, event_id),
        KEY ix_event_staff_time (staff_id, occurred_at),
        KEY ix_event_customer_time (customer_index, occurred_at),
        KEY ix_event_phone_time (phone_index, occurred_at),
        KEY ix_event_type_time (type, occurred_at),
        KEY ix_event_consent (consent_category, customer_index, occurred_at)
      ) ${table}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE behaviour_event');
    await q.query('DROP TABLE recording_object');
    await q.query('DROP TABLE call_transcript');
    await q.query('DROP TABLE call_record');
  }
}
