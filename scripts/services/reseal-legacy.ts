/**
 * One-off for local stacks created before the key service existed: archived chat messages sealed
 * under the walking skeleton's development master key (KEK id `local/…`) are opened with that key
 * and sealed again through the key service, so the console can still show them. up.sh runs it only
 * while .stack/secrets/dev_master_key exists and renames the file when every row is done; a stack
 * created since then never needs it. Other tables are not migrated (their features came later).
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { createMainDataSource, keyProviderFromEnv } from '@cz/common';
import {
  CryptoError,
  LocalKeyProvider,
  openBuffer,
  parseSealedHeader,
  sealBuffer,
  sealedKeyInfo,
} from '@cz/common/crypto';

const keyFile = process.argv[2];
if (!keyFile || !existsSync(keyFile)) {
  console.log('no development master key: nothing to re-seal');
  process.exit(0);
}
const legacy = new LocalKeyProvider({ masterKey: Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'hex') });
const keys = keyProviderFromEnv();
const db = createMainDataSource();
await db.initialize();
let resealed = 0;
let unreadable = 0;
try {
  let after = '';
  for (;;) {
    const rows = await db.query<{ id: string; corp_id: string; sealed_record: Buffer }[]>(
      "SELECT id, corp_id, sealed_record FROM message WHERE kek_id LIKE 'local/%' AND id > ? ORDER BY id LIMIT 500",
      [after],
    );
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    for (const row of rows) {
      try {
        const header = parseSealedHeader(row.sealed_record);
        // sealed format v2, bound to its row (the content was written by this stack's own archiver)
        const sealed = await sealBuffer(await openBuffer(row.sealed_record, legacy), keys, header.dataClass, {
          kind: 'msg',
          corp: row.corp_id,
          id: row.id,
        });
        const fresh = sealedKeyInfo(sealed);
        await db.query(
          "UPDATE message SET sealed_record = ?, kek_id = ?, kek_version = ? WHERE id = ? AND kek_id LIKE 'local/%'",
          [sealed, fresh.kekId, fresh.kekVersion, row.id],
        );
        resealed++;
      } catch (err) {
        if (!(err instanceof CryptoError)) throw err;
        unreadable++;
      }
    }
  }
  console.log(
    `re-sealed ${resealed} legacy messages through the key service (${unreadable} unreadable, left as they were)`,
  );
  if (unreadable === 0) renameSync(keyFile, `${keyFile}.retired`);
} finally {
  await db.destroy();
}
