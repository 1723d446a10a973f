import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Messages archived before the search index existed: SearchArchive1795607400000 gave them
 * `message_key` rows with claim 0 (a real claim is a random 64-bit number). They are queued here
 * and the archiver indexes them in the background (services/archiver/src/search/message-backfill.ts):
 * search tokens, customers, and exact conversation counters. A message that somehow has no key
 * row (written by an archiver still running the old code) gets one now and is queued too.
 */
export class SearchBackfill1795608200000 implements MigrationInterface {
  name = 'SearchBackfill1795608200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE search_backfill (
        id BINARY(16) NOT NULL,
        msgtime DATETIME(3) NOT NULL,
        PRIMARY KEY (id)
      ) ENGINE=InnoDB`);
    await q.query(`
      INSERT IGNORE INTO message_key (id, msgtime, claim)
      SELECT UNHEX(m.id), m.msgtime, 0 FROM message m
      LEFT JOIN message_key k ON k.id = UNHEX(m.id) WHERE k.id IS NULL`);
    await q.query(
      'INSERT INTO search_backfill (id, msgtime) SELECT id, msgtime FROM message_key WHERE claim = 0',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE search_backfill');
  }
}
