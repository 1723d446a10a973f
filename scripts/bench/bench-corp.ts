import mysql from 'mysql2/promise';
import { databaseConfig } from '@cz/common';

/**
 * Removes a bench corp's rows from cz_main again, so a benchmark on the live stack leaves the
 * archive as it found it (a later `make test` on the same stack sees the demo data only):
 * messages, their search tokens and keys, the directory rows, and every alert of the corp
 * (compliance's alerts with their history and deliveries, the archiver's alerts and links).
 * Token rows have no index by document, so they are found by a scan bounded to the corp's time range.
 */
export async function removeBenchCorp(corp: string, log: (...args: unknown[]) => void = console.log) {
  const db = await mysql.createConnection({
    ...databaseConfig(),
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  try {
    await db.query(
      'CREATE TEMPORARY TABLE bench_ids (id BINARY(16) NOT NULL, msgtime DATETIME(3) NOT NULL, PRIMARY KEY (id))',
    );
    await db.query('INSERT INTO bench_ids SELECT UNHEX(id), msgtime FROM message WHERE corp_id = ?', [corp]);
    const [range] = await db.query(
      'SELECT MIN(msgtime) AS lo, MAX(msgtime) AS hi, COUNT(*) AS n FROM bench_ids',
    );
    const { lo, hi, n } = (range as { lo: Date | null; hi: Date | null; n: string }[])[0]!;
    if (lo && hi) {
      await db.query(
        'DELETE t FROM search_token t JOIN bench_ids b ON b.id = t.doc_id AND b.msgtime = t.doc_time WHERE t.doc_time BETWEEN ? AND ?',
        [lo, hi],
      );
      await db.query(
        'DELETE r FROM message_recipient r JOIN bench_ids b ON r.msgtime = b.msgtime AND r.message_id = LOWER(HEX(b.id))',
      );
      await db.query(
        'DELETE a FROM alert_record a JOIN bench_ids b ON a.doc_id = b.id AND a.doc_time = b.msgtime',
      );
      await db.query('DELETE k FROM message_key k JOIN bench_ids b ON k.id = b.id');
    }
    await db.query(
      'DELETE e FROM compliance_alert_event e JOIN compliance_alert a ON a.id = e.alert_id WHERE a.corp_id = ?',
      [corp],
    );
    await db.query(
      'DELETE d FROM notification_delivery d JOIN compliance_alert a ON a.id = d.alert_id WHERE a.corp_id = ?',
      [corp],
    );
    await db.query('DELETE t FROM alert_target t JOIN alert a ON a.id = t.alert_id WHERE a.corp_id = ?', [
      corp,
    ]);
    for (const table of [
      'compliance_alert',
      'alert',
      'review_item',
      'message',
      'conversation',
      'conversation_participant',
      'customer',
      'wecom_seq_tracker',
      'completeness_day',
    ])
      await db.query(`DELETE FROM ${table} WHERE corp_id = ?`, [corp]).catch(() => undefined);
    log(`removed ${n} messages of ${corp} and its alerts`);
  } finally {
    await db.end();
  }
}
