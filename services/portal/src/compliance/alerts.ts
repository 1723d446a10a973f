import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  LEXICON_CATEGORIES,
  slaStateOf,
  type AlertEventView,
  type AlertHit,
  type AlertRecordKind,
  type AlertSeverity,
  type ComplianceAlertQuery,
  type ComplianceAlertStatus,
  type ComplianceAlertView,
  type LexiconCategory,
} from '@cz/contracts';
import { badRequest } from '@cz/common';
import { openBuffer, type KeyProvider, type SealBinding } from '@cz/common/crypto';
import type { KeysetPosition } from '../cursor';
import { pathPrefixPattern } from '../directory';
import { isIntegrityError, reportIntegrityFailure, type IntegrityContext } from '../integrity';
import type { Access } from '../scope';
import { alertScopeCondition, pushCondition } from './scope';

/*
 * The compliance alert inbox over `compliance_alert` (written by the compliance service): filters,
 * counts and keyset pages within the caller's data scope, and each alert's view with its sealed
 * detail (the lexicon's words, offsets, explanation; never the record's text) opened against its
 * row.
 */

export const ACTIVE_STATUSES: readonly ComplianceAlertStatus[] = ['open', 'acknowledged', 'escalated'];
const STATUSES: readonly ComplianceAlertStatus[] = [...ACTIVE_STATUSES, 'resolved', 'false_positive'];

/** The sealed detail is bound to its alert: moved to another row, it does not open. */
export const alertDetailBinding = (row: { id: string; corp_id: string }): SealBinding => ({
  kind: 'compliance_alert',
  corp: row.corp_id,
  id: row.id,
});

/** A person's note on an alert is bound to the alert. */
export const alertNoteBinding = (alert: { id: string; corp_id: string }): SealBinding => ({
  kind: 'compliance_alert_event',
  corp: alert.corp_id,
  id: alert.id,
});

export interface AlertRow {
  id: string;
  corp_id: string;
  kind: string;
  category: string | null;
  severity: AlertSeverity;
  rule_id: string | null;
  lexicon_version: number | string | null;
  retroactive: number | string;
  record_kind: AlertRecordKind;
  msgid: string | null;
  call_id: string | null;
  archive_id: string | null;
  doc_time: Date | null;
  conversation_id: string | null;
  employee: string | null;
  org_unit_id: string | null;
  org_unit_name: string | null;
  assigned_org_unit_id: string | null;
  escalation_level: number | string;
  status: ComplianceAlertStatus;
  raised_at: Date;
  due_at: Date | null;
  updated_at: Date;
  last_actor: string | null;
  row_version: number | string;
  sealed_detail: Buffer;
}

export const ALERT_COLUMNS = `a.id, a.corp_id, a.kind, a.category, a.severity, a.rule_id, a.lexicon_version,
  a.retroactive, a.record_kind, a.msgid, a.call_id, LOWER(HEX(a.doc_id)) AS archive_id, a.doc_time,
  a.conversation_id, a.employee, a.org_unit_id, ou.name AS org_unit_name, a.assigned_org_unit_id,
  a.escalation_level, a.status, a.raised_at, a.due_at, a.updated_at, a.last_actor, a.row_version,
  a.sealed_detail`;

export const ALERT_FROM = `compliance_alert a
  LEFT JOIN org_unit ou ON ou.corp_id = a.corp_id AND ou.id = a.org_unit_id`;

interface SealedDetail {
  hits?: unknown;
  explanation?: unknown;
  reg?: unknown;
}

const iso = (value: Date | null) => (value === null ? null : new Date(value).toISOString());

const isCategory = (value: string | null): value is LexiconCategory =>
  value !== null && (LEXICON_CATEGORIES as readonly string[]).includes(value);

/** Opens an alert's detail; an integrity failure shows no content and is reported (audit, log, alert). */
async function openDetail(
  keys: KeyProvider,
  integrity: IntegrityContext,
  row: AlertRow,
): Promise<{ hits: AlertHit[]; explanation: string; reg: string[] }> {
  const binding = alertDetailBinding(row);
  try {
    const detail = JSON.parse(
      (await openBuffer(row.sealed_detail, keys, binding)).toString('utf8'),
    ) as SealedDetail;
    return {
      hits: Array.isArray(detail.hits) ? (detail.hits as AlertHit[]) : [],
      explanation: typeof detail.explanation === 'string' ? detail.explanation : '',
      reg: Array.isArray(detail.reg) ? detail.reg.filter((r): r is string => typeof r === 'string') : [],
    };
  } catch (err) {
    if (!isIntegrityError(err)) throw err;
    await reportIntegrityFailure(integrity, binding, err);
    return { hits: [], explanation: '', reg: [] };
  }
}

