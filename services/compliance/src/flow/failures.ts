import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { KafkaHeaders, type AlertV1, type SecurityAlertKind, type Topic } from '@cz/contracts';
import type { PoisonRecord } from '@cz/common';
import { headerText } from './records';

const UNREADABLE: SecurityAlertKind = 'integrity.unreadable';

/** The error kept in the failure row and the DLQ header: the reason, never the record's content. */
const reasonOf = (error: string) => error.slice(0, 500);

/**
 * Records compliance could not open or read (they also go to the DLQ): a `compliance_scan_failure`
 * row per Kafka position, and one critical `integrity.unreadable` alert per record for the security
 * officer, through the alert outbox the archiver publishes (`completeness_alert`). Both keyed by
 * the record's position, so a redelivered batch adds nothing. Inside the batch's transaction.
 */
export async function recordScanFailures(
  manager: EntityManager,
  topic: Topic,
  partition: number,
  poison: readonly PoisonRecord[],
  now = new Date(),
): Promise<void> {
  for (const { message, error } of poison) {
    const corpId = headerText(message, KafkaHeaders.corpId) ?? null;
    await manager.query(
      `INSERT IGNORE INTO compliance_scan_failure (topic, kafka_partition, kafka_offset, corp_id, error, at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [topic, partition, message.offset, corpId, reasonOf(error), now],
    );
    const id = createHash('sm3')
      .update(`${UNREADABLE}\n${topic}\n${partition}\n${message.offset}`)
      .digest('hex')
      .slice(0, 32);
    const alert: AlertV1 = {
      schema: 'cz.alert.v1',
      id,
      corpId: corpId ?? '',
      kind: UNREADABLE,
      severity: 'critical',
      source: 'compliance',
      raisedAt: now.getTime(),
      // where the record is and why it failed (the crypto or contract code), nothing of its content
      detail: { topic, partition, offset: message.offset, reason: error.split(':')[0] ?? 'unreadable' },
    };
    await manager.query(
      `INSERT IGNORE INTO completeness_alert (id, corp_id, kind, severity, source, detail, raised_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [id, alert.corpId, alert.kind, alert.severity, alert.source, JSON.stringify(alert), now],
    );
  }
}
