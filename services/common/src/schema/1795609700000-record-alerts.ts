import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alerts attached to archived records (services/archiver/src/alerts): every `cz.alert.v1` record,
 * whoever raised it (completeness tracking, the puller, compliance rules), and the link from an
 * alert to the chat message or call it names.
 *
 * - `alert`: one row per alert id (the consumer keeps the first delivery): filter columns (kind,
 *   severity, source, raisedAt, corp) and the record as it travelled, sealed. `claim` tells the
 *   transaction that stored a row first (as in `message_key`), so links are counted exactly once.
 * - `alert_target`: one row per (record, alert). `doc_id` is the record's archive id, derived from
 *   (corp, msgid) or (corp, callId) alone, so it is known before the record is archived;
 *   `doc_time` (the message time / call start) is NULL until the record is archived. The archiver
 *   fills it in the transaction that archives the record, or at once when the record was first.
 *   `doc_kind` as in `search_token`: 1 message, 2 call.
 * - `alert_record`: one row per archived record with at least one alert, keyed like
 *   `search_token` by (time, id): the search's has-alert condition is one primary-key look-up per
 *   candidate, and a has-alert search walks it in time order. Severity as a rank (1 info,
 *   2 warning, 3 critical).
 *
 * Nothing of a message's content: an alert's `detail` holds identifiers and counts (and, from
 * compliance, rule and category), and it is only kept inside the sealed record anyway.
 */
export class RecordAlerts1795609700000 implements MigrationInterface {
  name = 'RecordAlerts1795609700000';

  async up(q: QueryRunner): Promise<void> {
    const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
    await q.query(`
      CREATE TABLE alert (
        id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        kind VARCHAR(32) NOT NULL,
        severity VARCHAR(16) NOT NULL,
        source VARCHAR(64) NOT NULL,
        raised_at DATETIME(3) NOT NULL,
        claim BIGINT UNSIGNED NOT NULL,
        kek_id VARCHAR(64) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        sealed_record MEDIUMBLOB NOT NULL,
        archived_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        KEY ix_alert_corp_time (corp_id, raised_at),
        KEY ix_alert_kind_time (kind, raised_at)
      ) ${table}`);
    await q.query(`
      CREATE TABLE alert_target (
        doc_id BINARY(16) NOT NULL,
        alert_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
        doc_kind TINYINT UNSIGNED NOT NULL,
        doc_time DATETIME(3) NULL,
        kind VARCHAR(32) NOT NULL,
        severity_rank TINYINT UNSIGNED NOT NULL,
        PRIMARY KEY (doc_id, alert_id),
        KEY ix_alert_target_alert (alert_id)
      ) ${table}`);
    await q.query(`
      CREATE TABLE alert_record (
        doc_time DATETIME(3) NOT NULL,
        doc_id BINARY(16) NOT NULL,
        doc_kind TINYINT UNSIGNED NOT NULL,
        alert_count INT UNSIGNED NOT NULL,
        max_severity TINYINT UNSIGNED NOT NULL,
        PRIMARY KEY (doc_time, doc_id)
      ) ENGINE=InnoDB`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE alert_record');
    await q.query('DROP TABLE alert_target');
    await q.query('DROP TABLE alert');
  }
}
