import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  lexiconAlertKind,
  type AlertHit,
  type AlertSeverity,
  type LexiconCategory,
  type LexiconHit,
  type SlaPolicyRule,
} from '@cz/contracts';
import { sealBuffer, sealedKeyInfo, type KeyProvider } from '@cz/common/crypto';
import { slaDueAt, slaHours } from '../workflow/sla';
import { segmentOf, type ScanRecord } from './records';

/*
 * From hits to `compliance_alert` rows: one alert per (record, rule, lexicon version) with every
 * hit of that rule in the record. The id is SM3 of those, so inserting it again (a redelivered
 * batch, a restart mid-batch, a rebalance, a retroactive scan of a record the live scan already
 * alerted) inserts nothing: exactly once.
 */

export const SEVERITY_RANK: Readonly<Record<AlertSeverity, number>> = { info: 1, warning: 2, critical: 3 };

/** What is sealed in `compliance_alert.sealed_detail` (the lexicon's words and offsets, never the text). */
export interface AlertDetail {
  hits: AlertHit[];
  explanation: string;
  reg: string[];
  term: string;
}

export interface AlertDraft {
  id: string;
  record: ScanRecord;
  category: LexiconCategory;
  severity: AlertSeverity;
  ruleId: string;
  lexiconVersion: number;
  retroactive: boolean;
  employee: string | null;
  orgUnitId: string | null;
  raisedAt: Date;
  dueAt: Date;
  detail: AlertDetail;
}

/** SM3 hex of corp | record kind | record id | rule id | lexicon version. */
export function complianceAlertId(
  record: Pick<ScanRecord, 'corpId' | 'kind' | 'recordId'>,
  ruleId: string,
  version: number,
): string {
  return createHash('sm3')
    .update(`${record.corpId}|${record.kind}|${record.recordId}|${ruleId}|${version}`)
    .digest('hex');
}

export interface DraftContext {
  lexiconVersion: number;
  retroactive: boolean;
  slaRules: readonly SlaPolicyRule[];
  employee: string | null;
  orgUnitId: string | null;
  raisedAt: Date;
}

/** The alerts of one scanned record: its hits grouped by rule, in order of first hit. */
export function draftAlerts(
  record: ScanRecord,
  hits: readonly LexiconHit[],
  context: DraftContext,
): AlertDraft[] {
  const byRule = new Map<string, LexiconHit[]>();
  for (const hit of hits) {
    const list = byRule.get(hit.ruleId);
    if (list) list.push(hit);
    else byRule.set(hit.ruleId, [hit]);
  }
  const segment = record.segmented ? segmentOf(record.text) : undefined;
  const drafts: AlertDraft[] = [];
  for (const [ruleId, ruleHits] of byRule) {
    const first = ruleHits[0]!;
    const hours = slaHours(context.slaRules, first.category, first.severity);
    drafts.push({
      id: complianceAlertId(record, ruleId, context.lexiconVersion),
      record,
      category: first.category,
      severity: first.severity,
      ruleId,
      lexiconVersion: context.lexiconVersion,
      retroactive: context.retroactive,
      employee: context.employee,
      orgUnitId: context.orgUnitId,
      raisedAt: context.raisedAt,
      dueAt: slaDueAt(hours, {
        category: first.category,
        recordTime: record.docTime,
        raisedAt: context.raisedAt,
        retroactive: context.retroactive,
      }),
      detail: {
        hits: ruleHits.map((h) => ({
          ruleId: h.ruleId,
          term: h.term,
          category: h.category,
          severity: h.severity,
          via: h.via,
          start: h.start,
          end: h.end,
          ...(segment ? { segment: segment(h.start) } : {}),
        })),
        explanation: first.explanation,
        reg: first.reg,
        term: first.term,
      },
    });
  }
  return drafts;
}

export interface SealedDraft {
  draft: AlertDraft;
  sealed: Buffer;
  kekId: string;
  kekVersion: number;
}

/** Seals each alert's detail (class audit, bound to its row). Done before the transaction opens. */
export async function sealDrafts(keys: KeyProvider, drafts: readonly AlertDraft[]): Promise<SealedDraft[]> {
  return Promise.all(
    drafts.map(async (draft) => {
      const sealed = await sealBuffer(Buffer.from(JSON.stringify(draft.detail)), keys, 'audit', {
        kind: 'compliance_alert',
        corp: draft.record.corpId,
        id: draft.id,
      });
      const info = sealedKeyInfo(sealed);
      return { draft, sealed, kekId: info.kekId, kekVersion: info.kekVersion };
    }),
  );
}

const COLUMNS = [
  'id',
  'corp_id',
  'kind',
  'category',
  'severity',
  'severity_rank',
  'rule_id',
  'lexicon_version',
  'retroactive',
  'record_kind',
  'msgid',
  'call_id',
  'event_id',
  'doc_id',
  'doc_time',
  'conversation_id',
  'employee',
  'org_unit_id',
  'assigned_org_unit_id',
  'status',
  'raised_at',
  'due_at',
  'updated_at',
  'kek_id',
  'kek_version',
  'sealed_detail',
];
const ROW = `(${COLUMNS.map((c) => (c === 'doc_id' ? 'UNHEX(?)' : '?')).join(',')})`;

/**
 * Inserts the alerts inside the caller's transaction (INSERT IGNORE by id) and one `raised` event
 * for each alert that is new. Returns how many were new.
 */
export async function insertAlerts(manager: EntityManager, sealed: readonly SealedDraft[]): Promise<number> {
  if (sealed.length === 0) return 0;
  const chunk = 200;
  for (let i = 0; i < sealed.length; i += chunk) {
    const part = sealed.slice(i, i + chunk);
    const params: unknown[] = [];
    for (const { draft: d, sealed: value, kekId, kekVersion } of part) {
      params.push(
        d.id,
        d.record.corpId,
        lexiconAlertKind(d.category),
        d.category,
        d.severity,
        SEVERITY_RANK[d.severity],
        d.ruleId,
        d.lexiconVersion,
        d.retroactive ? 1 : 0,
        d.record.kind,
        d.record.msgid,
        d.record.callId,
        d.record.eventId,
        d.record.docId,
        d.record.docTime,
        d.record.conversationId,
        d.employee,
        d.orgUnitId,
        d.orgUnitId,
        'open',
        d.raisedAt,
        d.dueAt,
        d.raisedAt,
        kekId,
        kekVersion,
        value,
      );
    }
    await manager.query(
      `INSERT IGNORE INTO compliance_alert (${COLUMNS.join(',')}) VALUES ${part.map(() => ROW).join(',')}`,
      params,
    );
  }
  // an alert that existed before this transaction already has its `raised` event
  const ids = sealed.map((s) => s.draft.id);
  const result = await manager.query<{ affectedRows?: number }>(
    `INSERT INTO compliance_alert_event (alert_id, at, actor, action, from_status, to_status)
     SELECT a.id, a.raised_at, 'system', 'raised', NULL, 'open' FROM compliance_alert a
     WHERE a.id IN (${ids.map(() => '?').join(',')})
       AND NOT EXISTS (SELECT 1 FROM compliance_alert_event e WHERE e.alert_id = a.id AND e.action = 'raised')`,
    ids,
  );
  return result.affectedRows ?? 0;
}
