import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Topics, type AlertV1, type SecurityAlertKind } from '@cz/contracts';
import { alertRecord, callerMayActFor, callerOf, corpNotAllowed, sendDurably } from '@cz/common';

/** The alert kind of a caller writing for a corp it was not granted. */
export const FOREIGN_CORP_ALERT: SecurityAlertKind = 'security.foreign_corp';

/**
 * Refuses a whole request whose records belong to a corp its caller may not write (403
 * `corp_not_allowed`, naming the records and the corp; nothing of it is produced), and audits the
 * attempt: a log line and a critical `cz.alert.v1` naming the caller, the corp and the count, never
 * content. The alert is raised before the refusal; if Kafka cannot take it, the log line remains.
 */
export async function assertCallerCorp(
  app: FastifyInstance,
  request: FastifyRequest,
  corpId: string,
  records: number,
): Promise<void> {
  const caller = callerOf(request);
  if (callerMayActFor(caller, corpId)) return;
  const route = request.routeOptions.url ?? '';
  request.log.warn({ caller: caller.name, corpId, records, route }, 'write for a foreign corp refused');
  const alert: AlertV1 = {
    schema: 'cz.alert.v1',
    id: randomBytes(16).toString('hex'),
    corpId,
    kind: FOREIGN_CORP_ALERT,
    severity: 'critical',
    source: 'ingest',
    raisedAt: Date.now(),
    detail: { caller: caller.name, corp: corpId, records, route },
  };
  try {
    await sendDurably(await app.producer(), Topics.alerts, [await alertRecord(alert, app.keys)]);
  } catch (err) {
    request.log.error({ err, alertId: alert.id }, 'security alert not published (the refusal stands)');
  }
  const which = records === 1 ? 'record 0' : `records 0..${records - 1}`;
  throw corpNotAllowed(caller.name, corpId, `${which} of this request; nothing was accepted`);
}
