import { assertNationalCryptoAvailable } from '@cz/common/crypto';
import { ServicePorts, callerAuthFromEnv, httpConfig, keyProviderFromEnv, startService } from '@cz/common';
import app from './app';
import { archiverConfig } from './config';

assertNationalCryptoAvailable();
// one key client: keys for sealing and opening, and the key service's answer to who is calling
const keys = keyProviderFromEnv();
await startService({
  service: 'archiver',
  http: httpConfig('archiver', ServicePorts.archiver),
  plugin: app,
  // the environment is read here, once; the app gets plain settings
  pluginOptions: { ...archiverConfig(), keys, callers: callerAuthFromEnv(keys) },
});
