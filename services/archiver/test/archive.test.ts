import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaHeaders, Topics } from '@cz/contracts';
import { createServer, kafkaTransport, keyProviderFromEnv, messageArchiveId } from '@cz/common';
import { sealBuffer } from '@cz/common/crypto';
import {
  archiverDrained,
  buildArchiver,
  buildIngest,
  callerHeaders,
  createTestDatabase,
  eventually,
  loadStackEnv,
  readDeadLetters,
  type TestArchiver,
  type TestDatabase,
  uniqueCorp,
} from '@cz/testkit';

loadStackEnv();
const keys = keyProviderFromEnv();

describe('archiver: Kafka → MariaDB (real stack)', () => {
  let db: TestDatabase;
  let archiverApp: TestArchiver;
  let ingestApp: ReturnType<typeof createServer>;
  const kafka = new Kafka({
    clientId: 'cz-archiver-test',
    ...kafkaTransport(),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });

  before(async () => {
    db = await createTestDatabase();
    archiverApp = await buildArchiver(db, keys, 'cz-archiver-test', {
      logger: process.env.CZ_TEST_LOGS === '1',
    });
    ingestApp = await buildIngest(keys, 'cz-ingest-test');
    await producer.connect();
  });
  after(async () => {
    await producer.disconnect();
    await ingestApp.close();
    await archiverApp.close();
    await db.drop();
  });

  test('[REG-01][REG-06] messages are stored once, sealed, with no plaintext column', async () => {
    const corpId = uniqueCorp();
    const body = '保本保息的产品我们不能承诺，客户手机13900001111，身份证110101199003071234';
    const messages = [
      {
        msgid: 'a1',
        action: 'send',
        from: 'liqiang',
        tolist: ['wmCust9'],
        msgtime: Date.UTC(2026, 9, 1, 1),
        msgtype: 'text',
        text: { content: body },
      },
      {
        msgid: 'a2',
        action: 'send',
        from: 'wmCust9',
        tolist: ['liqiang'],
        msgtime: Date.UTC(2026, 9, 1, 2),
        msgtype: 'text',
        text: { content: '好的' },
      },
      {
        msgid: 'g1',
        action: 'send',
        from: 'liqiang',
        tolist: ['wmCust9', 'wangfang'],
        roomid: 'wrRoom1',
        msgtime: Date.UTC(2026, 9, 1, 3),
        msgtype: 'text',
        text: { content: '群消息' },
      },
    ];
    const post = () =>
      ingestApp.inject({
        method: 'POST',
        url: '/v1/wecom/messages',
        headers: callerHeaders(),
        payload: { corpId, messages },
      });
    assert.equal((await post()).statusCode, 202);
    // the same batch again, as a client retry would: still exactly three rows
    assert.equal((await post()).statusCode, 202);

    const rows = await eventually('three archived rows', async () => {
      const found = await db.query<{
        msgid: string;
        conversation_id: string;
        sealed_record: Buffer;
        kek_version: number;
      }>(
        'SELECT msgid, conversation_id, sealed_record, kek_version FROM message WHERE corp_id = ? ORDER BY msgid',
        [corpId],
      );
      return found.length >= 3 ? found : undefined;
    });
    // counted once the archiver has consumed everything posted, the retry included
    await archiverDrained(archiverApp, { topics: [Topics.messages] });
    const again = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM message WHERE corp_id = ?', [
      corpId,
    ]);
    assert.equal(Number(again[0]!.n), 3, 'idempotent on (corp, msgid)');
    assert.deepEqual(
      rows.map((r) => r.conversation_id),
      ['p:liqiang|wmCust9', 'p:liqiang|wmCust9', 'g:wrRoom1'],
    );

    const recipients = await db.query<{ recipient: string }>(
      'SELECT r.recipient FROM message_recipient r JOIN message m ON m.id = r.message_id WHERE m.corp_id = ? AND m.msgid = ? ORDER BY r.recipient',
      [corpId, 'g1'],
    );
    assert.deepEqual(
      recipients.map((r) => r.recipient),
      ['wangfang', 'wmCust9'],
    );

    // No plaintext at rest: scan every column of every row of every table in this database.
    for (const needle of ['保本保息', '13900001111', '110101199003071234', '群消息']) {
      const tables = await db.query<{ TABLE_NAME: string }>(
        'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
      );
      for (const { TABLE_NAME } of tables) {
        const all = await db.query<Record<string, unknown>>(`SELECT * FROM \`${TABLE_NAME}\``);
        for (const row of all) {
          for (const value of Object.values(row)) {
            const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
            assert.ok(
              !bytes.includes(Buffer.from(needle)),
              `plaintext "${needle}" found in table ${TABLE_NAME}`,
            );
          }
        }
      }
    }
  });

  test('a record that fails its integrity check goes to the DLQ with the error, and the rest are stored', async () => {
    const corpId = uniqueCorp('dlqcorp');
    const good = await sealBuffer(
      Buffer.from(
        JSON.stringify({
          schema: 'cz.msg.v1',
          id: messageArchiveId(corpId, 'good'),
          corpId,
          msgid: 'good',
          action: 'send',
          msgtype: 'text',
          from: 'u1',
          tolist: ['u2'],
          conversationId: 'p:u1|u2',
          msgtime: Date.UTC(2026, 0, 1),
          text: 'ok',
          raw: {},
          receivedAt: Date.now(),
        }),
      ),
      keys,
      'chat',
    );
    const tampered = Buffer.from(good);
    tampered[tampered.length - 40]! ^= 0x01;
    const wrongShape = await sealBuffer(
      Buffer.from(JSON.stringify({ schema: 'cz.msg.v1', corpId })),
      keys,
      'chat',
    );
    const marker = randomBytes(6).toString('hex');
    await producer.send({
      topic: Topics.messages,
      acks: -1,
      messages: [
        { key: `${marker}-t`, value: tampered, headers: { [KafkaHeaders.corpId]: corpId } },
        { key: `${marker}-w`, value: wrongShape, headers: { [KafkaHeaders.corpId]: corpId } },
        { key: `${marker}-g`, value: good, headers: { [KafkaHeaders.corpId]: corpId } },
      ],
    });

    await eventually('the good record archived', async () => {
      const rows = await db.query('SELECT id FROM message WHERE corp_id = ? AND msgid = ?', [corpId, 'good']);
      return rows.length === 1 ? true : undefined;
    });

    const deadLetters = await readDeadLetters([Topics.messages], [archiverApp.groupId]);
    const letter = (kind: string) => deadLetters.of(corpId).find((l) => l.key === `${marker}-${kind}`);
    try {
      await eventually('both bad records in the DLQ', async () =>
        letter('t') && letter('w') ? true : undefined,
      );
      // the good record of the same batch is not dead-lettered, checked once everything is read
      await archiverDrained(archiverApp, { topics: [Topics.messages] });
      await deadLetters.drained();
    } finally {
      await deadLetters.stop();
    }
    assert.match(letter('t')!.error, /^crypto:/);
    assert.match(letter('w')!.error, /contract cz\.msg\.v1 violated/);
    assert.equal(letter('t')!.sourceTopic, Topics.messages);
    assert.equal(letter('g'), undefined);
  });
});
