import { assertNationalCryptoAvailable } from '@cz/common/crypto';
import {
  ServicePorts,
  callerAuthFromEnv,
  httpConfig,
  kafkaConfig,
  keyProviderFromEnv,
  startService,
} from '@cz/common';
import app from './app';

assertNationalCryptoAvailable();
// one key client: keys for sealing, and the key service's answer to who is calling
const keys = keyProviderFromEnv();
await startService({
  service: 'ingest',
  http: httpConfig('ingest', ServicePorts.ingest),
  plugin: app,
  pluginOptions: { kafka: kafkaConfig('cz-ingest'), keys, callers: callerAuthFromEnv(keys) },
  // 1,000 records of up to a few KB each; larger batches get a 413 with the limit in the reason
  bodyLimit: 8 * 1024 * 1024,
});
