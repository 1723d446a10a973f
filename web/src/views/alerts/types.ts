import type { AlertSeverity, ComplianceAlertQuery, LexiconCategory, SlaState } from '@cz/contracts';
import { rangeBounds, type PickedRange } from '@/utils/time-range';

/** What the inbox filters by; `status` 'active' is every alert not closed, '' every status. */
export interface AlertFilters {
  status: string;
  severity: AlertSeverity | '';
  category: LexiconCategory | '';
  orgUnitId: string | null;
  range: PickedRange | null;
  sla: SlaState | '';
  source: '' | 'live' | 'retro';
}

export function emptyAlertFilters(): AlertFilters {
  return { status: 'active', severity: '', category: '', orgUnitId: null, range: null, sla: '', source: '' };
}

/** The API query of a filter state (blank fields left out). */
export function toAlertQuery(f: AlertFilters, limit: number): ComplianceAlertQuery {
  const query: ComplianceAlertQuery = { limit };
  if (f.status) query.status = f.status;
  if (f.severity) query.severity = f.severity;
  if (f.category) query.category = f.category;
  if (f.orgUnitId) query.orgUnitId = f.orgUnitId;
  if (f.range) Object.assign(query, rangeBounds(f.range));
  if (f.sla) query.sla = f.sla;
  if (f.source) query.retroactive = f.source === 'retro';
  return query;
}
