import { assertNationalCryptoAvailable } from '@cz/common/crypto';
import { ServicePorts, databaseConfig, httpConfig, keyProviderFromEnv, startService } from '@cz/common';
import app from './app';
import { pullerSettingsFromEnv } from './config';

assertNationalCryptoAvailable();
await startService({
  service: 'puller',
  http: httpConfig('puller', ServicePorts.puller),
  plugin: app,
  pluginOptions: {
    database: databaseConfig(),
    keys: keyProviderFromEnv(),
    settings: pullerSettingsFromEnv(),
  },
});
