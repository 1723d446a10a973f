import type { DataSource } from 'typeorm';
import type {
  CurrentUser,
  DataScopeInput,
  DataScopeView,
  ProtectedEmployeeView,
  Role,
  ScopeUnitView,
  UserScopeView,
} from '@cz/contracts';
import { AppError, badRequest } from '@cz/common';
import { pathPrefixPattern } from './directory';
import type { Sql, SqlCondition } from './search/plan';

/*
 * Data scopes (REG-05). The rule, applied wherever archived content is read:
 * - a message is visible when at least one employee taking part in its conversation (any sender
 *   or recipient, `conversation_participant`) belongs to an org unit of the user's scope or a unit
 *   below it, and no protected employee takes part in that conversation — unless the user has the
 *   `super_admin` role, which lifts the second condition only;
 * - a call is visible when its agent belongs to such a unit and is not protected (same exception);
 * - a user whose scope is `all` (head office) gets no org condition at all; a user without a scope
 *   sees nothing (fail closed).
 * Conversations are visible or not as a whole, so a conversation view never shows half a thread.
 * Every condition is an EXISTS over primary keys (conversation_participant by (corp, conversation),
 * employee and org_unit by their keys), checked per candidate row.
 */

/** A condition over the caller's columns: `false` nothing is visible, `null` everything is. */
export type ScopeCondition = SqlCondition;

export interface Access {
  username: string;
  mode: 'all' | 'units' | 'none';
  /** the scope's units that exist, with their materialised paths */
  units: { corpId: string; path: string }[];
  superAdmin: boolean;
  /** protected employees per corp whose chats and calls this user may not see (empty for super admins) */
  hidden: Map<string, string[]>;
}

/** protected employees per corp at most; each is a key probe per candidate row */
export const MAX_PROTECTED_PER_CORP = 500;

const isSuperAdmin = (roles: readonly Role[]) => roles.includes('super_admin');

interface ScopeRow {
  all_units: number;
  updated_at: Date;
  updated_by: string;
}

interface ScopeUnitRow {
  corp_id: string;
  org_unit_id: string;
  name: string | null;
  path: string | null;
}

async function readScope(db: DataSource, username: string) {
  const [row] = await db.query<ScopeRow[]>(
    'SELECT all_units, updated_at, updated_by FROM portal_data_scope WHERE username = ?',
    [username],
  );
  const units = await db.query<ScopeUnitRow[]>(
    `SELECT s.corp_id, s.org_unit_id, u.name, u.path FROM portal_data_scope_unit s
     LEFT JOIN org_unit u ON u.corp_id = s.corp_id AND u.id = s.org_unit_id
     WHERE s.username = ? ORDER BY s.corp_id, u.path, s.org_unit_id`,
    [username],
  );
  const mode: Access['mode'] = !row
    ? 'none'
    : Number(row.all_units) === 1
      ? 'all'
      : units.some((u) => u.path !== null)
        ? 'units'
        : 'none';
  return { row, units, mode };
}

/** What `user` may see, read for each request (scopes and the protected list take effect at once). */
export async function loadAccess(db: DataSource, user: CurrentUser): Promise<Access> {
  const { units, mode } = await readScope(db, user.username);
  const superAdmin = isSuperAdmin(user.roles);
  const hidden = new Map<string, string[]>();
  if (!superAdmin && mode !== 'none') {
    const rows = await db.query<
      {
        corp_id: string;
        userid: string;
      }[]
    >('SELECT corp_id, userid FROM protected_employee ORDER BY corp_id, userid');
    for (const r of rows) hidden.set(r.corp_id, [...(hidden.get(r.corp_id) ?? []), r.userid]);
  }
  return {
    username: user.username,
    mode,
    units: units.flatMap((u) => (u.path === null ? [] : [{ corpId: u.corp_id, path: u.path }])),
    superAdmin,
    hidden,
  };
}

