import type { DataSource } from 'typeorm';
import { Topics, type AlertSeverity, type AlertV1 } from '@cz/contracts';
import { alertRecord, sendDurably, type LazyProducer } from '@cz/common';
import { openSealed, type KeyProvider } from '@cz/common/crypto';
import type { AlertDetail } from './alerts';

interface UnpublishedRow {
  id: string;
  corp_id: string;
  kind: string;
  category: string | null;
  severity: AlertSeverity;
  rule_id: string | null;
  lexicon_version: number | null;
  retroactive: number;
  msgid: string | null;
  call_id: string | null;
  event_id: string | null;
  raised_at: Date;
  sealed_detail: Buffer;
}

/** How many hits a sealed detail holds (the count travels, the words and offsets do not). */
async function hitCount(keys: KeyProvider, row: UnpublishedRow): Promise<number> {
  const { plaintext } = await openSealed(row.sealed_detail, keys, {
    kind: 'compliance_alert',
    corp: row.corp_id,
    id: row.id,
  });
  return (JSON.parse(plaintext.toString('utf8')) as AlertDetail).hits.length;
}

/** The `cz.alert.v1` record of a compliance alert: identifiers and counts only. */
export function complianceAlertV1(row: UnpublishedRow, hits: number): AlertV1 {
  const alert: AlertV1 = {
    schema: 'cz.alert.v1',
    id: row.id,
    corpId: row.corp_id,
    kind: row.kind,
    severity: row.severity,
    source: 'compliance',
    raisedAt: row.raised_at.getTime(),
    detail: {
      rule: row.rule_id,
      category: row.category,
      lexiconVersion: row.lexicon_version,
      retroactive: row.retroactive === 1,
      hits,
      ...(row.event_id === null ? {} : { eventId: row.event_id }),
    },
  };
  if (row.msgid !== null) alert.msgid = row.msgid;
  if (row.call_id !== null) alert.callId = row.call_id;
  return alert;
}

/**
 * Publishes up to `limit` unpublished alerts to cz.alert.v1 and marks them published, in one
 * transaction that locks them (SKIP LOCKED: replicas share the work). A crash between the send and
 * the commit sends them again: consumers keep the first of an id. Returns how many were published.
 */
export async function publishPending(
  db: DataSource,
  keys: KeyProvider,
  producer: LazyProducer,
  limit = 500,
): Promise<number> {
  return db.transaction(async (manager) => {
    const rows = await manager.query<UnpublishedRow[]>(
      `SELECT id, corp_id, kind, category, severity, rule_id, lexicon_version, retroactive, msgid, call_id,
              event_id, raised_at, sealed_detail
         FROM compliance_alert WHERE published_at IS NULL ORDER BY raised_at LIMIT ? FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    if (rows.length === 0) return 0;
    const records = await Promise.all(
      rows.map(async (row) =>
        alertRecord(
          complianceAlertV1({ ...row, retroactive: Number(row.retroactive) }, await hitCount(keys, row)),
          keys,
        ),
      ),
    );
    await sendDurably(await producer.get(), Topics.alerts, records);
    await manager.query(
      `UPDATE compliance_alert SET published_at = NOW(3) WHERE id IN (${rows.map(() => '?').join(',')})`,
      rows.map((r) => r.id),
    );
    return rows.length;
  });
}