export async function alertView(
  keys: KeyProvider,
  integrity: IntegrityContext,
  row: AlertRow,
  now = Date.now(),
): Promise<ComplianceAlertView> {
  const raisedAt = new Date(row.raised_at);
  const dueAt = row.due_at === null ? null : new Date(row.due_at);
  return {
    id: row.id,
    corpId: row.corp_id,
    kind: row.kind,
    category: isCategory(row.category) ? row.category : null,
    severity: row.severity,
    status: row.status,
    ruleId: row.rule_id,
    lexiconVersion: row.lexicon_version === null ? null : Number(row.lexicon_version),
    retroactive: Number(row.retroactive) === 1,
    recordKind: row.record_kind,
    msgid: row.msgid,
    callId: row.call_id,
    archiveId: row.archive_id,
    conversationId: row.conversation_id,
    employee: row.employee,
    orgUnitId: row.org_unit_id,
    orgUnitName: row.org_unit_name,
    assignedOrgUnitId: row.assigned_org_unit_id,
    escalationLevel: Number(row.escalation_level),
    recordTime: iso(row.doc_time),
    raisedAt: raisedAt.toISOString(),
    dueAt: iso(dueAt),
    slaState: slaStateOf(row.status, dueAt, raisedAt, now),
    ...(await openDetail(keys, integrity, row)),
    updatedAt: new Date(row.updated_at).toISOString(),
    lastActor: row.last_actor,
  };
}

/** One alert within the caller's scope (undefined outside it or when there is none). */
export async function findAlert(db: DataSource, access: Access, id: string): Promise<AlertRow | undefined> {
  const conditions = ['a.id = ?'];
  const params: unknown[] = [id];
  pushCondition(conditions, params, alertScopeCondition(access));
  const [row] = await db.query<AlertRow[]>(
    `SELECT ${ALERT_COLUMNS} FROM ${ALERT_FROM} WHERE ${conditions.join(' AND ')}`,
    params,
  );
  return row;
}

/** Whether an alert exists at all (to put a denied attempt on record; never told to the caller). */
export async function alertExists(db: DataSource, id: string): Promise<boolean> {
  return (await db.query<unknown[]>('SELECT 1 AS ok FROM compliance_alert WHERE id = ?', [id])).length > 0;
}

// ---------------------------------------------------------------------------------------------
// The list

/** `status=open,acknowledged` or `active` → the statuses; unknown names are a 400. */
export function parseStatuses(value: string | undefined): ComplianceAlertStatus[] | null {
  if (value === undefined) return null;
  const wanted = new Set<ComplianceAlertStatus>();
  for (const name of value.split(',').filter(Boolean)) {
    if (name === 'active') ACTIVE_STATUSES.forEach((s) => wanted.add(s));
    else if ((STATUSES as readonly string[]).includes(name)) wanted.add(name as ComplianceAlertStatus);
    else
      throw badRequest(
        'bad_status',
        `unknown status ${JSON.stringify(name)}: use ${[...STATUSES, 'active'].join(', ')}`,
      );
  }
  if (wanted.size === 0) throw badRequest('bad_status', 'status lists no status');
  return STATUSES.filter((s) => wanted.has(s));
}

const sqlList = (values: readonly unknown[]) => values.map(() => '?').join(', ');
const ACTIVE_SQL = `a.status IN ('open', 'acknowledged', 'escalated')`;

export interface AlertListPlan {
  /** WHERE of the page (everything) */
  page: { conditions: string[]; params: unknown[] };
  /** WHERE of the counts: scope and every filter but status and SLA state */
  counts: { conditions: string[]; params: unknown[] };
  fingerprint: string;
  limit: number;
}

/** Builds the WHERE clauses of a list request; `now` is the SLA clock of the whole request. */
export async function planAlertList(
  db: DataSource,
  access: Access,
  query: ComplianceAlertQuery,
  now: Date,
): Promise<AlertListPlan> {
  const from = query.from ? new Date(query.from) : undefined;
  const to = query.to ? new Date(query.to) : undefined;
  if (from && to && from >= to) throw badRequest('bad_range', '`from` must be earlier than `to`');
  const statuses = parseStatuses(query.status);

  const conditions: string[] = [];
  const params: unknown[] = [];
  // REG-05: the scope applies before anything is counted
  pushCondition(conditions, params, alertScopeCondition(access));
  const equal = (column: string, value: unknown) => {
    if (value === undefined) return;
    conditions.push(`${column} = ?`);
    params.push(value);
  };
  equal('a.corp_id', query.corpId);
  equal('a.msgid', query.msgid);
  equal('a.call_id', query.callId);
  equal('a.severity', query.severity);
  equal('a.category', query.category);
  if (query.retroactive !== undefined) equal('a.retroactive', query.retroactive ? 1 : 0);
  if (from) {
    conditions.push('a.raised_at >= ?');
    params.push(from);
  }
  if (to) {
    conditions.push('a.raised_at < ?');
    params.push(to);
  }
  if (query.orgUnitId !== undefined) {
    // that unit and every unit below it (materialised paths), in the corp asked for or any corp
    const units = await db.query<{ corp_id: string; path: string }[]>(
      `SELECT corp_id, path FROM org_unit WHERE id = ?${query.corpId ? ' AND corp_id = ?' : ''}`,
      query.corpId ? [query.orgUnitId, query.corpId] : [query.orgUnitId],
    );
    if (units.length === 0) throw badRequest('unknown_org_unit', `no org unit ${query.orgUnitId}`);
    conditions.push(`EXISTS (SELECT 1 FROM org_unit fu WHERE fu.corp_id = a.corp_id AND fu.id = a.org_unit_id
      AND (${units.map(() => '(fu.corp_id = ? AND fu.path LIKE ?)').join(' OR ')}))`);
    params.push(...units.flatMap((u) => [u.corp_id, pathPrefixPattern(u.path)]));
  }
  const counts = { conditions: [...conditions], params: [...params] };

  if (statuses) {
    conditions.push(`a.status IN (${sqlList(statuses)})`);
    params.push(...statuses);
  }
  switch (query.sla) {
    case 'overdue':
      conditions.push(`${ACTIVE_SQL} AND a.due_at <= ?`);
      params.push(now);
      break;
    case 'due_soon':
    case 'ok':
      // due_soon: less than a quarter of the time between raising and due is left (slaStateOf)
      conditions.push(
        `${ACTIVE_SQL} AND a.due_at > ? AND TIMESTAMPDIFF(MICROSECOND, ?, a.due_at) * 4
          ${query.sla === 'due_soon' ? '<' : '>='} GREATEST(0, TIMESTAMPDIFF(MICROSECOND, a.raised_at, a.due_at))`,
      );
      params.push(now, now);
      break;
    case 'none':
      conditions.push(`(NOT ${ACTIVE_SQL} OR a.due_at IS NULL)`);
      break;
    default:
  }
  const fingerprint = createHash('sm3')
    .update(
      JSON.stringify([
        query.corpId,
        query.msgid,
        query.callId,
        statuses,
        query.severity,
        query.category,
        query.orgUnitId,
        query.from,
        query.to,
        query.sla,
        query.retroactive,
      ]),
    )
    .digest('hex')
    .slice(0, 24);
  return { page: { conditions, params }, counts, fingerprint, limit: query.limit ?? 50 };
}

