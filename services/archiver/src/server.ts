import { assertNationalCryptoAvailable } from '@cz/common/crypto';
import { ServicePorts, httpConfig, keyProviderFromEnv, startService } from '@cz/common';
import app from './app';
import { archiverConfig } from './config';

assertNationalCryptoAvailable();
await startService({
  service: 'archiver',
  http: httpConfig('archiver', ServicePorts.archiver),
  plugin: app,
  // the environment is read here, once; the app gets plain settings
  pluginOptions: { ...archiverConfig(), keys: keyProviderFromEnv() },
});
