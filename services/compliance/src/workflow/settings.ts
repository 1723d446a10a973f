import { hostname } from 'node:os';

/** Alert workflow settings: SLA sweeps, notifications, review sampling (server.ts reads them once). */
export interface WorkflowSettings {
  /** how often the sweeps (escalation, notification queue, sender) run */
  sweepIntervalMs: number;
  /** run the sweeps on a timer (tests drive them by hand) */
  timers: boolean;
  /** the console's base URL for the link in notifications */
  consoleUrl: string;
  /** the SMTP relay, e.g. smtp://relay.bank.local:25 (TLS when the relay offers STARTTLS); null: e-mail channels fail */
  smtpUrl: string | null;
  smtpFrom: string;
  /** wait before the 2nd, 3rd, … attempt of a delivery (the last value repeats) */
  retryBackoffMs: number[];
  /** attempts before a delivery is dead-lettered */
  maxAttempts: number;
  /** one request to a receiver (a hanging receiver blocks nothing else) */
  requestTimeoutMs: number;
  /** deliveries sent at the same time by one replica */
  sendConcurrency: number;
  /** rows taken per sweep */
  batchSize: number;
  /** a replica's claim on a delivery it is sending; another replica takes it over after this */
  leaseMs: number;
  /** sample the previous day's conversations for review once a day */
  reviewSampling: boolean;
  /** hour of the day (Asia/Shanghai) from which the previous day is sampled */
  reviewHour: number;
  /** names this replica in leases */
  replicaId: string;
}

export const workflowDefaults: Readonly<WorkflowSettings> = {
  sweepIntervalMs: 5000,
  timers: true,
  consoleUrl: 'https://127.0.0.1:8080',
  smtpUrl: null,
  smtpFrom: 'cunzheng-alerts@localhost',
  retryBackoffMs: [5000, 30000, 120000, 600000, 3600000],
  maxAttempts: 6,
  requestTimeoutMs: 5000,
  sendConcurrency: 8,
  batchSize: 100,
  leaseMs: 60000,
  reviewSampling: true,
  reviewHour: 1,
  replicaId: `${hostname()}:${process.pid}`,
};

const int = (value: string | undefined, fallback: number) => {
  const parsed = value === undefined || value === '' ? NaN : Number(value);
  return Number.isInteger(parsed) && parsed >= 0 ? parsed : fallback;
};

export function workflowSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): WorkflowSettings {
  return {
    ...workflowDefaults,
    sweepIntervalMs: int(env.CZ_WORKFLOW_SWEEP_MS, workflowDefaults.sweepIntervalMs),
    consoleUrl: env.CZ_CONSOLE_URL || workflowDefaults.consoleUrl,
    smtpUrl: env.CZ_SMTP_URL || null,
    smtpFrom: env.CZ_SMTP_FROM || workflowDefaults.smtpFrom,
    maxAttempts: Math.max(1, int(env.CZ_NOTIFY_MAX_ATTEMPTS, workflowDefaults.maxAttempts)),
    requestTimeoutMs: Math.max(100, int(env.CZ_NOTIFY_TIMEOUT_MS, workflowDefaults.requestTimeoutMs)),
    reviewSampling: env.CZ_REVIEW_SAMPLING !== 'off',
  };
}

export const resolveWorkflowSettings = (partial: Partial<WorkflowSettings> = {}): WorkflowSettings => ({
  ...workflowDefaults,
  ...partial,
});
