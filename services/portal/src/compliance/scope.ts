import { callCondition, conversationCondition, type Access, type ScopeCondition } from '../scope';

/*
 * REG-05 for compliance alerts and review items: an alert is visible exactly when the record it
 * names is visible. A message alert follows its conversation (every participant's unit, protected
 * participants hidden); a call alert follows its agent and a behaviour-event alert its employee
 * (the employee's unit, a protected employee hidden) — the rules of services/portal/src/scope.ts.
 */

/** The scope condition over a `compliance_alert` row aliased `alias`. */
export function alertScopeCondition(access: Access, alias = 'a'): ScopeCondition {
  const message = conversationCondition(access, `${alias}.corp_id`, `${alias}.conversation_id`);
  const person = callCondition(access, `${alias}.corp_id`, `${alias}.employee`);
  if (message === null && person === null) return null;
  const branch = (kinds: string, condition: ScopeCondition) =>
    condition === false
      ? null
      : {
          sql: `(${alias}.record_kind IN (${kinds})${condition ? ` AND ${condition.sql}` : ''})`,
          params: condition?.params ?? [],
        };
  const parts = [branch(`'message'`, message), branch(`'call', 'event'`, person)].filter(
    (p): p is { sql: string; params: unknown[] } => p !== null,
  );
  if (parts.length === 0) return false;
  return { sql: `(${parts.map((p) => p.sql).join(' OR ')})`, params: parts.flatMap((p) => p.params) };
}

/** The scope condition over a `review_item` row (a conversation-day) aliased `alias`. */
export function reviewScopeCondition(access: Access, alias = 'r'): ScopeCondition {
  return conversationCondition(access, `${alias}.corp_id`, `${alias}.conversation_id`);
}

/** Adds a scope condition to a WHERE list (false: nothing matches). */
export function pushCondition(conditions: string[], params: unknown[], condition: ScopeCondition): void {
  if (condition === null) return;
  if (condition === false) {
    conditions.push('FALSE');
    return;
  }
  conditions.push(condition.sql);
  params.push(...condition.params);
}
