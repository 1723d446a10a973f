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
 * When an alert is due. A live alert's clock starts at the record's time (a complaint made at
 * 09:00 is due at 09:00 the next day, however long the pipeline took); an alert found by a
 * retroactive scan starts its clock when it is raised (nobody could have acted earlier).
 */
export function slaDueAt(
  hours: number,
  at: { recordTime: Date | null; raisedAt: Date; retroactive: boolean },
): Date {
  const start = at.retroactive || at.recordTime === null ? at.raisedAt : at.recordTime;
  return new Date(start.getTime() + hours * HOUR_MS);
}
