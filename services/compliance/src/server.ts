import { assertNationalCryptoAvailable } from '@cz/common/crypto';
import { startService } from '@cz/common';
import app from './app';
import { complianceConfigFromEnv } from './config';

assertNationalCryptoAvailable();
const config = complianceConfigFromEnv();
await startService({ service: 'compliance', http: config.http, plugin: app, pluginOptions: {} });