/** True when the user sees everything: no condition is added anywhere. */
export const unrestricted = (access: Access) => access.mode === 'all' && access.hidden.size === 0;

function inScopeUnits(access: Access, unitAlias: string): Sql {
  return {
    sql: access.units.map(() => `(${unitAlias}.corp_id = ? AND ${unitAlias}.path LIKE ?)`).join(' OR '),
    params: access.units.flatMap((u) => [u.corpId, pathPrefixPattern(u.path)]),
  };
}

function hiddenPeople(access: Access, corpExpr: string, personExpr: string): Sql {
  const corps = [...access.hidden.entries()];
  return {
    sql: corps
      .map(([, ids]) => `(${corpExpr} = ? AND ${personExpr} IN (${ids.map(() => '?').join(', ')}))`)
      .join(' OR '),
    params: corps.flatMap(([corp, ids]) => [corp, ...ids]),
  };
}

function combine(parts: Sql[]): ScopeCondition {
  if (parts.length === 0) return null;
  return { sql: parts.map((p) => `(${p.sql})`).join(' AND '), params: parts.flatMap((p) => p.params) };
}

/** Messages (and conversations): `corp` and `conversation` are SQL expressions of the caller. */
export function conversationCondition(access: Access, corp: string, conversation: string): ScopeCondition {
  if (access.mode === 'none') return false;
  const parts: Sql[] = [];
  if (access.mode === 'units') {
    const units = inScopeUnits(access, 'su');
    parts.push({
      sql: `EXISTS (SELECT 1 FROM conversation_participant sp
        JOIN employee se ON se.corp_id = sp.corp_id AND se.userid = sp.participant
        JOIN org_unit su ON su.corp_id = se.corp_id AND su.id = se.org_unit_id
        WHERE sp.corp_id = ${corp} AND sp.conversation_id = ${conversation} AND (${units.sql}))`,
      params: units.params,
    });
  }
  if (access.hidden.size > 0) {
    const hidden = hiddenPeople(access, 'xp.corp_id', 'xp.participant');
    parts.push({
      sql: `NOT EXISTS (SELECT 1 FROM conversation_participant xp
        WHERE xp.corp_id = ${corp} AND xp.conversation_id = ${conversation} AND (${hidden.sql}))`,
      params: hidden.params,
    });
  }
  return combine(parts);
}

/** Calls: `corp` and `agent` are SQL expressions of the caller. */
export function callCondition(access: Access, corp: string, agent: string): ScopeCondition {
  if (access.mode === 'none') return false;
  const parts: Sql[] = [];
  if (access.mode === 'units') {
    const units = inScopeUnits(access, 'su');
    parts.push({
      sql: `EXISTS (SELECT 1 FROM employee se JOIN org_unit su ON su.corp_id = se.corp_id AND su.id = se.org_unit_id
        WHERE se.corp_id = ${corp} AND se.userid = ${agent} AND (${units.sql}))`,
      params: units.params,
    });
  }
  if (access.hidden.size > 0) {
    const hidden = hiddenPeople(access, corp, agent);
    parts.push({ sql: `NOT (${hidden.sql})`, params: hidden.params });
  }
  return combine(parts);
}

async function holds(db: DataSource, condition: ScopeCondition, from: Sql): Promise<boolean> {
  if (condition === false) return false;
  if (condition === null) return true;
  const rows = await db.query<unknown[]>(`SELECT 1 AS ok FROM (${from.sql}) x WHERE ${condition.sql}`, [
    ...from.params,
    ...condition.params,
  ]);
  return rows.length > 0;
}

/** May the user see this conversation (and so every message of it)? */
export function canSeeConversation(
  db: DataSource,
  access: Access,
  corpId: string,
  conversationId: string,
): Promise<boolean> {
  return holds(db, conversationCondition(access, 'x.corp_id', 'x.conversation_id'), {
    sql: 'SELECT ? AS corp_id, ? AS conversation_id',
    params: [corpId, conversationId],
  });
}

