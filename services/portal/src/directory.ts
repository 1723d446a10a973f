import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { DirectoryLoad, DirectoryLoadReply } from '@cz/contracts';
import {
  IndexPurposes,
  badRequest,
  externalUserIndex,
  indexKeyFor,
  phoneIndex,
  phoneIndexToken,
} from '@cz/common';
import {
  blindIndex,
  CryptoError,
  openSealed,
  sealBuffer,
  sealedKeyInfo,
  type KeyProvider,
  type SealBinding,
} from '@cz/common/crypto';

/*
 * The directory the search filters need: the org tree (materialised path, so "this branch and
 * every unit below" is one index range), employees → org unit, and customers. Names, phones and
 * external userids are personal data: sealed (class pii) with blind indexes for exact look-up.
 */

export const MAX_ORG_DEPTH = 15;
/** an org unit filter expands to at most this many employees */
export const MAX_ORG_MEMBERS = 20_000;

/** LIKE pattern for "this path and everything below it" (materialised paths, ix_org_path). */
export const pathPrefixPattern = (path: string) => `${path.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Names are looked up exactly after NFKC, trimming, collapsing spaces and lower-casing. */
export const personNameToken = (name: string) =>
  name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();

async function nameIndex(keys: KeyProvider, name: string | undefined): Promise<string | null> {
  if (!name) return null;
  return blindIndex(await indexKeyFor(keys, IndexPurposes.personName), personNameToken(name));
}

/** Profiles are bound to their person: `employee/<userid>` or `customer/<external index>` in the corp. */
export const employeeProfileBinding = (corpId: string, userid: string): SealBinding => ({
  kind: 'profile',
  corp: corpId,
  id: `employee/${userid}`,
});
export const customerProfileBinding = (corpId: string, externalIndex: string): SealBinding => ({
  kind: 'profile',
  corp: corpId,
  id: `customer/${externalIndex}`,
});

async function sealProfile(keys: KeyProvider, binding: SealBinding, profile: object) {
  const sealed = await sealBuffer(Buffer.from(JSON.stringify(profile)), keys, 'pii', binding);
  const header = sealedKeyInfo(sealed);
  return { sealed, kekId: header.kekId, kekVersion: header.kekVersion };
}

interface UnitRow {
  id: string;
  parent_id: string | null;
  name: string;
  path: string;
  depth: number;
}

/** Upserts org units, employees and customers of one corp in one transaction. */
export async function loadDirectory(
  db: DataSource,
  keys: KeyProvider,
  corpId: string,
  load: DirectoryLoad,
): Promise<DirectoryLoadReply> {
  // seal before the transaction: the key source may be remote
  interface PreparedEmployee {
    userid: string;
    orgUnitId: string;
    nameIndex: string | null;
    sealed: Buffer;
    kekId: string;
    kekVersion: number;
  }
  interface PreparedCustomer {
    externalIndex: string;
    phoneIndex: string | null;
    nameIndex: string | null;
    sealed: Buffer;
    kekId: string;
    kekVersion: number;
  }
  const employees: PreparedEmployee[] = [];
  for (const e of load.employees ?? []) {
    employees.push({
      ...e,
      nameIndex: await nameIndex(keys, e.name),
      ...(await sealProfile(keys, employeeProfileBinding(corpId, e.userid), {
        userid: e.userid,
        name: e.name ?? null,
      })),
    });
  }
  const customers: PreparedCustomer[] = [];
  for (const c of load.customers ?? []) {
    const externalIndex = await externalUserIndex(keys, c.externalUserId);
    customers.push({
      externalIndex,
      phoneIndex: c.phone ? await phoneIndex(keys, c.phone) : null,
      nameIndex: await nameIndex(keys, c.name),
      ...(await sealProfile(keys, customerProfileBinding(corpId, externalIndex), {
        externalUserId: c.externalUserId,
        ...(c.name ? { name: c.name } : {}),
        ...(c.phone ? { phone: phoneIndexToken(c.phone) } : {}),
      })),
    });
  }
  const now = new Date();
  return db.transaction(async (tx) => {
    const orgUnits = await upsertOrgUnits(tx, corpId, load.orgUnits ?? [], now);
    if (employees.length > 0) {
      const unitIds = [...new Set(employees.map((e) => e.orgUnitId))];
      const known = new Set(
        (
          await tx.query<
            {
              id: string;
            }[]
          >('SELECT id FROM org_unit WHERE corp_id = ? AND id IN (?)', [corpId, unitIds])
        ).map((r) => r.id),
      );
      const missing = unitIds.filter((id) => !known.has(id));
      if (missing.length > 0)
        throw badRequest(
          'unknown_org_unit',
          `employees refer to unknown org units: ${missing.slice(0, 10).join(', ')}`,
        );
      for (let start = 0; start < employees.length; start += 1000) {
        const chunk = employees.slice(start, start + 1000);
        await tx.query(
          `INSERT INTO employee (corp_id, userid, org_unit_id, name_index, sealed_profile, kek_id, kek_version, updated_at)
           VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
           ON DUPLICATE KEY UPDATE org_unit_id = VALUES(org_unit_id), name_index = VALUES(name_index),
             sealed_profile = VALUES(sealed_profile), kek_id = VALUES(kek_id), kek_version = VALUES(kek_version),
             updated_at = VALUES(updated_at)`,
          chunk.flatMap((e) => [
            corpId,
            e.userid,
            e.orgUnitId,
            e.nameIndex,
            e.sealed,
            e.kekId,
            e.kekVersion,
            now,
          ]),
        );
      }
    }
    for (let start = 0; start < customers.length; start += 1000) {
      const chunk = customers.slice(start, start + 1000);
      await tx.query(
        `INSERT INTO customer (id, corp_id, external_index, phone_index, name_index, sealed_profile, kek_id, kek_version, first_seen_at, updated_at)
         VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         ON DUPLICATE KEY UPDATE phone_index = VALUES(phone_index), name_index = VALUES(name_index),
           sealed_profile = VALUES(sealed_profile), kek_id = VALUES(kek_id), kek_version = VALUES(kek_version),
           updated_at = VALUES(updated_at)`,
        chunk.flatMap((c) => [
          randomBytes(16).toString('hex'),
          corpId,
          c.externalIndex,
          c.phoneIndex,
          c.nameIndex,
          c.sealed,
          c.kekId,
          c.kekVersion,
          now,
          now,
        ]),
      );
    }
    return { orgUnits, employees: employees.length, customers: customers.length };
  });
}

/** Merges the load into the stored tree and rewrites every path that changed (moves included). */
async function upsertOrgUnits(
  tx: EntityManager,
  corpId: string,
  units: NonNullable<DirectoryLoad['orgUnits']>,
  now: Date,
): Promise<number> {
  if (units.length === 0) return 0;
  const stored = await tx.query<UnitRow[]>(
    'SELECT id, parent_id, name, path, depth FROM org_unit WHERE corp_id = ? FOR UPDATE',
    [corpId],
  );
  const tree = new Map(stored.map((u) => [u.id, { ...u }]));
  const seen = new Set<string>();
  for (const u of units) {
    if (seen.has(u.id)) throw badRequest('duplicate_org_unit', `org unit ${u.id} appears twice in the load`);
    seen.add(u.id);
    const current = tree.get(u.id);
    tree.set(u.id, {
      id: u.id,
      parent_id: u.parentId,
      name: u.name,
      path: current?.path ?? '',
      depth: current?.depth ?? 0,
    });
  }
  const resolved = new Map<string, { path: string; depth: number }>();
  const resolve = (id: string, trail: string[]): { path: string; depth: number } => {
    const done = resolved.get(id);
    if (done) return done;
    if (trail.includes(id))
      throw badRequest('org_cycle', `org units form a cycle: ${[...trail, id].join(' → ')}`);
    const unit = tree.get(id);
    if (!unit)
      throw badRequest('unknown_org_unit', `org unit ${trail[trail.length - 1]} has an unknown parent ${id}`);
    const parent =
      unit.parent_id === null ? { path: '/', depth: -1 } : resolve(unit.parent_id, [...trail, id]);
    const result = { path: `${parent.path}${id}/`, depth: parent.depth + 1 };
    if (result.depth >= MAX_ORG_DEPTH)
      throw badRequest('org_too_deep', `org unit ${id} is deeper than ${MAX_ORG_DEPTH} levels`);
    resolved.set(id, result);
    return result;
  };
  const changed: UnitRow[] = [];
  for (const unit of tree.values()) {
    const { path, depth } = resolve(unit.id, []);
    const before = stored.find((s) => s.id === unit.id);
    if (!before || before.path !== path || before.name !== unit.name || before.parent_id !== unit.parent_id)
      changed.push({ ...unit, path, depth });
  }
  for (let start = 0; start < changed.length; start += 1000) {
    const chunk = changed.slice(start, start + 1000);
    await tx.query(
      `INSERT INTO org_unit (corp_id, id, parent_id, name, path, depth, updated_at)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}
       ON DUPLICATE KEY UPDATE parent_id = VALUES(parent_id), name = VALUES(name), path = VALUES(path),
         depth = VALUES(depth), updated_at = VALUES(updated_at)`,
      chunk.flatMap((u) => [corpId, u.id, u.parent_id, u.name, u.path, u.depth, now]),
    );
  }
  return units.length;
}

/**
 * The org tree of a corp with each unit's own employee count; with `within` (materialised paths),
 * only those units and the units below them (a data scope, REG-05).
 */
export async function orgTree(db: DataSource, corpId: string, within: readonly string[] | null = null) {
  if (within?.length === 0) return [];
  const subtree = within ? ` AND (${within.map(() => 'u.path LIKE ?').join(' OR ')})` : '';
  const rows = await db.query<
    { id: string; parent_id: string | null; name: string; depth: number; employees: number | string }[]
  >(
    `SELECT u.id, u.parent_id, u.name, u.depth, (SELECT COUNT(*) FROM employee e WHERE e.corp_id = u.corp_id AND e.org_unit_id = u.id) AS employees
     FROM org_unit u WHERE u.corp_id = ?${subtree} ORDER BY u.path`,
    [corpId, ...(within ?? []).map(pathPrefixPattern)],
  );
  return rows.map((r) => ({
    id: r.id,
    parentId: r.parent_id,
    name: r.name,
    depth: Number(r.depth),
    employees: Number(r.employees),
  }));
}

/**
 * Every employee of the org unit and of every unit below it (path prefix on ix_org_path), in any
 * corp that has a unit with this id. Undefined when the unit does not exist.
 */
export async function orgSubtreeUserIds(db: DataSource, orgUnitId: string): Promise<string[] | undefined> {
  const units = await db.query<
    {
      corp_id: string;
      path: string;
    }[]
  >('SELECT corp_id, path FROM org_unit WHERE id = ?', [orgUnitId]);
  if (units.length === 0) return undefined;
  const userids = new Set<string>();
  for (const unit of units) {
    const rows = await db.query<{ userid: string }[]>(
      `SELECT e.userid FROM org_unit u JOIN employee e ON e.corp_id = u.corp_id AND e.org_unit_id = u.id
       WHERE u.corp_id = ? AND u.path LIKE ? LIMIT ${MAX_ORG_MEMBERS + 1}`,
      [unit.corp_id, pathPrefixPattern(unit.path)],
    );
    for (const r of rows) userids.add(r.userid);
  }
  if (userids.size > MAX_ORG_MEMBERS)
    throw badRequest(
      'org_too_large',
      `the org unit has more than ${MAX_ORG_MEMBERS} employees; choose a unit below it`,
    );
  return [...userids];
}

export interface ResolvedCustomer {
  lookup: 'ref' | 'external' | 'phone' | 'name';
  /** customer references (customer.id) found */
  refs: string[];
  /** WeCom external userids: message participants */
  externalIds: string[];
  /** phone blind indexes: call customers */
  phoneIndexes: string[];
}

export const isPhoneLike = (value: string) => /^\+?[0-9][0-9 ()-]{5,30}$/.test(value.trim());

/** Resolves the search API's `customer` value (see SearchQuery) exactly, through blind indexes. */
export async function resolveCustomer(
  db: DataSource,
  keys: KeyProvider,
  value: string,
): Promise<ResolvedCustomer> {
  const trimmed = value.trim();
  let lookup: ResolvedCustomer['lookup'];
  let where: string;
  let param: string;
  const extra = { externalIds: [] as string[], phoneIndexes: [] as string[] };
  if (/^[0-9a-f]{32}$/.test(trimmed)) {
    lookup = 'ref';
    where = 'id = ?';
    param = trimmed;
  } else if (/^w[mo][A-Za-z0-9_-]+$/.test(trimmed)) {
    lookup = 'external';
    where = 'external_index = CAST(? AS UNSIGNED)';
    param = await externalUserIndex(keys, trimmed);
    extra.externalIds.push(trimmed);
  } else if (isPhoneLike(trimmed)) {
    lookup = 'phone';
    where = 'phone_index = CAST(? AS UNSIGNED)';
    param = await phoneIndex(keys, trimmed);
    extra.phoneIndexes.push(param);
  } else {
    lookup = 'name';
    where = 'name_index = CAST(? AS UNSIGNED)';
    param = (await nameIndex(keys, trimmed))!;
  }
  const found = await db.query<
    {
      id: string;
      corp_id: string;
      external_index: string;
      phone_index: string | null;
      sealed_profile: Buffer;
    }[]
  >(
    `SELECT id, corp_id, CAST(external_index AS CHAR) AS external_index, phone_index, sealed_profile FROM customer WHERE ${where} LIMIT 100`,
    [param],
  );
  const externalIds = new Set(extra.externalIds);
  const phoneIndexes = new Set(extra.phoneIndexes);
  const rows: typeof found = [];
  for (const row of found) {
    const binding = customerProfileBinding(row.corp_id, row.external_index);
    let profile: { externalUserId: string };
    try {
      profile = JSON.parse(
        (await openSealed(row.sealed_profile, keys, binding)).plaintext.toString('utf8'),
      ) as {
        externalUserId: string;
      };
    } catch (err) {
      if (!(err instanceof CryptoError)) throw err;
      continue; // moved or altered: this row does not describe the customer it is filed under
    }
    // a v1 profile has no binding: its own external userid must index to the row's
    if ((await externalUserIndex(keys, profile.externalUserId)) !== row.external_index) continue;
    rows.push(row);
    externalIds.add(profile.externalUserId);
    if (row.phone_index) phoneIndexes.add(row.phone_index);
  }
  return {
    lookup,
    refs: rows.map((r) => r.id),
    externalIds: [...externalIds],
    phoneIndexes: [...phoneIndexes],
  };
}

/** Customer references of external userids (for display next to masked ids). */
export async function customerRefs(
  db: DataSource,
  keys: KeyProvider,
  corpId: string,
  externalIds: readonly string[],
): Promise<Map<string, string>> {
  const refs = new Map<string, string>();
  if (externalIds.length === 0) return refs;
  const byIndex = new Map<string, string>();
  for (const id of externalIds) byIndex.set(await externalUserIndex(keys, id), id);
  const indexes = [...byIndex.keys()];
  const rows = await db.query<{ id: string; external_index: string }[]>(
    `SELECT id, external_index FROM customer WHERE corp_id = ? AND external_index IN (${indexes.map(() => 'CAST(? AS UNSIGNED)').join(', ')})`,
    [corpId, ...indexes],
  );
  for (const row of rows) {
    const external = byIndex.get(row.external_index);
    if (external) refs.set(external, row.id);
  }
  return refs;
}

/** wmAbCdEf123 → wm****23: enough to tell customers apart on screen, not to contact them. */
export const maskExternalId = (id: string) =>
  id.length <= 6 ? `${id.slice(0, 2)}****` : `${id.slice(0, 2)}****${id.slice(-2)}`;
