import { fileURLToPath } from 'node:url';
import { assertNationalCryptoAvailable, hkdfSm3 } from '@cz/common/crypto';
import {
  ServicePorts,
  databaseConfig,
  envString,
  httpConfig,
  keyProviderFromEnv,
  startService,
} from '@cz/common';
import app from './app';

assertNationalCryptoAvailable();
const masterKey = Buffer.from(envString('CZ_DEV_MASTER_KEY'), 'hex');
await startService({
  service: 'portal',
  http: httpConfig('portal', ServicePorts.portal),
  plugin: app,
  pluginOptions: {
    database: databaseConfig(),
    keys: keyProviderFromEnv(),
    cursorKey: hkdfSm3(masterKey, Buffer.alloc(0), 'cz/portal/cursor', 32),
    consoleRoot: envString('CZ_CONSOLE_ROOT', fileURLToPath(new URL('../../../web/dist', import.meta.url))),
  },
});