/** May the user see this call (its recording, its transcript)? */
export function canSeeCall(
  db: DataSource,
  access: Access,
  corpId: string,
  agentId: string,
): Promise<boolean> {
  return holds(db, callCondition(access, 'x.corp_id', 'x.agent_id'), {
    sql: 'SELECT ? AS corp_id, ? AS agent_id',
    params: [corpId, agentId],
  });
}

/** The org units of a corp the user may list: null for every unit, else the subtree paths. */
export function visibleUnitPaths(access: Access, corpId: string): string[] | null {
  if (access.mode === 'all') return null;
  return access.units.filter((u) => u.corpId === corpId).map((u) => u.path);
}

// -------------------------------------------------------------------------------------------------
// administration

const unknownUser = (username: string) => new AppError(404, 'unknown_user', `no portal user ${username}`);

function scopeView(roles: readonly Role[], scope: Awaited<ReturnType<typeof readScope>>): DataScopeView {
  const units: ScopeUnitView[] = scope.units.map((u) => ({
    corpId: u.corp_id,
    orgUnitId: u.org_unit_id,
    name: u.name,
  }));
  return {
    mode: scope.mode,
    units: scope.mode === 'all' ? [] : units,
    superAdmin: isSuperAdmin(roles),
    updatedAt: scope.row ? new Date(scope.row.updated_at).toISOString() : null,
    updatedBy: scope.row?.updated_by ?? null,
  };
}

interface UserRow {
  username: string;
  display_name: string;
  roles: string;
  disabled: number;
}

const rolesOf = (row: UserRow) => row.roles.split(',').filter(Boolean) as Role[];

export async function dataScopeOf(db: DataSource, user: CurrentUser): Promise<DataScopeView> {
  return scopeView(user.roles, await readScope(db, user.username));
}

async function userScopeView(db: DataSource, row: UserRow): Promise<UserScopeView> {
  const roles = rolesOf(row);
  return {
    username: row.username,
    displayName: row.display_name,
    roles,
    disabled: Number(row.disabled) === 1,
    scope: scopeView(roles, await readScope(db, row.username)),
  };
}

export async function listUserScopes(db: DataSource): Promise<UserScopeView[]> {
  const rows = await db.query<UserRow[]>(
    'SELECT username, display_name, roles, disabled FROM portal_user ORDER BY username',
  );
  const items: UserScopeView[] = [];
  for (const row of rows) items.push(await userScopeView(db, row));
  return items;
}

/**
 * Replaces a user's scope. Every unit must exist in the org tree; `all` excludes units. Returns
 * the scope before and after, for the audit trail.
 */
