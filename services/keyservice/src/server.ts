import { assertNationalCryptoAvailable } from '@cz/common/crypto';
import { ServicePorts, httpConfig, startService } from '@cz/common';
import app from './app';
import { keyServiceSettings, keysDatabaseConfig } from './config';

assertNationalCryptoAvailable();
await startService({
  service: 'keyservice',
  http: httpConfig('keyservice', ServicePorts.keyservice),
  plugin: app,
  pluginOptions: { database: keysDatabaseConfig(), settings: keyServiceSettings() },
});
