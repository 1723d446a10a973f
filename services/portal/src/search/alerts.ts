import type { DataSource } from 'typeorm';
import type { AlertSeverity, AlertSummary, AlertTag, AlertV1 } from '@cz/contracts';
import type { KeyProvider } from '@cz/common/crypto';
import { alertBinding, isIntegrityError, openAlertRecord, reportIntegrityFailure } from '../integrity';

/*
 * Alerts attached to archived records (written by the archiver, services/archiver/src/alerts):
 * `alert_target` links an alert to a record by the record's archive id once the record is
 * archived (`doc_time` set); `alert_record` holds one row per alerted record for the search.
 */

export const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 1, warning: 2, critical: 3 };
const SEVERITIES: AlertSeverity[] = ['info', 'warning', 'critical'];
const severityOf = (rank: number): AlertSeverity => SEVERITIES[Math.min(Math.max(rank, 1), 3) - 1]!;

const hexIds = (ids: readonly string[]) => {
  for (const id of ids) if (!/^[0-9a-f]{32}$/.test(id)) throw new Error('archive id must be 32 hex digits');
  return ids.map((id) => `X'${id}'`).join(', ');
};

/** Count, highest severity and kinds (most severe first) of the alerts of each record that has any. */
export async function alertSummaries(
  db: DataSource,
  ids: readonly string[],
): Promise<Map<string, AlertSummary>> {
  const summaries = new Map<string, AlertSummary>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return summaries;
  const rows = await db.query<{ id: string; kind: string; severity_rank: number | string }[]>(
    `SELECT LOWER(HEX(doc_id)) AS id, kind, severity_rank FROM alert_target
     WHERE doc_id IN (${hexIds(unique)}) AND doc_time IS NOT NULL`,
  );
  const perRecord = new Map<string, { count: number; rank: number; kinds: Map<string, number> }>();
  for (const row of rows) {
    const rank = Number(row.severity_rank);
    const record = perRecord.get(row.id) ?? { count: 0, rank: 0, kinds: new Map<string, number>() };
    record.count += 1;
    record.rank = Math.max(record.rank, rank);
    record.kinds.set(row.kind, Math.max(record.kinds.get(row.kind) ?? 0, rank));
    perRecord.set(row.id, record);
  }
  for (const [id, record] of perRecord) {
    summaries.set(id, {
      count: record.count,
      severity: severityOf(record.rank),
      kinds: [...record.kinds]
        .sort(([ka, ra], [kb, rb]) => rb - ra || (ka < kb ? -1 : ka > kb ? 1 : 0))
        .map(([kind]) => kind),
    });
  }
  return summaries;
}

const detailString = (detail: Record<string, unknown>, key: string): string | null => {
  const value = detail[key];
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 128) : null;
};

/**
 * The alerts of each record that has any, most severe first, then oldest first: kind, severity,
 * source, time, and the rule / category from the sealed alert's detail. Nothing else of the
 * detail leaves here (it may carry counts and identifiers, never content, but the view needs none).
 */
export async function alertTags(
  db: DataSource,
  keys: KeyProvider,
  ids: readonly string[],
): Promise<Map<string, AlertTag[]>> {
  const tags = new Map<string, AlertTag[]>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return tags;
  const rows = await db.query<
    {
      doc_id: string;
      id: string;
      corp_id: string;
      kind: string;
      severity: AlertSeverity;
      source: string;
      raised_at: Date;
      sealed_record: Buffer;
    }[]
  >(
    `SELECT LOWER(HEX(t.doc_id)) AS doc_id, a.id, a.corp_id, a.kind, a.severity, a.source, a.raised_at, a.sealed_record
     FROM alert_target t JOIN alert a ON a.id = t.alert_id
     WHERE t.doc_id IN (${hexIds(unique)}) AND t.doc_time IS NOT NULL
     ORDER BY t.doc_id, t.severity_rank DESC, a.raised_at, a.id`,
  );
  for (const row of rows) {
    let alert: AlertV1;
    try {
      alert = await openAlertRecord(keys, row);
    } catch (err) {
      if (!isIntegrityError(err)) throw err;
      await reportIntegrityFailure({ db, actor: 'portal.alerts' }, alertBinding(row), err);
      continue;
    }
    const list = tags.get(row.doc_id) ?? [];
    list.push({
      id: row.id,
      kind: row.kind,
      severity: row.severity,
      source: row.source,
      raisedAt: new Date(row.raised_at).toISOString(),
      rule: detailString(alert.detail, 'rule'),
      category: detailString(alert.detail, 'category'),
    });
    tags.set(row.doc_id, list);
  }
  return tags;
}
