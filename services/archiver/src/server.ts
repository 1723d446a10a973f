import { assertNationalCryptoAvailable } from '@cz/common/crypto';
import {
  ServicePorts,
  databaseConfig,
  httpConfig,
  kafkaConfig,
  keyProviderFromEnv,
  startService,
} from '@cz/common';
import app from './app';

assertNationalCryptoAvailable();
await startService({
  service: 'archiver',
  http: httpConfig('archiver', ServicePorts.archiver),
  plugin: app,
  pluginOptions: {
    database: databaseConfig(),
    kafka: kafkaConfig('cz-archiver'),
    keys: keyProviderFromEnv(),
  },
});
