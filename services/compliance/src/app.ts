import type { FastifyPluginAsync } from 'fastify';
import {
  callerAuthPlugin,
  databasePlugin,
  errorHandlerPlugin,
  keysPlugin,
  mainDataSourceOptions,
  type CallerAuthOptions,
  type DatabaseConfig,
  type KafkaConfig,
} from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import type { ScanSettings } from './flow/settings';
import type { LexiconSettings } from './lexicon/settings';
import type { WorkflowSettings } from './workflow/settings';
import kafkaPlugin from './plugins/external/kafka';
import lexiconPlugin from './plugins/app/lexicon';
import scanConsumers from './plugins/consumers/scan-consumers';
import alertOutbox from './plugins/app/alert-outbox';
import rescanWorker from './plugins/app/rescan-worker';
import workflowPlugin from './plugins/app/workflow';
import healthRoutes from './routes/health';
import lexiconRoutes from './routes/lexicon';

export interface ComplianceOptions {
  database: DatabaseConfig;
  kafka: KafkaConfig;
  keys: KeyProvider;
  /** who may manage the lexicon (`compliance.lexicon`: the portal, the local tools) */
  callers: CallerAuthOptions;
  scan?: Partial<ScanSettings>;
  lexicon?: Partial<LexiconSettings>;
  workflow?: Partial<WorkflowSettings>;
}

/**
 * Compliance: the finance lexicon over messages, calls and events → alerts (cz.alert.v1 and the
 * alert workflow's rows), SLA timers and escalation, notifications, review sampling, retroactive
 * scans. Resource clients from plugins/external, then domain plugins from plugins/app and the
 * consumers, then routes.
 */
const app: FastifyPluginAsync<ComplianceOptions> = async (fastify, options) => {
  await fastify.register(errorHandlerPlugin);
  await fastify.register(callerAuthPlugin, options.callers);
  await fastify.register(databasePlugin, mainDataSourceOptions(options.database));
  await fastify.register(keysPlugin, { keys: options.keys });
  await fastify.register(kafkaPlugin, { kafka: options.kafka });
  await fastify.register(lexiconPlugin, { settings: options.lexicon ?? {} });
  await fastify.register(scanConsumers, { settings: options.scan ?? {} });
  await fastify.register(alertOutbox, { settings: options.scan ?? {} });
  await fastify.register(rescanWorker, { settings: options.scan ?? {} });
  await fastify.register(workflowPlugin, { settings: options.workflow ?? {} });
  await fastify.register(healthRoutes);
  await fastify.register(lexiconRoutes);
};

export default app;
