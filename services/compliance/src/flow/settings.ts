import { hostname } from 'node:os';

/** Live and retroactive scanning settings (server.ts reads them from the environment once). */
export interface ScanSettings {
  /** consumer group of cz.msg.v1; cz.call.v1 and cz.event.v1 add `-calls` / `-events` (default cz-compliance) */
  groupId: string;
  /** batches of different partitions scanned at once per topic */
  partitionsConsumedConcurrently: number;
  /** how often the alert outbox looks for unpublished alerts (it is also woken after each batch) */
  outboxPollMs: number;
  /** how often an idle replica looks for a queued retroactive scan */
  rescanPollMs: number;
  /** archived records a retroactive scan reads per transaction */
  rescanBatchSize: number;
  /** how long a replica holds a retroactive scan without renewing its lease */
  rescanLeaseMs: number;
  /** this replica's name in `compliance_rescan.lease_owner` */
  replicaId: string;
  /** how long SLA rules are cached before the database is asked again */
  slaRulesCacheMs: number;
}

export const scanDefaults: Readonly<ScanSettings> = {
  groupId: 'cz-compliance',
  partitionsConsumedConcurrently: 3,
  outboxPollMs: 200,
  rescanPollMs: 1000,
  rescanBatchSize: 500,
  rescanLeaseMs: 30000,
  replicaId: `${hostname()}:${process.pid}`,
  slaRulesCacheMs: 30000,
};

const positive = (raw: string | undefined, fallback: number): number => {
  const value = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

export function scanSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ScanSettings {
  return {
    groupId: env.CZ_COMPLIANCE_GROUP_ID || scanDefaults.groupId,
    partitionsConsumedConcurrently: positive(
      env.CZ_COMPLIANCE_PARTITIONS_CONCURRENTLY,
      scanDefaults.partitionsConsumedConcurrently,
    ),
    outboxPollMs: positive(env.CZ_COMPLIANCE_OUTBOX_POLL_MS, scanDefaults.outboxPollMs),
    rescanPollMs: positive(env.CZ_COMPLIANCE_RESCAN_POLL_MS, scanDefaults.rescanPollMs),
    rescanBatchSize: positive(env.CZ_COMPLIANCE_RESCAN_BATCH, scanDefaults.rescanBatchSize),
    rescanLeaseMs: positive(env.CZ_COMPLIANCE_RESCAN_LEASE_MS, scanDefaults.rescanLeaseMs),
    replicaId: env.CZ_COMPLIANCE_REPLICA_ID || scanDefaults.replicaId,
    slaRulesCacheMs: scanDefaults.slaRulesCacheMs,
  };
}
