import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The archive at volume and keyword search without plaintext.
 *
 * Month partitions (RANGE COLUMNS on the record time) for the tables that grow with every message:
 * `message`, `message_recipient` and `search_token`. MySQL/MariaDB require every unique key of a
 * partitioned table to contain the partition column, so:
 * - `message` is clustered by (msgtime, id): rows arrive roughly in time order, inserts append to
 *   the current month, and a search candidate (which carries its time) is found in one partition.
 *   `ix_message_id` keeps look-ups by id alone possible (one probe per partition).
 * - The uniqueness that makes the archive idempotent moves to `message_key`, a small unpartitioned
 *   table with one row per archived record: its key is the archive id, which is SM3(corp ‖ msgid),
 *   so "one row per (corp, msgid)" still holds. Its `msgtime` locates the record in the partitions.
 *   The batch transaction claims keys there first (INSERT IGNORE, see services/archiver/src/batch)
 *   and writes messages, recipients, index entries and counters only for the records it claimed.
 * - `archive_offset`: the next Kafka offset per (group, topic, partition), advanced in the same
 *   transaction as the records of a batch; a redelivered batch is skipped before any work.
 *
 * Partitions: p_old (before 2024), one per month 2024-01 … 2027-12, and p_future. The archiver
 * splits p_future ahead of time (services/archiver/src/partitions.ts), so months keep coming.
 *
 * Search: `search_token` holds one row per (blind-indexed token, record); see
 * services/common/src/search/text.ts for what a token is and README "Search" for what the index
 * reveals. No plaintext: tokens are 64-bit HMAC-SM3 values, record ids binary.
 *
 * Directory: `org_unit` (tree, materialised path for "this branch and below"), `employee` (userid →
 * org unit; the name only sealed + blind index), `customer` (external userid, phone and name only
 * sealed + blind indexes, looked up exactly; `id` is the opaque reference the portal shows).
 * `conversation` / `conversation_participant` normalise who talks in which conversation
 * (one-to-one vs group by roomid).
 */
export class SearchArchive1795607400000 implements MigrationInterface {
  name = 'SearchArchive1795607400000';

