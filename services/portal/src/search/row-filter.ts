import { KIND_CALL, KIND_MESSAGE, sqlList, u64, type RowFilter } from './plan';
import type { EngineRequest } from './engine-request';

/*
 * The conditions checked in SQL on each driver row: kinds, metadata, parties, the user's data
 * scope, every keyword clause through the token index, and alerts. Each is necessary for a
 * match, so no match is ever filtered out here.
 */

/**
 * The row filter of a request, or undefined when no record kind can match. `tokenValue` turns a
 * query token into its blind index; `drivenBy` is the index of the party whose own ranges drive
 * the scan (its condition holds already).
 */
export function rowFilterFor(
  request: EngineRequest,
  tokenValue: (token: string) => string,
  drivenBy?: number,
): RowFilter | undefined {
  const { filters, query } = request;
  const params: unknown[] = [];
  let kinds = [...filters.kinds];
  if (filters.msgtypes?.length || filters.conversation) kinds = kinds.filter((k) => k === KIND_MESSAGE);
  if (filters.businessType) kinds = kinds.filter((k) => k === KIND_CALL);
  if (filters.scope?.message === false) kinds = kinds.filter((k) => k !== KIND_MESSAGE);
  if (filters.scope?.call === false) kinds = kinds.filter((k) => k !== KIND_CALL);
  for (const party of filters.parties) {
    if (party.messageParticipants.length === 0) kinds = kinds.filter((k) => k !== KIND_MESSAGE);
    if (party.callAgents.length === 0 && party.callCustomerIndexes.length === 0)
      kinds = kinds.filter((k) => k !== KIND_CALL);
  }
  if (kinds.length === 0) return undefined;

  const perKind: string[] = [];
  let joinMessage = false;
  let joinCall = false;
  if (kinds.includes(KIND_MESSAGE)) {
    const conds = [`d.kind = ${KIND_MESSAGE}`];
    if (filters.msgtypes?.length) {
      conds.push(`m.msgtype IN (${sqlList(filters.msgtypes)})`);
      params.push(...filters.msgtypes);
    }
    if (filters.conversation) {
      conds.push('m.conversation_id = ?');
      params.push(filters.conversation);
    }
    for (const [i, party] of filters.parties.entries()) {
      if (i === drivenBy) continue;
      const list = sqlList(party.messageParticipants);
      conds.push(
        `(m.sender IN (${list}) OR EXISTS (SELECT 1 FROM message_recipient r WHERE r.msgtime = d.t AND r.message_id = d.id AND r.recipient IN (${list})))`,
      );
      params.push(...party.messageParticipants, ...party.messageParticipants);
    }
    if (filters.scope?.message) {
      conds.push(filters.scope.message.sql);
      params.push(...filters.scope.message.params);
    }
    if (conds.length > 1) {
      joinMessage = true;
      conds.splice(1, 0, 'm.id IS NOT NULL');
    }
    perKind.push(`(${conds.join(' AND ')})`);
  }
  if (kinds.includes(KIND_CALL)) {
    const conds = [`d.kind = ${KIND_CALL}`];
    if (filters.businessType) {
      conds.push('c.business_type = ?');
      params.push(filters.businessType);
    }
    for (const [i, party] of filters.parties.entries()) {
      if (i === drivenBy) continue;
      const alternatives: string[] = [];
      if (party.callAgents.length) {
        alternatives.push(`c.agent_id IN (${sqlList(party.callAgents)})`);
        params.push(...party.callAgents);
      }
      if (party.callCustomerIndexes.length) {
        alternatives.push(`c.customer_index IN (${party.callCustomerIndexes.map(u64).join(', ')})`);
      }
      conds.push(`(${alternatives.join(' OR ')})`);
    }
    if (filters.scope?.call) {
      conds.push(filters.scope.call.sql);
      params.push(...filters.scope.call.params);
    }
    if (conds.length > 1) {
      joinCall = true;
      conds.splice(1, 0, 'c.id IS NOT NULL');
    }
    perKind.push(`(${conds.join(' AND ')})`);
  }
  const all = [`(${perKind.join(' OR ')})`];
  for (const clause of query?.clauses ?? []) {
    const alternatives = clause.map(
      (phrase) =>
        `(${phrase.tokens
          .map(
            (token) =>
              `EXISTS (SELECT 1 FROM search_token s WHERE s.token = ${tokenValue(token)} AND s.doc_time = d.t AND s.doc_id = UNHEX(d.id))`,
          )
          .join(' AND ')})`,
    );
    all.push(`(${alternatives.join(' OR ')})`);
  }
  if (filters.alerts) {
    // primary-key look-ups keyed like the driver row: (time, id)
    const rank = Math.floor(filters.alerts.minSeverity);
    if (filters.alerts.kind === undefined)
      all.push(
        `EXISTS (SELECT 1 FROM alert_record ar WHERE ar.doc_time = d.t AND ar.doc_id = UNHEX(d.id) AND ar.max_severity >= ${rank})`,
      );
    else {
      all.push(
        `EXISTS (SELECT 1 FROM alert_target al WHERE al.doc_id = UNHEX(d.id) AND al.doc_time = d.t AND al.kind = ? AND al.severity_rank >= ${rank})`,
      );
      params.push(filters.alerts.kind);
    }
  }
  return { kinds, sql: all.join(' AND '), params, joinMessage, joinCall };
}
