import { assertNationalCryptoAvailable } from '@cz/common/crypto';
import { ServicePorts, httpConfig, startService } from '@cz/common';
import app from './app';

assertNationalCryptoAvailable();
await startService({
  service: 'compliance',
  http: httpConfig('compliance', ServicePorts.compliance),
  plugin: app,
  pluginOptions: {},
});
