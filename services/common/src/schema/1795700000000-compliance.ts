import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The compliance engine's tables (services/compliance raises and times alerts; the portal serves
 * and updates them with the caller's scope). Nothing of a record's content in plaintext: the hits
 * (the lexicon's words and offsets), explanations and every person's note are sealed (`audit`
 * class, bound to their row).
 *
 * - `lexicon_version` / `lexicon_entry`: versioned lexicon; at most one `draft`; exactly one
 *   `published` once the defaults are loaded; older published versions become `superseded`.
 *   Entries are configuration (the lexicon's own words), not personal data: kept as JSON.
 * - `compliance_alert`: one row per (record, rule, lexicon version) — `id` is SM3 of those, so a
 *   redelivered record, a restart mid-batch or a second retroactive scan inserts nothing twice.
 *   Also the outbox of `cz.alert.v1` (`published_at` NULL until produced) and of notifications
 *   (`notified_at` NULL until deliveries are queued). `doc_id` is the record's archive id, so the
 *   console jumps to it; `conversation_id` and `employee` carry the portal's data scope.
 * - `compliance_alert_event`: who did what to an alert, when (notes sealed).
 * - `compliance_scan_failure`: records that could not be opened or scanned (also dead-lettered).
 * - `compliance_rescan`: retroactive scans, resumable from (`cursor_time`, `cursor_id`), leased by
 *   one replica at a time.
 * - `compliance_sla_rule`: SLA hours by category / severity (`*` for any).
 * - `notification_channel` / `notification_delivery`: channels (target sealed: robot keys are
 *   secrets) and one delivery per (channel, alert, event) with retries and a dead-letter state.
 * - `review_item` / `review_config`: the review queue (conversation-days) and sampling settings.
 */
export class Compliance1795700000000 implements MigrationInterface {
  name = 'Compliance1795700000000';

  async up(q: QueryRunner): Promise<void> {
    const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
    await q.query(`
      CREATE TABLE lexicon_version (
        version INT UNSIGNED NOT NULL,
        status VARCHAR(16) NOT NULL,
        entry_count INT UNSIGNED NOT NULL DEFAULT 0,
        digest CHAR(64) NOT NULL DEFAULT '',
        note VARCHAR(500) NOT NULL DEFAULT '',
        created_by VARCHAR(64) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        published_by VARCHAR(64) NULL,
        published_at DATETIME(3) NULL,
        PRIMARY KEY (version),
        KEY ix_lexicon_version_status (status)
      ) ${table}`);
    await q.query(`
      CREATE TABLE lexicon_entry (
        version INT UNSIGNED NOT NULL,
        entry_id VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        kind VARCHAR(16) NOT NULL,
        category VARCHAR(32) NOT NULL,
        severity VARCHAR(16) NOT NULL,
        enabled TINYINT(1) NOT NULL,
        body JSON NOT NULL,
        PRIMARY KEY (version, entry_id),
        KEY ix_lexicon_entry_category (version, category)
      ) ${table}`);
    await q.query(`
      CREATE TABLE compliance_alert (
        id CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        kind VARCHAR(32) NOT NULL,
        category VARCHAR(32) NULL,
        severity VARCHAR(16) NOT NULL,
        severity_rank TINYINT UNSIGNED NOT NULL,
        rule_id VARCHAR(48) NULL,
        lexicon_version INT UNSIGNED NULL,
        retroactive TINYINT(1) NOT NULL DEFAULT 0,
        record_kind VARCHAR(8) NOT NULL,
        msgid VARCHAR(128) NULL,
        call_id VARCHAR(128) NULL,
        event_id VARCHAR(128) NULL,
        doc_id BINARY(16) NULL,
        doc_time DATETIME(3) NULL,
        conversation_id VARCHAR(255) NULL,
        employee VARCHAR(128) NULL,
        org_unit_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
        assigned_org_unit_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
        escalation_level TINYINT UNSIGNED NOT NULL DEFAULT 0,
        status VARCHAR(16) NOT NULL,
        raised_at DATETIME(3) NOT NULL,
        due_at DATETIME(3) NULL,
        updated_at DATETIME(3) NOT NULL,
        last_actor VARCHAR(64) NULL,
        row_version INT UNSIGNED NOT NULL DEFAULT 0,
        kek_id VARCHAR(64) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        sealed_detail BLOB NOT NULL,
        published_at DATETIME(3) NULL,
        notified_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        KEY ix_calert_corp_time (corp_id, raised_at),
        KEY ix_calert_status_due (status, due_at),
        KEY ix_calert_category_time (category, raised_at),
        KEY ix_calert_msgid (corp_id, msgid),
        KEY ix_calert_call (corp_id, call_id),
        KEY ix_calert_conversation (corp_id, conversation_id, doc_time),
        KEY ix_calert_unpublished (published_at),
        KEY ix_calert_unnotified (notified_at)
      ) ${table}`);
    await q.query(`
      CREATE TABLE compliance_alert_event (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        alert_id CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        at DATETIME(3) NOT NULL,
        actor VARCHAR(64) NOT NULL,
        action VARCHAR(24) NOT NULL,
        from_status VARCHAR(16) NULL,
        to_status VARCHAR(16) NULL,
        kek_id VARCHAR(64) NULL,
        kek_version INT UNSIGNED NULL,
        sealed_note BLOB NULL,
        PRIMARY KEY (id),
        KEY ix_calert_event_alert (alert_id, id)
      ) ${table}`);
    await q.query(`
      CREATE TABLE compliance_scan_failure (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        topic VARCHAR(64) NOT NULL,
        kafka_partition INT NOT NULL,
        kafka_offset BIGINT NOT NULL,
        corp_id VARCHAR(64) NULL,
        error VARCHAR(500) NOT NULL,
        at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY ux_scan_failure_position (topic, kafka_partition, kafka_offset)
      ) ${table}`);
    await q.query(`
      CREATE TABLE compliance_rescan (
        id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        version INT UNSIGNED NOT NULL,
        corp_id VARCHAR(64) NULL,
        org_unit_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
        from_time DATETIME(3) NOT NULL,
        to_time DATETIME(3) NOT NULL,
        rate_per_second INT UNSIGNED NOT NULL,
        status VARCHAR(16) NOT NULL,
        cursor_time DATETIME(3) NULL,
        cursor_id BINARY(16) NULL,
        scanned BIGINT UNSIGNED NOT NULL DEFAULT 0,
        total BIGINT UNSIGNED NULL,
        alerts BIGINT UNSIGNED NOT NULL DEFAULT 0,
        requested_by VARCHAR(64) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        lease_owner VARCHAR(64) NULL,
        lease_until DATETIME(3) NULL,
        error VARCHAR(500) NULL,
        PRIMARY KEY (id),
        KEY ix_rescan_status (status, created_at)
      ) ${table}`);
    await q.query(`
      CREATE TABLE compliance_sla_rule (
        category VARCHAR(32) NOT NULL,
        severity VARCHAR(16) NOT NULL,
        hours DECIMAL(7,2) NOT NULL,
        updated_by VARCHAR(64) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (category, severity)
      ) ${table}`);
    await q.query(`
      CREATE TABLE notification_channel (
        id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        name VARCHAR(100) NOT NULL,
        kind VARCHAR(16) NOT NULL,
        target_origin VARCHAR(300) NOT NULL,
        kek_id VARCHAR(64) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        sealed_target BLOB NOT NULL,
        min_severity VARCHAR(16) NOT NULL,
        categories JSON NOT NULL,
        on_escalation TINYINT(1) NOT NULL,
        enabled TINYINT(1) NOT NULL,
        last_error VARCHAR(300) NULL,
        created_by VARCHAR(64) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id)
      ) ${table}`);
    await q.query(`
      CREATE TABLE notification_delivery (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        channel_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        alert_id CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        event VARCHAR(16) NOT NULL,
        status VARCHAR(12) NOT NULL,
        attempts INT UNSIGNED NOT NULL DEFAULT 0,
        next_attempt_at DATETIME(3) NULL,
        last_error VARCHAR(300) NULL,
        created_at DATETIME(3) NOT NULL,
        sent_at DATETIME(3) NULL,
        lease_owner VARCHAR(64) NULL,
        lease_until DATETIME(3) NULL,
        PRIMARY KEY (id),
        UNIQUE KEY ux_delivery (channel_id, alert_id, event),
        KEY ix_delivery_due (status, next_attempt_at)
      ) ${table}`);
    await q.query(`
      CREATE TABLE review_item (
        id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        conversation_id VARCHAR(255) NOT NULL,
        day DATE NOT NULL,
        reason VARCHAR(8) NOT NULL,
        alert_count INT UNSIGNED NOT NULL DEFAULT 0,
        org_unit_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
        status VARCHAR(12) NOT NULL,
        decided_by VARCHAR(64) NULL,
        decided_at DATETIME(3) NULL,
        kek_id VARCHAR(64) NULL,
        kek_version INT UNSIGNED NULL,
        sealed_note BLOB NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY ux_review_day (corp_id, conversation_id, day),
        KEY ix_review_status (status, created_at)
      ) ${table}`);
    await q.query(`
      CREATE TABLE review_config (
        corp_id VARCHAR(64) NOT NULL,
        sample_percent DECIMAL(5,2) NOT NULL,
        max_per_day INT UNSIGNED NOT NULL,
        updated_by VARCHAR(64) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (corp_id)
      ) ${table}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const name of [
      'review_config',
      'review_item',
      'notification_delivery',
      'notification_channel',
      'compliance_sla_rule',
      'compliance_rescan',
      'compliance_scan_failure',
      'compliance_alert_event',
      'compliance_alert',
      'lexicon_entry',
      'lexicon_version',
    ]) {
      await q.query(`DROP TABLE ${name}`);
    }
  }
}
