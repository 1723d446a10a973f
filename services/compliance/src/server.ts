import { assertNationalCryptoAvailable } from '@cz/common/crypto';
import { callerAuthFromEnv, keyProviderFromEnv, startService } from '@cz/common';
import app from './app';
import { complianceConfigFromEnv } from './config';

assertNationalCryptoAvailable();
const { http, ...settings } = complianceConfigFromEnv();
// one key client: keys for sealing and opening, and the key service's answer to who is calling
const keys = keyProviderFromEnv();
await startService({
  service: 'compliance',
  http,
  plugin: app,
  pluginOptions: { ...settings, keys, callers: callerAuthFromEnv(keys) },
});
