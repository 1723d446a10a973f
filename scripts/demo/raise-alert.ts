/**
 * Raises one alert on `cz.alert.v1` about a chat message or a call, sealed like every Cunzheng
 * record, the way the compliance service will once it exists: for demos and the console's
 * end-to-end test. The archiver attaches it to the record (also if the record comes later). The
 * alert id is derived from (corp, target, kind), so raising the same alert again changes nothing.
 *
 *   npx tsx scripts/demo/raise-alert.ts --corp ww_demo_bank --msgid demo-12-3 \
 *     [--severity critical] [--kind lexicon_hit] [--rule R-001] [--category guaranteed_return]
 *   npx tsx scripts/demo/raise-alert.ts --corp ww_demo_bank --call-id CALL-1 --kind opening_missing
 *
 * Prints the alert id. Needs the local stack's settings (.stack/*.env) for Kafka and the key service.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Topics, type AlertSeverity, type AlertV1 } from '@cz/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { alertRecord, createProducer, kafkaConfig, keyProviderFromEnv, sendDurably } from '@cz/common';
import { loadStackEnv } from '@cz/testkit';

const { values } = parseArgs({
  options: {
    corp: { type: 'string' },
    msgid: { type: 'string' },
    'call-id': { type: 'string' },
    severity: { type: 'string', default: 'warning' },
    kind: { type: 'string', default: 'lexicon_hit' },
    rule: { type: 'string' },
    category: { type: 'string' },
  },
});
const severities: AlertSeverity[] = ['info', 'warning', 'critical'];
if (!values.corp || (!values.msgid && !values['call-id']))
  throw new Error('usage: raise-alert.ts --corp <corpId> (--msgid <msgid> | --call-id <callId>) [options]');
if (!severities.includes(values.severity as AlertSeverity))
  throw new Error(`--severity must be one of ${severities.join(', ')}`);

loadStackEnv();
const keys = keyProviderFromEnv();
const id = createHash('sm3')
  .update(
    JSON.stringify(['demo-alert', values.corp, values.msgid ?? null, values['call-id'] ?? null, values.kind]),
  )
  .digest('hex')
  .slice(0, 32);
const alert: AlertV1 = {
  schema: 'cz.alert.v1',
  id,
  corpId: values.corp,
  kind: values.kind,
  severity: values.severity as AlertSeverity,
  source: 'demo',
  raisedAt: Date.now(),
  ...(values.msgid ? { msgid: values.msgid } : {}),
  ...(values['call-id'] ? { callId: values['call-id'] } : {}),
  detail: {
    ...(values.rule ? { rule: values.rule } : {}),
    ...(values.category ? { category: values.category } : {}),
  },
};

const producer = createProducer(new Kafka({ ...kafkaConfig('cz-demo-alert'), logLevel: logLevel.NOTHING }));
await producer.connect();
try {
  await sendDurably(producer, Topics.alerts, [await alertRecord(alert, keys)]);
} finally {
  await producer.disconnect();
}
console.log(id);
