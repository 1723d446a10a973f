import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { KafkaHeaders, type AlertSeverity, type AlertV1, type CompletenessAlertKind } from '@cz/contracts';
import { sealBuffer, type KeyProvider } from './crypto';

export interface CompletenessAlertInput {
  corpId: string;
  kind: CompletenessAlertKind;
  severity: AlertSeverity;
  source: string;
  fromSeq?: number;
  toSeq?: number;
  msgid?: string;
  /** identifiers and counts only: never message content or personal data */
  detail?: Record<string, unknown>;
}

/**
 * The `cz.alert.v1` Kafka record of an alert: sealed like every Cunzheng record, keyed by corp so
 * one corp's alerts stay in order. Every producer of alerts builds it here.
 */
export async function alertRecord(alert: AlertV1, keys: KeyProvider) {
  return {
    key: alert.corpId,
    value: await sealBuffer(Buffer.from(JSON.stringify(alert)), keys, 'audit', {
      kind: 'alert',
      corp: alert.corpId,
      id: alert.id,
    }),
    headers: { [KafkaHeaders.schema]: 'cz.alert.v1', [KafkaHeaders.corpId]: alert.corpId },
  };
}

export function completenessAlert(input: CompletenessAlertInput, raisedAt = Date.now()): AlertV1 {
  const alert: AlertV1 = {
    schema: 'cz.alert.v1',
    id: randomBytes(16).toString('hex'),
    corpId: input.corpId,
    kind: input.kind,
    severity: input.severity,
    source: input.source,
    raisedAt,
    detail: input.detail ?? {},
  };
  if (input.fromSeq !== undefined) alert.fromSeq = input.fromSeq;
  if (input.toSeq !== undefined) alert.toSeq = input.toSeq;
  if (input.msgid !== undefined) alert.msgid = input.msgid;
  return alert;
}

/**
 * Writes alerts into `completeness_alert`, inside the caller's transaction. The table is also the
 * outbox of `cz.alert.v1`: the archiver publishes rows whose `published_at` is still NULL, so an
 * alert exists on Kafka if and only if the state change that raised it was committed.
 */
export async function insertCompletenessAlerts(manager: EntityManager, alerts: AlertV1[]): Promise<void> {
  if (alerts.length === 0) return;
  await manager
    .createQueryBuilder()
    .insert()
    .into('completeness_alert', [
      'id',
      'corp_id',
      'kind',
      'severity',
      'source',
      'from_seq',
      'to_seq',
      'detail',
      'raised_at',
    ])
    .values(
      alerts.map((a) => ({
        id: a.id,
        corp_id: a.corpId,
        kind: a.kind,
        severity: a.severity,
        source: a.source,
        from_seq: a.fromSeq ?? null,
        to_seq: a.toSeq ?? null,
        detail: JSON.stringify(a),
        raised_at: new Date(a.raisedAt),
      })),
    )
    .execute();
}
