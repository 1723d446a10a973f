import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { externalUserIndex } from '@cz/common';
import { sealBuffer, sealedKeyInfo, type KeyProvider } from '@cz/common/crypto';
import type { ArchiveHook, MessageRow } from '../rows';
import { partyOf } from './conversations';

/*
 * Customers (WeCom external contacts). The external userid, phone and name are personal data:
 * they exist only inside `sealed_profile` (class pii) and as blind indexes (external userid under
 * purpose "external-userid", phone under "phone" — the same keys as call records and behaviour
 * events, so a customer found by phone also finds their calls). `customer.id` is a random opaque
 * reference for the console. The archiver registers every external contact it sees in a message;
 * names and phones come from the directory load (portal admin API).
 */

export interface CustomerProfile {
  externalUserId: string;
  name?: string;
  phone?: string;
}

interface PreparedCustomer {
  corpId: string;
  externalIndex: string;
  sealed: Buffer;
  kekId: string;
  kekVersion: number;
}

const KNOWN_LIMIT = 500_000;

/** Bound like the portal's directory binds it: `customer/<external index>` of the corp. */
export async function sealCustomerProfile(
  keys: KeyProvider,
  corpId: string,
  externalIndex: string,
  profile: CustomerProfile,
) {
  const sealed = await sealBuffer(Buffer.from(JSON.stringify(profile)), keys, 'pii', {
    kind: 'profile',
    corp: corpId,
    id: `customer/${externalIndex}`,
  });
  const header = sealedKeyInfo(sealed);
  return { sealed, kekId: header.kekId, kekVersion: header.kekVersion };
}

/** Registers the external contacts of archived messages (sealed, blind-indexed), once each. */
export function customerRegistryHook(db: DataSource, keys: KeyProvider): ArchiveHook {
  // customers known to be registered (committed); bounded, dropped whole when full
  const known = new Set<string>();
  return {
    name: 'customers',
    prepare: async (rows: MessageRow[]): Promise<PreparedCustomer[]> => {
      const wanted = new Map<string, { corpId: string; externalUserId: string; externalIndex: string }>();
      for (const { message: m } of rows) {
        for (const person of [m.from, ...m.tolist]) {
          if (partyOf(person) !== 'customer') continue;
          const externalIndex = await externalUserIndex(keys, person);
          const key = `${m.corpId}\u0000${externalIndex}`;
          if (!known.has(key)) wanted.set(key, { corpId: m.corpId, externalUserId: person, externalIndex });
        }
      }
      if (wanted.size === 0) return [];
      const byCorp = new Map<string, string[]>();
      for (const w of wanted.values())
        byCorp.set(w.corpId, [...(byCorp.get(w.corpId) ?? []), w.externalIndex]);
      for (const [corpId, indexes] of byCorp) {
        // BIGINT UNSIGNED compared as such on every engine (a string constant may be compared as a double)
        const found = await db.query<{ external_index: string }[]>(
          `SELECT external_index FROM customer WHERE corp_id = ? AND external_index IN (${indexes.map(() => 'CAST(? AS UNSIGNED)').join(', ')})`,
          [corpId, ...indexes],
        );
        if (known.size + found.length > KNOWN_LIMIT) known.clear();
        for (const { external_index } of found) {
          const key = `${corpId}\u0000${external_index}`;
          known.add(key);
          wanted.delete(key);
        }
      }
      const prepared: PreparedCustomer[] = [];
      for (const w of wanted.values()) {
        const { sealed, kekId, kekVersion } = await sealCustomerProfile(keys, w.corpId, w.externalIndex, {
          externalUserId: w.externalUserId,
        });
        prepared.push({ corpId: w.corpId, externalIndex: w.externalIndex, sealed, kekId, kekVersion });
      }
      return prepared;
    },
    apply: async (tx: EntityManager, _fresh, prepared) => {
      const customers = [...(prepared as PreparedCustomer[])].sort((a, b) =>
        a.corpId === b.corpId ? a.externalIndex.localeCompare(b.externalIndex) : a.corpId < b.corpId ? -1 : 1,
      );
      if (customers.length === 0) return;
      const now = new Date();
      await tx.query(
        `INSERT IGNORE INTO customer (id, corp_id, external_index, sealed_profile, kek_id, kek_version, first_seen_at, updated_at)
         VALUES ${customers.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        customers.flatMap((c) => [
          randomBytes(16).toString('hex'),
          c.corpId,
          c.externalIndex,
          c.sealed,
          c.kekId,
          c.kekVersion,
          now,
          now,
        ]),
      );
    },
  };
}
