/*
 * What the compliance pages share: the categories, the alert lifecycle and the SLA state as the
 * console needs them at run time. The contracts package defines them with TypeBox, which the
 * console bundles only as types; the lists here are typed against it and checked equal to it by
 * web/test/compliance.unit.test.ts. The portal enforces the lifecycle; the console only hides
 * actions that cannot apply.
 */
import type {
  AlertAction,
  AlertSeverity,
  ComplianceAlertStatus,
  LexiconCategory,
  LexiconEntryKind,
  SlaState,
} from '@cz/contracts';

export const CATEGORIES: readonly LexiconCategory[] = [
  'guaranteed_return',
  'private_dealing',
  'kickback',
  'illegal_lending',
  'collection_abuse',
  'outside_platform',
  'impersonation',
  'complaint',
  'personal_data',
  'custom',
];

export const SEVERITIES: readonly AlertSeverity[] = ['critical', 'warning', 'info'];

export const ENTRY_KINDS: readonly LexiconEntryKind[] = ['term', 'regex', 'proximity', 'allow'];

export const ALERT_STATUSES: readonly ComplianceAlertStatus[] = [
  'open',
  'acknowledged',
  'escalated',
  'resolved',
  'false_positive',
];

/** From which statuses each action applies, and whether it needs a note (ALERT_TRANSITIONS). */
export const ACTION_RULES: Record<
  AlertAction,
  { from: readonly ComplianceAlertStatus[]; noteRequired: boolean }
> = {
  acknowledge: { from: ['open', 'escalated'], noteRequired: false },
  resolve: { from: ['open', 'acknowledged', 'escalated'], noteRequired: true },
  false_positive: { from: ['open', 'acknowledged', 'escalated'], noteRequired: true },
  escalate: { from: ['open', 'acknowledged'], noteRequired: true },
  reopen: { from: ['resolved', 'false_positive'], noteRequired: true },
  comment: { from: ['open', 'acknowledged', 'escalated', 'resolved', 'false_positive'], noteRequired: true },
};

export function canApply(action: AlertAction, status: ComplianceAlertStatus): boolean {
  return ACTION_RULES[action].from.includes(status);
}

/** Element Plus tag type per severity: critical red, warning orange, info grey. */
export const SEVERITY_TAG: Record<AlertSeverity, 'danger' | 'warning' | 'info'> = {
  critical: 'danger',
  warning: 'warning',
  info: 'info',
};

export const STATUS_TAG: Record<
  ComplianceAlertStatus,
  'danger' | 'warning' | 'primary' | 'success' | 'info'
> = {
  open: 'danger',
  acknowledged: 'primary',
  escalated: 'warning',
  resolved: 'success',
  false_positive: 'info',
};

/**
 * The SLA state at `now` (slaStateOf in the contracts): `due_soon` when less than a quarter of the
 * time between raising and due is left; closed alerts and alerts without a due time: `none`.
 */
export function slaStateAt(
  status: ComplianceAlertStatus,
  dueAt: string | null,
  raisedAt: string,
  now: number,
): SlaState {
  if (dueAt === null || status === 'resolved' || status === 'false_positive') return 'none';
  const due = Date.parse(dueAt);
  const left = due - now;
  if (left <= 0) return 'overdue';
  return left < Math.max(0, due - Date.parse(raisedAt)) / 4 ? 'due_soon' : 'ok';
}

/** A duration as days / hours / minutes / seconds, the two largest units: `3 小时 12 分`. */
export function durationParts(ms: number): { unit: 'd' | 'h' | 'm' | 's'; value: number }[] {
  const total = Math.max(0, Math.floor(Math.abs(ms) / 1000));
  const parts = [
    { unit: 'd' as const, value: Math.floor(total / 86_400) },
    { unit: 'h' as const, value: Math.floor((total % 86_400) / 3600) },
    { unit: 'm' as const, value: Math.floor((total % 3600) / 60) },
    { unit: 's' as const, value: total % 60 },
  ];
  const first = parts.findIndex((p) => p.value > 0);
  if (first === -1) return [{ unit: 's', value: 0 }];
  return parts.slice(first, first + 2);
}

/** One range of a text to mark, with what to say about it. */
export interface MarkRange {
  start: number;
  end: number;
}

/** A range to mark with its tooltip lines (category, term, explanation, how it matched). */
export interface HitMark extends MarkRange {
  lines?: string[];
  severity?: AlertSeverity;
}

export interface MarkedSegment<R extends MarkRange> {
  text: string;
  /** the ranges covering this segment (empty: plain text) */
  ranges: R[];
}

/**
 * Splits a text at the ranges' edges (UTF-16 offsets, end exclusive), overlapping ranges allowed;
 * ranges outside the text are clipped, empty ones dropped.
 */
export function splitRanges<R extends MarkRange>(text: string, ranges: readonly R[]): MarkedSegment<R>[] {
  const valid = ranges
    .map((r) => ({
      r,
      start: Math.max(0, Math.min(r.start, text.length)),
      end: Math.min(r.end, text.length),
    }))
    .filter((x) => x.end > x.start);
  if (valid.length === 0) return [{ text, ranges: [] }];
  const cuts = new Set<number>([0, text.length]);
  for (const x of valid) {
    cuts.add(x.start);
    cuts.add(x.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const segments: MarkedSegment<R>[] = [];
  for (let i = 0; i + 1 < points.length; i += 1) {
    const from = points[i]!;
    const to = points[i + 1]!;
    const covering = valid.filter((x) => x.start <= from && x.end >= to).map((x) => x.r);
    const last = segments[segments.length - 1];
    // plain text between marks stays one segment
    if (last && covering.length === 0 && last.ranges.length === 0) last.text += text.slice(from, to);
    else segments.push({ text: text.slice(from, to), ranges: covering });
  }
  return segments;
}

/** `12-16,30-34` ↔ ranges: how the alert inbox tells the conversation view which characters to mark. */
export function formatRanges(ranges: readonly MarkRange[]): string {
  return ranges.map((r) => `${r.start}-${r.end}`).join(',');
}

export function parseRanges(value: unknown): MarkRange[] {
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .slice(0, 50)
    .map((part) => /^(\d{1,7})-(\d{1,7})$/.exec(part.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ start: Number(m[1]), end: Number(m[2]) }))
    .filter((r) => r.end > r.start);
}
