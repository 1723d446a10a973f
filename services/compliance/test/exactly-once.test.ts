/**
 * Exactly once per (record, rule, lexicon version) across a compliance restart mid-stream and a
 * re-delivery of everything (a crash after the batch's transaction and before its offsets were
 * committed, or a rebalance): the same alert ids, no duplicate rows, no duplicate cz.alert.v1 in
 * the archiver's tables.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Topics } from '@cz/contracts';
import { createServer, kafkaTransport, keyProviderFromEnv, messageArchiveId } from '@cz/common';
import {
  buildArchiver,
  buildIngest,
  callerHeaders,
  createTestDatabase,
  eventually,
  loadStackEnv,
  uniqueCorp,
  type TestArchiver,
  type TestDatabase,
} from '@cz/testkit';
import { complianceAlertId } from '../src/flow/alerts';
import { publishedLexicon } from '../src/flow/lexicon-access';
import { buildCompliance, complianceDrained, complianceReady, type TestCompliance } from './flow-kit';

loadStackEnv();
const keys = keyProviderFromEnv();

/** Cleans up what was built, whatever failed before (a failed `before` leaves some unset). */
const quietly = async (step: () => Promise<unknown> | undefined) => {
  try {
    await step();
  } catch {
    // not built
  }
};

const PHRASES = ['这款产品保本保息', '稳赚不赔，放心', '保本保息，到期刚性兑付', '加我私人微信，保本保息'];

describe('compliance exactly once across restarts (real stack)', () => {
  let db: TestDatabase;
  let archiverApp: TestArchiver;
  let ingestApp: ReturnType<typeof createServer>;
  let first: TestCompliance | undefined;
  let second: TestCompliance | undefined;
  const kafka = new Kafka({
    clientId: 'cz-compliance-eo-test',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();

  before(async () => {
    db = await createTestDatabase();
    archiverApp = await buildArchiver(db, keys, 'cz-archiver-compliance-eo');
    ingestApp = await buildIngest(keys, 'cz-ingest-compliance-eo');
    await admin.connect();
  });
  after(async () => {
    await first?.close();
    await second?.close();
    await quietly(() => admin.disconnect());
    await quietly(() => ingestApp.close());
    await quietly(() => archiverApp.close());
    await quietly(() => db.drop());
  });

  it('[REG-03] a restart mid-batch and a re-delivery of every record raise exactly the expected alert ids', async () => {
    const corpId = uniqueCorp('ceo');
    const count = 300;
    const start = await admin.fetchTopicOffsets(Topics.messages);
    const now = Date.now() - 3600000;
    const texts = Array.from({ length: count }, (_, i) => `第${i}条：${PHRASES[i % PHRASES.length]!}`);
    for (let i = 0; i < count; i += 100) {
      const res = await ingestApp.inject({
        method: 'POST',
        url: '/v1/wecom/messages',
        headers: callerHeaders(),
        payload: {
          corpId,
          messages: texts.slice(i, i + 100).map((content, j) => ({
            msgid: `eo-${i + j}`,
            action: 'send',
            from: 'liqiang',
            tolist: ['wmCust7'],
            msgtime: now + i + j,
            msgtype: 'text',
            text: { content },
          })),
        },
      });
      assert.equal(res.statusCode, 202, res.body);
    }

    // small batches so that the first instance is stopped with work left
    first = await buildCompliance(db, keys, { partitionsConsumedConcurrently: 1 });
    const groupId = first.groupId;
    const lexicon = publishedLexicon(first);
    assert.ok(lexicon, 'a published lexicon');
    const expected = new Set(
      texts.flatMap((content, i) =>
        [...new Set(lexicon.scan(content).map((h) => h.ruleId))].map((ruleId) =>
          complianceAlertId({ corpId, kind: 'message', recordId: `eo-${i}` }, ruleId, lexicon.version),
        ),
      ),
    );
    assert.ok(expected.size >= count, 'every message has at least one hit');
    await complianceReady(first);
    await eventually(
      'some alerts raised',
      async () => {
        const [row] = await db.query<{ n: string }>(
          'SELECT COUNT(*) AS n FROM compliance_alert WHERE corp_id = ?',
          [corpId],
        );
        return Number(row?.n) > 0 ? true : undefined;
      },
      240000,
    );
    await first.close();
    first = undefined;
    const [midway] = await db.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM compliance_alert WHERE corp_id = ?',
      [corpId],
    );

    // as if the first instance had crashed after its transactions and before committing offsets:
    // the group starts again from before the test's records
    await admin.setOffsets({
      groupId,
      topic: Topics.messages,
      partitions: start.map(({ partition, offset }) => ({ partition, offset })),
    });
    second = await buildCompliance(db, keys, { groupId });
    await complianceReady(second);
    await complianceDrained(groupId, 240000);
    await eventually('every alert published', async () => {
      const [row] = await db.query<{ n: string }>(
        'SELECT COUNT(*) AS n FROM compliance_alert WHERE corp_id = ? AND published_at IS NULL',
        [corpId],
      );
      return Number(row?.n) === 0 ? true : undefined;
    });

    const rows = await db.query<{ id: string }>('SELECT id FROM compliance_alert WHERE corp_id = ?', [
      corpId,
    ]);
    assert.ok(Number(midway?.n) <= rows.length);
    assert.deepEqual(new Set(rows.map((r) => r.id)), expected, 'exactly the expected alert ids');
    const [events] = await db.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM compliance_alert_event e JOIN compliance_alert a ON a.id = e.alert_id
        WHERE a.corp_id = ? AND e.action = 'raised'`,
      [corpId],
    );
    assert.equal(Number(events?.n), expected.size, 'one raised event per alert');

    // the archiver: one row per alert id and each counted once on its message
    await eventually(
      'the archiver has every alert',
      async () => {
        const [row] = await db.query<{ n: string }>(
          "SELECT COUNT(*) AS n FROM alert WHERE corp_id = ? AND source = 'compliance'",
          [corpId],
        );
        return Number(row?.n) === expected.size ? true : undefined;
      },
      60000,
    );
    const [targets] = await db.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM alert_target WHERE doc_id IN (?)',
      [texts.map((_, i) => Buffer.from(messageArchiveId(corpId, `eo-${i}`), 'hex'))],
    );
    assert.equal(Number(targets?.n), expected.size, 'each alert attached once to its message');
  });
});
