import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The key service's own database (cz_keys). Nothing here is usable without the root key: KEKs are
 * stored wrapped under keys derived from it, data keys wrapped under a KEK version, credentials
 * only as SM3 hashes. The root key itself is never stored, only a check value and one check value
 * per Shamir share (so a wrong share is refused on submission).
 */
export class Keys1732600000000 implements MigrationInterface {
  name = 'Keys1732600000000';

  async up(q: QueryRunner): Promise<void> {
    // audit detail is TEXT, not JSON: MySQL 8 re-serialises JSON values, which would break the hashes
    await q.query(`
      CREATE TABLE ks_config (
        id TINYINT UNSIGNED NOT NULL,
        threshold TINYINT UNSIGNED NOT NULL,
        share_count TINYINT UNSIGNED NOT NULL,
        root_check CHAR(64) NOT NULL,
        initialized_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE ks_share_check (
        x TINYINT UNSIGNED NOT NULL,
        check_hash CHAR(64) NOT NULL,
        PRIMARY KEY (x)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE ks_principal (
        kind VARCHAR(16) NOT NULL,
        name VARCHAR(64) NOT NULL,
        token_hash CHAR(64) NOT NULL,
        classes VARCHAR(255) NOT NULL DEFAULT '',
        disabled TINYINT(1) NOT NULL DEFAULT 0,
        created_at DATETIME(3) NOT NULL,
        created_by VARCHAR(64) NOT NULL,
        PRIMARY KEY (kind, name),
        UNIQUE KEY uq_principal_token (token_hash)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE ks_keyring (
        data_class VARCHAR(16) NOT NULL,
        latest_version INT UNSIGNED NOT NULL,
        min_decryption_version INT UNSIGNED NOT NULL,
        auto_rotate_seconds INT UNSIGNED NOT NULL DEFAULT 0,
        deletion_allowed TINYINT(1) NOT NULL DEFAULT 0,
        rotated_at DATETIME(3) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (data_class)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE ks_kek_version (
        data_class VARCHAR(16) NOT NULL,
        version INT UNSIGNED NOT NULL,
        wrapped_kek VARBINARY(64) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        created_by VARCHAR(64) NOT NULL,
        PRIMARY KEY (data_class, version)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    // one data key per class and day, referenced from sealed objects by id; rewrap updates the row
    await q.query(`
      CREATE TABLE ks_data_key (
        id BINARY(16) NOT NULL,
        data_class VARCHAR(16) NOT NULL,
        day DATE NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        wrapped_key VARBINARY(64) NULL,
        created_at DATETIME(3) NOT NULL,
        rewrapped_at DATETIME(3) NULL,
        destroyed_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_data_key_day (data_class, day),
        KEY ix_data_key_version (data_class, kek_version)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    // blind-index keys (32 bytes, one per purpose, stable for the life of the index), wrapped
    // under the `index` keyring so that rotation and rewrap cover them too
    await q.query(`
      CREATE TABLE ks_index_key (
        purpose VARCHAR(64) NOT NULL,
        kek_version INT UNSIGNED NOT NULL,
        wrapped_key VARBINARY(64) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        rewrapped_at DATETIME(3) NULL,
        PRIMARY KEY (purpose)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE ks_request (
        id CHAR(32) NOT NULL,
        kind VARCHAR(40) NOT NULL,
        data_class VARCHAR(16) NOT NULL,
        params JSON NOT NULL,
        reason VARCHAR(500) NOT NULL,
        status VARCHAR(16) NOT NULL,
        requested_by VARCHAR(64) NOT NULL,
        requested_at DATETIME(3) NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        decided_by VARCHAR(64) NULL,
        decided_at DATETIME(3) NULL,
        result JSON NULL,
        PRIMARY KEY (id),
        KEY ix_request_status (status, requested_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE ks_rewrap_job (
        id CHAR(32) NOT NULL,
        data_class VARCHAR(16) NULL,
        status VARCHAR(16) NOT NULL,
        total INT UNSIGNED NOT NULL,
        done INT UNSIGNED NOT NULL,
        failed INT UNSIGNED NOT NULL,
        requested_by VARCHAR(64) NOT NULL,
        started_at DATETIME(3) NOT NULL,
        heartbeat_at DATETIME(3) NOT NULL,
        finished_at DATETIME(3) NULL,
        error VARCHAR(500) NULL,
        PRIMARY KEY (id),
        KEY ix_rewrap_started (started_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE ks_audit_event (
        seq BIGINT UNSIGNED NOT NULL,
        at DATETIME(3) NOT NULL,
        actor VARCHAR(80) NOT NULL,
        action VARCHAR(64) NOT NULL,
        outcome VARCHAR(16) NOT NULL,
        code VARCHAR(64) NOT NULL,
        target VARCHAR(255) NOT NULL,
        detail TEXT NOT NULL,
        prev_hash CHAR(64) NOT NULL,
        hash CHAR(64) NOT NULL,
        PRIMARY KEY (seq),
        KEY ix_ks_audit_action (action, at),
        KEY ix_ks_audit_time (at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE ks_audit_head (
        id TINYINT UNSIGNED NOT NULL,
        seq BIGINT UNSIGNED NOT NULL,
        hash CHAR(64) NOT NULL,
        PRIMARY KEY (id)
      ) ENGINE=InnoDB`);
    await q.query(`INSERT INTO ks_audit_head (id, seq, hash) VALUES (1, 0, REPEAT('0', 64))`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'ks_audit_head',
      'ks_audit_event',
      'ks_rewrap_job',
      'ks_request',
      'ks_index_key',
      'ks_data_key',
      'ks_kek_version',
      'ks_keyring',
      'ks_principal',
      'ks_share_check',
      'ks_config',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