const whereOf = (conditions: readonly string[]) =>
  conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';

/** One page, newest raised first, keyset on (raised_at, id): one row more than the page tells if there is a next one. */
export async function alertPage(
  db: DataSource,
  plan: AlertListPlan,
  after: KeysetPosition | undefined,
): Promise<AlertRow[]> {
  const conditions = [...plan.page.conditions];
  const params = [...plan.page.params];
  if (after) {
    conditions.push('(a.raised_at < ? OR (a.raised_at = ? AND a.id < ?))');
    params.push(new Date(after.t), new Date(after.t), after.id);
  }
  return db.query<AlertRow[]>(
    `SELECT ${ALERT_COLUMNS} FROM ${ALERT_FROM} ${whereOf(conditions)}
     ORDER BY a.raised_at DESC, a.id DESC LIMIT ?`,
    [...params, plan.limit + 1],
  );
}

export async function alertCounts(
  db: DataSource,
  plan: AlertListPlan,
  now: Date,
): Promise<{ open: number; acknowledged: number; escalated: number; overdue: number }> {
  const [row] = await db.query<
    { open: string | null; acknowledged: string | null; escalated: string | null; overdue: string | null }[]
  >(
    `SELECT SUM(a.status = 'open') AS open, SUM(a.status = 'acknowledged') AS acknowledged,
       SUM(a.status = 'escalated') AS escalated, SUM(${ACTIVE_SQL} AND a.due_at <= ?) AS overdue
     FROM compliance_alert a ${whereOf(plan.counts.conditions)}`,
    [now, ...plan.counts.params],
  );
  return {
    open: Number(row?.open ?? 0),
    acknowledged: Number(row?.acknowledged ?? 0),
    escalated: Number(row?.escalated ?? 0),
    overdue: Number(row?.overdue ?? 0),
  };
}

// ---------------------------------------------------------------------------------------------
// History

interface EventRow {
  at: Date;
  actor: string;
  action: AlertEventView['action'];
  from_status: ComplianceAlertStatus | null;
  to_status: ComplianceAlertStatus | null;
  sealed_note: Buffer | null;
}

/** Who did what to the alert, oldest first; notes opened against their alert. */
export async function alertHistory(
  db: DataSource,
  keys: KeyProvider,
  integrity: IntegrityContext,
  alert: AlertRow,
): Promise<AlertEventView[]> {
  const rows = await db.query<EventRow[]>(
    `SELECT at, actor, action, from_status, to_status, sealed_note FROM compliance_alert_event
     WHERE alert_id = ? ORDER BY id`,
    [alert.id],
  );
  const binding = alertNoteBinding(alert);
  const history: AlertEventView[] = [];
  let reported = false;
  for (const row of rows) {
    let note: string | null = null;
    if (row.sealed_note) {
      try {
        note = (await openBuffer(row.sealed_note, keys, binding)).toString('utf8');
      } catch (err) {
        if (!isIntegrityError(err)) throw err;
        if (!reported) await reportIntegrityFailure(integrity, binding, err);
        reported = true;
      }
    }
    history.push({
      at: new Date(row.at).toISOString(),
      actor: row.actor,
      action: row.action,
      fromStatus: row.from_status,
      toStatus: row.to_status,
      note,
    });
  }
  return history;
}
