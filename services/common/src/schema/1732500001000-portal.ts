import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Portal accounts, sessions and the audit trail of every read by a person (SM3 hash chain). */
export class Portal1732500001000 implements MigrationInterface {
  name = 'Portal1732500001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE portal_user (
        username VARCHAR(64) NOT NULL,
        display_name VARCHAR(128) NOT NULL,
        roles VARCHAR(255) NOT NULL,
        password_hash VARCHAR(255) NOT NULL,
        disabled TINYINT(1) NOT NULL DEFAULT 0,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (username)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE portal_session (
        token_hash CHAR(64) NOT NULL,
        username VARCHAR(64) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        PRIMARY KEY (token_hash),
        KEY ix_session_user (username)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE audit_event (
        seq BIGINT UNSIGNED NOT NULL,
        at DATETIME(3) NOT NULL,
        actor VARCHAR(64) NOT NULL,
        action VARCHAR(64) NOT NULL,
        target VARCHAR(255) NOT NULL,
        detail JSON NOT NULL,
        prev_hash CHAR(64) NOT NULL,
        hash CHAR(64) NOT NULL,
        PRIMARY KEY (seq),
        KEY ix_audit_actor_time (actor, at),
        KEY ix_audit_time (at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    // one row that serialises appends to the chain across every portal replica
    await q.query(`
      CREATE TABLE audit_chain_head (
        id TINYINT UNSIGNED NOT NULL,
        seq BIGINT UNSIGNED NOT NULL,
        hash CHAR(64) NOT NULL,
        PRIMARY KEY (id)
      ) ENGINE=InnoDB`);
    await q.query(`INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, REPEAT('0', 64))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_chain_head');
    await q.query('DROP TABLE audit_event');
    await q.query('DROP TABLE portal_session');
    await q.query('DROP TABLE portal_user');
  }
}
