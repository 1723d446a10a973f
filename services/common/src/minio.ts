import { Client } from 'minio';
import type { MinioConfig } from './config';
import { httpsAgent } from './tls';

/** With `useSSL`, MinIO's certificate is verified against the configured CA (an agent of our own). */
export function createMinioClient(config: MinioConfig): Client {
  return new Client({
    endPoint: config.endPoint,
    port: config.port,
    useSSL: config.useSSL,
    accessKey: config.accessKey,
    secretKey: config.secretKey,
    ...(config.useSSL && config.tls ? { transportAgent: httpsAgent(config.tls) } : {}),
  });
}

/**
 * Creates the bucket with object lock enabled (it can only be enabled at creation) and checks an
 * existing bucket has it: without object lock no COMPLIANCE retention can be set on objects.
 */
export async function ensureLockedBucket(client: Client, bucket: string): Promise<void> {
  if (!(await client.bucketExists(bucket))) {
    await client.makeBucket(bucket, '', { ObjectLocking: true });
  }
  let enabled: string | undefined;
  try {
    enabled =
      // minio's typings declare void here; the call returns a promise of the bucket's lock configuration
      // eslint-disable-next-line @typescript-eslint/await-thenable
      ((await client.getObjectLockConfig(bucket)) as unknown as { objectLockEnabled?: string } | undefined)
        ?.objectLockEnabled;
  } catch {
    enabled = undefined;
  }
  if (enabled !== 'Enabled') {
    throw new Error(
      `bucket ${bucket} exists without object lock; records there could be deleted — recreate it with object lock`,
    );
  }
}
