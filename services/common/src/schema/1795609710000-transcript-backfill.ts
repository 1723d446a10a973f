import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Call transcripts stored before they were keyword-indexed: the archiver now indexes each
 * transcript under its call in the transaction that stores it; those already stored are queued
 * here and indexed in the background (services/archiver/src/search/transcript-backfill.ts).
 * Indexing is idempotent, so a transcript both queued and stored again is harmless.
 */
export class TranscriptBackfill1795609710000 implements MigrationInterface {
  name = 'TranscriptBackfill1795609710000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE call_transcript_backfill (
        call_pk CHAR(32) NOT NULL,
        source VARCHAR(16) NOT NULL,
        PRIMARY KEY (call_pk, source)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(
      'INSERT INTO call_transcript_backfill (call_pk, source) SELECT call_pk, source FROM call_transcript',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE call_transcript_backfill');
  }
}
