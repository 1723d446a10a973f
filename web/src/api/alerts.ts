import type {
  AlertAction,
  BulkAlertActionReply,
  ComplianceAlertDetail,
  ComplianceAlertListReply,
  ComplianceAlertQuery,
  ComplianceAlertView,
  SlaPolicy,
} from '@cz/contracts';
import { request } from './client';

/*
 * 告警中心: the compliance alerts in the caller's data scope (the portal filters by role and scope),
 * their lifecycle actions (notes are sealed by the portal) and the SLA policy (admin).
 */

export function listAlerts(
  query: ComplianceAlertQuery,
  signal?: AbortSignal,
): Promise<ComplianceAlertListReply> {
  return request<ComplianceAlertListReply>('GET', '/v1/alerts', {
    query: { ...query },
    silent: true,
    ...(signal ? { signal } : {}),
  });
}

export function getAlert(id: string): Promise<ComplianceAlertDetail> {
  return request<ComplianceAlertDetail>('GET', `/v1/alerts/${encodeURIComponent(id)}`);
}

export function actOnAlert(id: string, action: AlertAction, note?: string): Promise<ComplianceAlertView> {
  return request<ComplianceAlertView>('POST', `/v1/alerts/${encodeURIComponent(id)}/actions`, {
    body: note ? { action, note } : { action },
  });
}

export function actOnAlerts(
  ids: string[],
  action: AlertAction,
  note?: string,
): Promise<BulkAlertActionReply> {
  return request<BulkAlertActionReply>('POST', '/v1/alerts/actions', {
    body: note ? { ids, action, note } : { ids, action },
  });
}

export function getSlaPolicy(): Promise<SlaPolicy> {
  return request<SlaPolicy>('GET', '/v1/alerts/sla');
}

export function putSlaPolicy(policy: SlaPolicy): Promise<SlaPolicy> {
  return request<SlaPolicy>('PUT', '/v1/alerts/sla', { body: policy });
}
