import { assertNationalCryptoAvailable } from '@cz/common/crypto';
import {
  ServicePorts,
  databaseConfig,
  envInt,
  httpConfig,
  kafkaConfig,
  keyProviderFromEnv,
  minioConfig,
  startService,
} from '@cz/common';
import app from './app';
import { settingsFromEnv } from './config';

assertNationalCryptoAvailable();
const settings = settingsFromEnv();
// one key-service client: data keys, and who holds a caller credential
const keys = keyProviderFromEnv();
const server = await startService({
  service: 'recordings',
  http: httpConfig('recordings', ServicePorts.recordings),
  plugin: app,
  pluginOptions: {
    minio: minioConfig(),
    database: databaseConfig(),
    kafka: kafkaConfig('cz-recordings'),
    keys,
    callers: { directory: keys },
    settings,
  },
});
// a 2 GB recording from a slow call-centre link takes longer than the default two minutes
server.server.requestTimeout = envInt('CZ_RECORDINGS_REQUEST_TIMEOUT_MS', 60 * 60 * 1000);
