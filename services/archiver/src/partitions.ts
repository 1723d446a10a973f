import type { DataSource } from 'typeorm';

/** The month-partitioned tables (see migration SearchArchive1795607400000). */
export const MONTH_PARTITIONED_TABLES = ['message', 'message_recipient', 'search_token'] as const;

const MONTH_NAME = /^p(\d{4})(\d{2})$/;

const monthStart = (year: number, month: number) =>
  `${year + Math.floor((month - 1) / 12)}-${String(((month - 1) % 12) + 1).padStart(2, '0')}-01`;

/**
 * Keeps month partitions ready ahead of time: splits `p_future` (MAXVALUE) into the missing months
 * up to `monthsAhead` after now. Normally p_future is empty and the split is instant; records
 * dated further ahead stay correct, they are just moved into their month by the split. Safe to run
 * from several replicas (a lost race only fails with "duplicate partition", which is ignored).
 */
export async function ensureMonthPartitions(
  db: DataSource,
  monthsAhead = 12,
  now = new Date(),
): Promise<{ table: string; added: string[] }[]> {
  const report: { table: string; added: string[] }[] = [];
  const targetIndex = now.getUTCFullYear() * 12 + now.getUTCMonth() + monthsAhead; // months since year 0
  for (const table of MONTH_PARTITIONED_TABLES) {
    const rows = await db.query<{ name: string }[]>(
      `SELECT PARTITION_NAME AS name FROM information_schema.PARTITIONS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL`,
      [table],
    );
    const names = rows.map((r) => r.name);
    if (!names.includes('p_future')) continue; // not partitioned the way this code expects
    let lastIndex = -1;
    for (const name of names) {
      const match = MONTH_NAME.exec(name);
      if (match) lastIndex = Math.max(lastIndex, Number(match[1]) * 12 + Number(match[2]) - 1);
    }
    if (lastIndex < 0 || lastIndex >= targetIndex) continue;
    const added: string[] = [];
    const parts: string[] = [];
    for (let index = lastIndex + 1; index <= targetIndex; index += 1) {
      const year = Math.floor(index / 12);
      const month = (index % 12) + 1;
      const name = `p${year}${String(month).padStart(2, '0')}`;
      added.push(name);
      parts.push(`PARTITION ${name} VALUES LESS THAN ('${monthStart(year, month + 1)}')`);
    }
    parts.push('PARTITION p_future VALUES LESS THAN (MAXVALUE)');
    try {
      await db.query(`ALTER TABLE ${table} REORGANIZE PARTITION p_future INTO (${parts.join(', ')})`);
      report.push({ table, added });
    } catch (err) {
      if (!/duplicate partition|same name|already exists/i.test(String(err))) throw err;
    }
  }
  return report;
}
