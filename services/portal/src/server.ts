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
// Page cursors are signed with the portal's own secret (the same on every replica), not with a
// data key: a cursor protects a position in a list, not archived content.
const cursorSecret = envString('CZ_PORTAL_CURSOR_KEY');
if (cursorSecret.length < 32) throw new Error('CZ_PORTAL_CURSOR_KEY must be at least 32 characters');
await startService({
  service: 'portal',
  http: httpConfig('portal', ServicePorts.portal),
  plugin: app,
  pluginOptions: {
    database: databaseConfig(),
    keys: keyProviderFromEnv(),
    cursorKey: hkdfSm3(Buffer.from(cursorSecret, 'utf8'), Buffer.alloc(0), 'cz/portal/cursor', 32),
    consoleRoot: envString('CZ_CONSOLE_ROOT', fileURLToPath(new URL('../../../web/dist', import.meta.url))),
    ...(process.env.CZ_RECORDINGS_READ_TOKEN
      ? {
          recordings: {
            url: envString('CZ_RECORDINGS_URL', 'http://127.0.0.1:8084'),
            token: process.env.CZ_RECORDINGS_READ_TOKEN,
          },
        }
      : {}),
  },
});
