import { assertNationalCryptoAvailable } from '@cz/common/crypto';
import { ServicePorts, databaseConfig, httpConfig, keyProviderFromEnv, startService } from '@cz/common';
import app from './app';
import { portalSettingsFromEnv } from './config';

assertNationalCryptoAvailable();
await startService({
  service: 'portal',
  http: httpConfig('portal', ServicePorts.portal),
  plugin: app,
  pluginOptions: {
    database: databaseConfig(),
    keys: keyProviderFromEnv(),
    ...portalSettingsFromEnv(),
  },
});
