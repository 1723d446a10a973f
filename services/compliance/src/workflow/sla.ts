import type { DataSource, EntityManager } from 'typeorm';
import {
  DEFAULT_SLA_HOURS,
  type AlertSeverity,
  type LexiconCategory,
  type SlaPolicyRule,
} from '@cz/contracts';

const HOUR_MS = 3600000;

/** The admins' SLA rules (`compliance_sla_rule`); the defaults apply where none matches. */
export async function loadSlaRules(db: DataSource | EntityManager): Promise<SlaPolicyRule[]> {
  const rows = await db.query<{ category: string; severity: string; hours: string }[]>(
    'SELECT category, severity, hours FROM compliance_sla_rule',
  );
  return rows.map((r) => ({
    category: r.category as SlaPolicyRule['category'],
    severity: r.severity as SlaPolicyRule['severity'],
    hours: Number(r.hours),
  }));
}

/**
 * Hours to handle an alert of `category` and `severity`: the most specific rule wins (category and
 * severity, then category, then severity, then `*`/`*`); without one, complaints get 24 h (REG-11)
 * and everything else its severity's default.
 */
export function slaHours(
  rules: readonly SlaPolicyRule[],
  category: LexiconCategory | null,
  severity: AlertSeverity,
): number {
  const find = (c: string, s: string) => rules.find((r) => r.category === c && r.severity === s);
  const rule =
    (category && find(category, severity)) ||
    (category && find(category, '*')) ||
    find('*', severity) ||
    find('*', '*');
  if (rule) return rule.hours;
  return category === 'complaint' ? DEFAULT_SLA_HOURS.complaint : DEFAULT_SLA_HOURS.bySeverity[severity];
}

/**
 * When an alert is due. A complaint's clock starts at the record's time (REG-11: a customer who
 * complained at 09:00 is owed an answer by 09:00 the next day, however late the record reached
 * us); every other alert's clock starts when it is raised, the moment someone could act on it. An
 * alert found by a retroactive scan starts its clock when raised, complaint or not (nobody could
 * have acted earlier).
 */
export function slaDueAt(
  hours: number,
  at: { category: LexiconCategory | null; recordTime: Date | null; raisedAt: Date; retroactive: boolean },
): Date {
  const fromRecord = at.category === 'complaint' && !at.retroactive && at.recordTime !== null;
  const start = fromRecord && at.recordTime ? at.recordTime : at.raisedAt;
  return new Date(start.getTime() + hours * HOUR_MS);
}