  async up(q: QueryRunner): Promise<void> {
    const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
    const partitions = monthPartitions();

    await q.query(`
      CREATE TABLE message_key (
        id BINARY(16) NOT NULL,
        msgtime DATETIME(3) NOT NULL,
        claim BIGINT UNSIGNED NOT NULL,
        PRIMARY KEY (id)
      ) ${table}`);
    await q.query('INSERT INTO message_key (id, msgtime, claim) SELECT UNHEX(id), msgtime, 0 FROM message');

    await q.query(`
      ALTER TABLE message
        DROP PRIMARY KEY,
        DROP INDEX uq_message_corp_msgid,
        DROP INDEX ix_message_time,
        ADD PRIMARY KEY (msgtime, id),
        ADD KEY ix_message_id (id),
        ADD KEY ix_message_corp_msgid (corp_id, msgid)`);
    await q.query(`ALTER TABLE message PARTITION BY RANGE COLUMNS (msgtime) (${partitions})`);

    await q.query(`
      ALTER TABLE message_recipient
        DROP PRIMARY KEY,
        ADD PRIMARY KEY (msgtime, message_id, recipient)`);
    await q.query(`ALTER TABLE message_recipient PARTITION BY RANGE COLUMNS (msgtime) (${partitions})`);

    await q.query(`
      CREATE TABLE search_token (
        token BIGINT UNSIGNED NOT NULL,
        doc_time DATETIME(3) NOT NULL,
        doc_id BINARY(16) NOT NULL,
        doc_kind TINYINT UNSIGNED NOT NULL,
        PRIMARY KEY (token, doc_time, doc_id)
      ) ENGINE=InnoDB
      PARTITION BY RANGE COLUMNS (doc_time) (${partitions})`);

    await q.query(`
      CREATE TABLE archive_offset (
        group_id VARCHAR(128) NOT NULL,
        topic VARCHAR(128) NOT NULL,
        partition_no INT UNSIGNED NOT NULL,
        next_offset BIGINT UNSIGNED NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (group_id, topic, partition_no)
      ) ${table}`);

    await q.query(`
      CREATE TABLE conversation (
        corp_id VARCHAR(64) NOT NULL,
        conversation_id VARCHAR(300) NOT NULL,
        kind VARCHAR(8) NOT NULL,
        room_id VARCHAR(128) NULL,
        first_msgtime DATETIME(3) NOT NULL,
        last_msgtime DATETIME(3) NOT NULL,
        message_count BIGINT UNSIGNED NOT NULL,
        PRIMARY KEY (corp_id, conversation_id),
        KEY ix_conversation_last (corp_id, last_msgtime)
      ) ${table}`);
    await q.query(`
      CREATE TABLE conversation_participant (
        corp_id VARCHAR(64) NOT NULL,
        conversation_id VARCHAR(300) NOT NULL,
        participant VARCHAR(128) NOT NULL,
        party VARCHAR(8) NOT NULL,
        first_msgtime DATETIME(3) NOT NULL,
        last_msgtime DATETIME(3) NOT NULL,
        sent_count BIGINT UNSIGNED NOT NULL,
        PRIMARY KEY (corp_id, conversation_id, participant),
        KEY ix_participant_last (corp_id, participant, last_msgtime)
      ) ${table}`);

    await q.query(`
      CREATE TABLE org_unit (
        corp_id VARCHAR(64) NOT NULL,
        id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        parent_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
        name VARCHAR(200) NOT NULL,
        path VARCHAR(1000) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        depth TINYINT UNSIGNED NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (corp_id, id),
        KEY ix_org_path (corp_id, path)
      ) ${table}`);
    await q.query(`
      CREATE TABLE employee (
        corp_id VARCHAR(64) NOT NULL,
        userid VARCHAR(128) NOT NULL,
        org_unit_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
        name_index BIGINT UNSIGNED NULL,
        sealed_profile BLOB NOT NULL,
        kek_id VARCHAR(64) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (corp_id, userid),
        KEY ix_employee_org (corp_id, org_unit_id),
        KEY ix_employee_name (corp_id, name_index)
      ) ${table}`);
    await q.query(`
      CREATE TABLE customer (
        id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        corp_id VARCHAR(64) NOT NULL,
        external_index BIGINT UNSIGNED NOT NULL,
        phone_index BIGINT UNSIGNED NULL,
        name_index BIGINT UNSIGNED NULL,
        sealed_profile BLOB NOT NULL,
        kek_id VARCHAR(64) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        first_seen_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_customer_external (corp_id, external_index),
        KEY ix_customer_phone (corp_id, phone_index),
        KEY ix_customer_name (corp_id, name_index)
      ) ${table}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const name of [
      'customer',
      'employee',
      'org_unit',
      'conversation_participant',
      'conversation',
      'archive_offset',
      'search_token',
    ]) {
      await q.query(`DROP TABLE ${name}`);
    }
    await q.query('ALTER TABLE message_recipient REMOVE PARTITIONING');
    await q.query('ALTER TABLE message_recipient DROP PRIMARY KEY, ADD PRIMARY KEY (message_id, recipient)');
    await q.query('ALTER TABLE message REMOVE PARTITIONING');
    await q.query(`
      ALTER TABLE message
        DROP PRIMARY KEY,
        DROP INDEX ix_message_id,
        DROP INDEX ix_message_corp_msgid,
        ADD PRIMARY KEY (id),
        ADD UNIQUE KEY uq_message_corp_msgid (corp_id, msgid),
        ADD KEY ix_message_time (msgtime, id)`);
    await q.query('DROP TABLE message_key');
  }
}

/** p_old, one partition per month 2024-01 … 2027-12 (named pYYYYMM, holding that month), p_future. */
function monthPartitions(): string {
  const parts = ["PARTITION p_old VALUES LESS THAN ('2024-01-01')"];
  for (let year = 2024; year <= 2027; year += 1) {
    for (let month = 1; month <= 12; month += 1) {
      const next = month === 12 ? `${year + 1}-01-01` : `${year}-${String(month + 1).padStart(2, '0')}-01`;
      parts.push(`PARTITION p${year}${String(month).padStart(2, '0')} VALUES LESS THAN ('${next}')`);
    }
  }
  parts.push('PARTITION p_future VALUES LESS THAN (MAXVALUE)');
  return parts.join(', ');
}
