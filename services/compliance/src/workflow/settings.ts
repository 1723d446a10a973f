/** Alert workflow settings: SLA sweeps, notifications, review sampling (server.ts reads them once). */
export interface WorkflowSettings {
  sweepIntervalMs: number;
}

export const workflowDefaults: Readonly<WorkflowSettings> = { sweepIntervalMs: 5000 };

export function workflowSettingsFromEnv(): WorkflowSettings {
  return { ...workflowDefaults };
}
