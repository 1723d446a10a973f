import type { SearchKind, SearchQuery } from '@cz/contracts';
import { rangeBounds } from '@/utils/time-range';

/** What the search form edits; turned into a `SearchQuery` on search. */
export interface SearchFilters {
  q: string;
  employee: string;
  /** name, exact phone, WeCom external userid or customer reference */
  customer: string;
  orgUnit: string | null;
  /** inclusive start and inclusive end, to the second, as shown in the picker */
  range: [Date, Date] | null;
  msgtypes: string[];
  kind: 'all' | SearchKind;
  businessType: string;
  sort: 'desc' | 'asc';
  /** only records with an alert attached */
  hasAlert: boolean;
  /** with hasAlert: at least this severity ('' any) */
  alertSeverity: '' | 'warning' | 'critical';
  /** with hasAlert: only this alert kind ('' any), e.g. `lexicon.guaranteed_return` */
  alertKind: string;
}

export function emptySearchFilters(): SearchFilters {
  return {
    q: '',
    employee: '',
    customer: '',
    orgUnit: null,
    range: null,
    msgtypes: [],
    kind: 'all',
    businessType: '',
    sort: 'desc',
    hasAlert: false,
    alertSeverity: '',
    alertKind: '',
  };
}

export const SEARCH_PAGE_SIZE = 20;

/** The API query for a form state (blank fields left out; msgtype only for chats, business type only for calls). */
export function toSearchQuery(f: SearchFilters): SearchQuery {
  const query: SearchQuery = { limit: SEARCH_PAGE_SIZE, sort: f.sort, count: true };
  // the keyword goes as typed (the server reports what it cannot search), only blank means "none"
  if (f.q.trim()) query.q = f.q;
  const employee = f.employee.trim();
  if (employee) query.employee = employee;
  const customer = f.customer.trim();
  if (customer) query.customer = customer;
  if (f.orgUnit) query.orgUnit = f.orgUnit;
  if (f.range) Object.assign(query, rangeBounds(f.range));
  if (f.kind !== 'all') query.kind = [f.kind];
  if (f.kind !== 'call' && f.msgtypes.length > 0) query.msgtype = [...f.msgtypes];
  const businessType = f.businessType.trim();
  if (f.kind !== 'message' && businessType) query.businessType = businessType;
  if (f.hasAlert) {
    query.hasAlert = true;
    if (f.alertSeverity) query.alertSeverity = f.alertSeverity;
    if (f.alertKind) query.alertKind = f.alertKind;
  }
  return query;
}
