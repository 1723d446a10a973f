/**
 * "Nothing more is coming": waits until a consumer group has committed everything that was on its
 * topics when the wait began. Negative checks ("stored exactly once", "nothing in the DLQ") are
 * asserted after this instead of after a sleep, which was either too short on a slow machine or
 * wasted time on a fast one.
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { Topics, type Topic } from '@cz/contracts';
import { kafkaTransport } from '@cz/common';

export interface DrainOptions {
  /** how long to wait before failing (default 30 s) */
  timeoutMs?: number;
  /** time between two looks at the offsets (default 200 ms) */
  pollMs?: number;
}

/** A consumer group and the topics it reads. */
export interface GroupTopics {
  groupId: string;
  topics: readonly string[];
}

interface PartitionTarget {
  topic: string;
  partition: number;
  /** the end offset (high watermark) when the wait began */
  end: bigint;
  /** the first offset still on the broker: a partition with end = start has nothing to consume */
  start: bigint;
}

/**
 * Resolves once every group has committed, on every partition of its topics, an offset at or past
 * the partition's end offset as it was when this was called. Records produced later (by other
 * tests on the shared Kafka) are not waited for. Fails after `timeoutMs` naming the partitions
 * that lag.
 */
export async function drained(groups: readonly GroupTopics[], options: DrainOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30000;
  const pollMs = options.pollMs ?? 200;
  const kafka = new Kafka({
    clientId: 'cz-test-drain',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const targets = new Map<string, PartitionTarget[]>();
    for (const topic of new Set(groups.flatMap((group) => group.topics))) {
      const offsets = await admin.fetchTopicOffsets(topic);
      targets.set(
        topic,
        offsets.map(({ partition, high, low }) => ({
          topic,
          partition,
          end: BigInt(high),
          start: BigInt(low),
        })),
      );
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let lagging: string[];
      try {
        lagging = await laggingPartitions(admin, groups, targets);
      } catch (err) {
        // e.g. NOT_COORDINATOR_FOR_GROUP while a fresh group's coordinator loads: look again
        if (!(err as { retriable?: boolean }).retriable) throw err;
        lagging = [`offsets not readable yet: ${(err as Error).message}`];
      }
      if (lagging.length === 0) return;
      if (Date.now() >= deadline) {
        throw new Error(`consumer groups not drained after ${timeoutMs} ms: ${lagging.join('; ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await admin.disconnect();
  }
}

/** The partitions some group has not committed up to their target end offset, described. */
async function laggingPartitions(
  admin: Admin,
  groups: readonly GroupTopics[],
  targets: Map<string, PartitionTarget[]>,
): Promise<string[]> {
  const lagging: string[] = [];
  for (const { groupId, topics } of groups) {
    const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
    for (const { topic, partitions } of committed) {
      const offsetOf = new Map(partitions.map(({ partition, offset }) => [partition, BigInt(offset)]));
      for (const target of targets.get(topic) ?? []) {
        // -1: the group has committed nothing on this partition yet
        const offset = offsetOf.get(target.partition) ?? -1n;
        if (target.end === target.start || offset >= target.end) continue;
        lagging.push(`${groupId} ${topic}[${target.partition}] committed ${offset} < end ${target.end}`);
      }
    }
  }
  return lagging;
}

/**
 * The archiver's consumer groups: `groupId` reads the chat topic, and the calls, events and alerts
 * consumers add a suffix to it (see the archiver's plugins/consumers).
 */
export function archiverGroups(groupId: string): GroupTopics[] {
  return [
    { groupId, topics: [Topics.messages] },
    { groupId: `${groupId}-calls`, topics: [Topics.calls] },
    { groupId: `${groupId}-events`, topics: [Topics.events] },
    { groupId: `${groupId}-alerts`, topics: [Topics.alerts] },
  ];
}

/**
 * Resolves once the consumers of an archiver built by `buildArchiver` have drained their topics:
 * all four, or those of `topics` (a fresh group reads its topic's whole history first, so waiting
 * only for the topics a test wrote to is quicker).
 */
export async function archiverDrained(
  archiver: { groupId: string },
  options: DrainOptions & { topics?: readonly Topic[] } = {},
): Promise<void> {
  const { topics, ...drainOptions } = options;
  const groups = archiverGroups(archiver.groupId).filter(
    (group) => !topics || group.topics.some((topic) => topics.includes(topic as Topic)),
  );
  await drained(groups, drainOptions);
}
