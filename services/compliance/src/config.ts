import {
  ServicePorts,
  databaseConfig,
  httpConfig,
  kafkaConfig,
  type DatabaseConfig,
  type HttpConfig,
  type KafkaConfig,
} from '@cz/common';
import { scanSettingsFromEnv, type ScanSettings } from './flow/settings';
import { lexiconSettingsFromEnv, type LexiconSettings } from './lexicon/settings';
import { workflowSettingsFromEnv, type WorkflowSettings } from './workflow/settings';

/** The compliance service's settings from the environment, read once at start-up (server.ts). */
export interface ComplianceConfig {
  http: HttpConfig;
  database: DatabaseConfig;
  kafka: KafkaConfig;
  scan: ScanSettings;
  lexicon: LexiconSettings;
  workflow: WorkflowSettings;
}

export function complianceConfigFromEnv(): ComplianceConfig {
  return {
    http: httpConfig('compliance', ServicePorts.compliance),
    database: databaseConfig(),
    kafka: kafkaConfig('cz-compliance'),
    scan: scanSettingsFromEnv(),
    lexicon: lexiconSettingsFromEnv(),
    workflow: workflowSettingsFromEnv(),
  };
}
