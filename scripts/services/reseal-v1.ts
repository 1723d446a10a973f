/**
 * Re-seals the archive's format-v1 values as v2 (bound to their rows, compressed), in the
 * background after `make up` (scripts/services/up.sh), with progress in .stack/logs/reseal-v1.log.
 * Resumable: the position after every chunk is kept in .stack/reseal-v1.checkpoint.json and an
 * interrupted pass goes on from there; idempotent: only values still in format v1 are touched, so
 * a finished pass finds nothing left. What is re-sealed and what not: see
 * services/archiver/src/records/reseal-v1.ts.
 *
 *   npx tsx scripts/services/reseal-v1.ts [checkpoint-file]     (CZ_KEYSERVICE_TOKEN: a caller that
 *   may unwrap and seal chat, pii and audit and read the consent and external-userid index keys)
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createMainDataSource, keyProviderFromEnv } from '@cz/common';
import { resealV1, type ResealCheckpoint } from '@cz/archiver';

const checkpointFile = process.argv[2] ?? '.stack/reseal-v1.checkpoint.json';
const log = (line: string) => console.log(`[${new Date().toISOString()}] reseal-v1: ${line}`);

const checkpoint = existsSync(checkpointFile)
  ? (JSON.parse(readFileSync(checkpointFile, 'utf8')) as ResealCheckpoint)
  : undefined;
const keys = keyProviderFromEnv();
const db = createMainDataSource();
await db.initialize();
try {
  log(checkpoint ? `resuming in ${checkpoint.table}` : 'starting a pass over every table');
  const counts = await resealV1({ query: (sql, params) => db.query(sql, params) }, keys, {
    ...(checkpoint ? { checkpoint } : {}),
    saveCheckpoint: (next) => {
      // write-then-rename: a crash never leaves half a checkpoint
      writeFileSync(`${checkpointFile}.tmp`, JSON.stringify(next));
      renameSync(`${checkpointFile}.tmp`, checkpointFile);
    },
    log,
  });
  if (existsSync(checkpointFile)) renameSync(checkpointFile, `${checkpointFile}.done`);
  const sum = Object.values(counts).reduce(
    (a, c) => ({
      resealed: a.resealed + c.resealed,
      misplaced: a.misplaced + c.misplaced,
      unreadable: a.unreadable + c.unreadable,
    }),
    { resealed: 0, misplaced: 0, unreadable: 0 },
  );
  log(
    `pass complete: ${sum.resealed} re-sealed as v2, ${sum.misplaced} misplaced and ${sum.unreadable} unreadable left as they were`,
  );
} finally {
  await db.destroy();
}
