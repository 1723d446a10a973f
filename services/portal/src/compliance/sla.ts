import type { DataSource, EntityManager } from 'typeorm';
import { DEFAULT_SLA_HOURS, type AlertSeverity, type LexiconCategory } from '@cz/contracts';

const HOUR_MS = 3600000;

/**
 * Hours to handle an alert when a person reopens or escalates it: the admins' rules
 * (`compliance_sla_rule`, most specific wins: category and severity, category, severity, `*`/`*`),
 * else the defaults (complaints 24 h, REG-11). The same rule as the compliance service's
 * workflow/sla.ts, which the portal does not import (services do not reach into each other).
 */
export async function slaHoursFor(
  db: DataSource | EntityManager,
  category: LexiconCategory | null,
  severity: AlertSeverity,
): Promise<number> {
  const rows = await db.query<{ category: string; severity: string; hours: string }[]>(
    `SELECT category, severity, hours FROM compliance_sla_rule
     WHERE category IN (?, '*') AND severity IN (?, '*')`,
    [category ?? '*', severity],
  );
  const find = (c: string, s: string) => rows.find((r) => r.category === c && r.severity === s);
  const rule =
    (category && find(category, severity)) ||
    (category && find(category, '*')) ||
    find('*', severity) ||
    find('*', '*');
  if (rule) return Number(rule.hours);
  return category === 'complaint' ? DEFAULT_SLA_HOURS.complaint : DEFAULT_SLA_HOURS.bySeverity[severity];
}

export const dueAfter = (from: Date, hours: number) => new Date(from.getTime() + hours * HOUR_MS);
