/**
 * The compliance service in-process for the flow's tests: the whole app on a test database, with
 * consumer groups of its own (so it reads every topic from the beginning and competes with no
 * other test), and helpers to wait for it.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createServer, kafkaConfig, kafkaTransport } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { drained, eventually, testCallerAuth, type TestDatabase } from '@cz/testkit';
import compliance from '../src/app';
import type { ScanSettings } from '../src/flow/settings';
import { scanGroups } from '../src/plugins/consumers/scan-consumers';

export type TestCompliance = ReturnType<typeof createServer> & { readonly groupId: string };

export async function buildCompliance(
  db: TestDatabase,
  keys: KeyProvider,
  scan: Partial<ScanSettings> = {},
  options: { logger?: boolean; liveFromNow?: boolean } = {},
): Promise<TestCompliance> {
  const groupId = scan.groupId ?? `cz-compliance-test-${randomBytes(4).toString('hex')}`;
  if (options.liveFromNow) await skipHistory(groupId);
  const app = createServer('compliance', { logger: options.logger ?? false });
  await app.register(compliance, {
    database: db.config,
    kafka: kafkaConfig(`cz-compliance-test-${randomBytes(2).toString('hex')}`),
    keys,
    callers: testCallerAuth(),
    scan: { ...scan, groupId },
  });
  await app.ready();
  return Object.assign(app, { groupId });
}

/** Resolves once the app's scan consumers have joined their groups (GET /readyz answers 200). */
export async function complianceReady(app: TestCompliance, timeoutMs = 90000): Promise<void> {
  await eventually(
    'compliance ready (consumers joined)',
    async () => ((await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200 ? true : undefined),
    timeoutMs,
  );
}

/** Resolves once the app's scan groups have committed everything that is on their topics now. */
export async function complianceDrained(groupId: string, timeoutMs = 60000): Promise<void> {
  await drained(scanGroups(groupId), { timeoutMs });
}

/** Commits the topics' current ends for the scan groups of `groupId`: its live scan starts from now. */
async function skipHistory(groupId: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'cz-compliance-test-offsets',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const { groupId: group, topics } of scanGroups(groupId)) {
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        await admin.setOffsets({
          groupId: group,
          topic,
          partitions: ends.map(({ partition, high }) => ({ partition, offset: high })),
        });
      }
    }
  } finally {
    await admin.disconnect();
  }
}