export async function setUserScope(
  db: DataSource,
  username: string,
  input: DataScopeInput,
  actor: string,
): Promise<{ before: UserScopeView; after: UserScopeView }> {
  const units = [...new Map(input.units.map((u) => [`${u.corpId}\u0000${u.orgUnitId}`, u])).values()];
  if (input.all && units.length > 0)
    throw badRequest('conflicting_scope', 'a scope is either all (head office) or a list of org units');
  const [user] = await db.query<UserRow[]>(
    'SELECT username, display_name, roles, disabled FROM portal_user WHERE username = ?',
    [username],
  );
  if (!user) throw unknownUser(username);
  if (units.length > 0) {
    const found = await db.query<{ corp_id: string; id: string }[]>(
      `SELECT corp_id, id FROM org_unit WHERE ${units.map(() => '(corp_id = ? AND id = ?)').join(' OR ')}`,
      units.flatMap((u) => [u.corpId, u.orgUnitId]),
    );
    const known = new Set(found.map((f) => `${f.corp_id}\u0000${f.id}`));
    const missing = units.filter((u) => !known.has(`${u.corpId}\u0000${u.orgUnitId}`));
    if (missing.length > 0)
      throw badRequest(
        'unknown_org_unit',
        `unknown org units: ${missing
          .slice(0, 10)
          .map((u) => `${u.corpId}/${u.orgUnitId}`)
          .join(', ')}`,
      );
  }
  const before = await userScopeView(db, user);
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO portal_data_scope (username, all_units, updated_at, updated_by) VALUES (?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE all_units = VALUES(all_units), updated_at = VALUES(updated_at), updated_by = VALUES(updated_by)`,
      [username, input.all ? 1 : 0, new Date(), actor],
    );
    await tx.query('DELETE FROM portal_data_scope_unit WHERE username = ?', [username]);
    if (units.length > 0)
      await tx.query(
        `INSERT INTO portal_data_scope_unit (username, corp_id, org_unit_id) VALUES ${units.map(() => '(?, ?, ?)').join(', ')}`,
        units.flatMap((u) => [username, u.corpId, u.orgUnitId]),
      );
  });
  return { before, after: await userScopeView(db, user) };
}

interface ProtectedRow {
  corp_id: string;
  userid: string;
  org_unit_id: string | null;
  added_by: string;
  added_at: Date;
}

const protectedView = (r: ProtectedRow): ProtectedEmployeeView => ({
  corpId: r.corp_id,
  userid: r.userid,
  orgUnitId: r.org_unit_id,
  addedBy: r.added_by,
  addedAt: new Date(r.added_at).toISOString(),
});

const PROTECTED_SELECT = `SELECT p.corp_id, p.userid, e.org_unit_id, p.added_by, p.added_at FROM protected_employee p
  LEFT JOIN employee e ON e.corp_id = p.corp_id AND e.userid = p.userid`;

export async function listProtected(db: DataSource, corpId?: string): Promise<ProtectedEmployeeView[]> {
  const rows = await db.query<ProtectedRow[]>(
    `${PROTECTED_SELECT} ${corpId ? 'WHERE p.corp_id = ?' : ''} ORDER BY p.corp_id, p.userid`,
    corpId ? [corpId] : [],
  );
  return rows.map(protectedView);
}

/** Adds an employee of the directory to the protected list; `created` false when already there. */
export async function addProtected(
  db: DataSource,
  corpId: string,
  userid: string,
  actor: string,
): Promise<{ view: ProtectedEmployeeView; created: boolean }> {
  const [employee] = await db.query<unknown[]>(
    'SELECT userid FROM employee WHERE corp_id = ? AND userid = ?',
    [corpId, userid],
  );
  if (!employee)
    throw new AppError(
      404,
      'unknown_employee',
      `no employee ${userid} in the directory of ${corpId}; load the directory first`,
    );
  const created = await db.transaction(async (tx) => {
    const [{ n }] = await tx.query<[{ n: number | string }]>(
      'SELECT COUNT(*) AS n FROM protected_employee WHERE corp_id = ? FOR UPDATE',
      [corpId],
    );
    const result = await tx.query<{ affectedRows?: number }>(
      'INSERT IGNORE INTO protected_employee (corp_id, userid, added_by, added_at) VALUES (?, ?, ?, ?)',
      [corpId, userid, actor, new Date()],
    );
    const inserted = (result.affectedRows ?? 0) > 0;
    if (inserted && Number(n) >= MAX_PROTECTED_PER_CORP)
      throw badRequest(
        'too_many_protected',
        `at most ${MAX_PROTECTED_PER_CORP} protected employees per corp`,
      );
    return inserted;
  });
  const [row] = await db.query<ProtectedRow[]>(`${PROTECTED_SELECT} WHERE p.corp_id = ? AND p.userid = ?`, [
    corpId,
    userid,
  ]);
  return { view: protectedView(row!), created };
}

/** Removes an employee from the protected list; false when they were not on it. */
export async function removeProtected(db: DataSource, corpId: string, userid: string): Promise<boolean> {
  const result = await db.query<{ affectedRows?: number }>(
    'DELETE FROM protected_employee WHERE corp_id = ? AND userid = ?',
    [corpId, userid],
  );
  return (result.affectedRows ?? 0) > 0;
}
