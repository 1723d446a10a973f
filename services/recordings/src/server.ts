import { assertNationalCryptoAvailable } from '@cz/common/crypto';
import { ServicePorts, envString, httpConfig, minioConfig, startService } from '@cz/common';
import app from './app';

assertNationalCryptoAvailable();
await startService({
  service: 'recordings',
  http: httpConfig('recordings', ServicePorts.recordings),
  plugin: app,
  pluginOptions: { minio: minioConfig(), bucket: envString('CZ_RECORDINGS_BUCKET', 'cz-recordings') },
});
