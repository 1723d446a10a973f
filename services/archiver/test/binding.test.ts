import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { KafkaHeaders } from '@cz/contracts';
import { keyProviderFromEnv } from '@cz/common';
import { sealBuffer, type SealBinding } from '@cz/common/crypto';
import { archivedMessage, loadStackEnv } from '@cz/testkit';
import { decodeRecords } from '../src/records/open-record';

loadStackEnv();
const keys = keyProviderFromEnv();
const anything = (value: unknown) => ({ value });

const message = archivedMessage({
  corpId: 'bankA',
  msgid: 'bind-1',
  from: 'e1',
  tolist: ['wmX'],
  msgtime: Date.UTC(2026, 9, 1),
  text: '理财',
});

function kafkaMessage(value: Buffer, schema: string, corp: string): KafkaMessage {
  return {
    key: Buffer.from('k'),
    value,
    headers: { [KafkaHeaders.schema]: schema, [KafkaHeaders.corpId]: corp },
    timestamp: '0',
    attributes: 0,
    offset: '0',
    size: value.length,
  } as unknown as KafkaMessage;
}

const sealed = (binding: SealBinding, record: unknown = message) =>
  sealBuffer(Buffer.from(JSON.stringify(record)), keys, 'chat', binding);

describe('[REG-06] the archiver checks every Kafka value against its topic, corp header and record id (key service)', () => {
  test('a value bound to its own record, kind and corp is archived', async () => {
    const value = await sealed({ kind: 'msg', corp: 'bankA', id: message.id });
    const { records, poison } = await decodeRecords(
      [kafkaMessage(value, 'cz.msg.v1', 'bankA')],
      keys,
      anything,
    );
    assert.equal(poison.length, 0, poison[0]?.error);
    assert.equal(records.length, 1);
  });

  for (const [what, value, schema, corp] of [
    [
      'replayed under another corp header',
      { kind: 'msg', corp: 'bankA', id: message.id },
      'cz.msg.v1',
      'bankB',
    ],
    [
      'on another topic (an event carrying a chat value)',
      { kind: 'msg', corp: 'bankA', id: message.id },
      'cz.event.v1',
      'bankA',
    ],
    ['bound to another record id', { kind: 'msg', corp: 'bankA', id: 'f'.repeat(32) }, 'cz.msg.v1', 'bankA'],
  ] as [string, SealBinding, string, string][]) {
    test(`[REG-06] moved sealed value ${what} → dead-lettered crypto:binding_mismatch, not archived`, async () => {
      const { records, poison } = await decodeRecords(
        [kafkaMessage(await sealed(value), schema, corp)],
        keys,
        anything,
      );
      assert.equal(records.length, 0);
      assert.match(poison[0]!.error, /^crypto:binding_mismatch/);
    });
  }

  test('[REG-06] a v1 value (no binding) whose record names another corp than its header → binding_mismatch', async () => {
    const value = await sealBuffer(Buffer.from(JSON.stringify(message)), keys, 'chat');
    const { records, poison } = await decodeRecords(
      [kafkaMessage(value, 'cz.msg.v1', 'bankB')],
      keys,
      anything,
    );
    assert.equal(records.length, 0);
    assert.match(poison[0]!.error, /^crypto:binding_mismatch/);
  });
});
