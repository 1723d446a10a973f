import { ServicePorts, httpConfig, type HttpConfig } from '@cz/common';

/** The compliance service's settings from the environment, read once at start-up (server.ts). */
export interface ComplianceConfig {
  http: HttpConfig;
}

export function complianceConfigFromEnv(): ComplianceConfig {
  return { http: httpConfig('compliance', ServicePorts.compliance) };
}
