import { createHash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import type {
  AlertV1,
  ArchivedCallV1,
  ArchivedMessageV1,
  MessageView,
  SecurityAlertKind,
} from '@cz/contracts';
import { insertCompletenessAlerts } from '@cz/common';
import {
  bindingMismatch,
  CryptoError,
  openSealed,
  type KeyProvider,
  type SealBinding,
} from '@cz/common/crypto';
import { appendAudit } from './audit';

/*
 * Every sealed value the portal shows is opened against the row it was read from. A v2 value
 * carries its binding (kind, corp, record id) under its tag; a v1 value carries none, so its opened
 * content's own ids are compared with the row's. Either check failing means the value was moved
 * from another row (the attack: an executive's sealed_record copied into a row a branch user may
 * see): the record is not shown, the reply says why for that record, and the failure goes into
 * the audit trail (action `integrity.binding`), the log at error level, and a critical
 * `integrity.binding` alert through the alert outbox (`completeness_alert`), which the archiver
 * publishes on cz.alert.v1 for risk officers: the portal has no Kafka producer of its own.
 */

export interface MessageRowIds {
  id: string;
  corp_id: string;
  msgid: string;
  conversation_id: string;
}

export const messageBinding = (row: { id: string; corp_id: string }): SealBinding => ({
  kind: 'msg',
  corp: row.corp_id,
  id: row.id,
});

export const callBinding = (row: { id: string; corp_id: string }): SealBinding => ({
  kind: 'call',
  corp: row.corp_id,
  id: row.id,
});

export const transcriptBinding = (row: {
  call_pk: string;
  corp_id: string;
  source: string;
}): SealBinding => ({
  kind: 'transcript',
  corp: row.corp_id,
  id: `${row.call_pk}/${row.source}`,
});

export const alertBinding = (row: { id: string; corp_id: string }): SealBinding => ({
  kind: 'alert',
  corp: row.corp_id,
  id: row.id,
});

/** Opens a sealed JSON record bound to `binding`; `mismatch` names a field of the content that disagrees with the row. */
export async function openBoundJson<T>(
  sealed: Buffer,
  keys: KeyProvider,
  binding: SealBinding,
  mismatch: (value: T) => string | undefined,
): Promise<T> {
  const { plaintext } = await openSealed(sealed, keys, binding);
  const value = JSON.parse(plaintext.toString('utf8')) as T;
  // checked for v2 too: the writer bound what it sealed, this also catches a writer's mistake
  const field = mismatch(value);
  if (field) throw bindingMismatch(binding, `its content's ${field} differs from the row's`);
  return value;
}

export function messageMismatch(row: MessageRowIds) {
  return (record: ArchivedMessageV1): string | undefined => {
    if (record.id !== row.id) return 'id';
    if (record.corpId !== row.corp_id) return 'corpId';
    if (record.msgid !== row.msgid) return 'msgid';
    if (record.conversationId !== row.conversation_id) return 'conversationId';
    return undefined;
  };
}

export async function openMessageRecord(
  keys: KeyProvider,
  row: MessageRowIds & { sealed_record: Buffer },
): Promise<ArchivedMessageV1> {
  return openBoundJson(row.sealed_record, keys, messageBinding(row), messageMismatch(row));
}

export async function openCallRecord(
  keys: KeyProvider,
  row: { id: string; corp_id: string; call_id: string; sealed_record: Buffer },
): Promise<ArchivedCallV1> {
  return openBoundJson<ArchivedCallV1>(row.sealed_record, keys, callBinding(row), (record) => {
    if (record.id !== row.id) return 'id';
    if (record.corpId !== row.corp_id) return 'corpId';
    if (record.callId !== row.call_id) return 'callId';
    return undefined;
  });
}

export async function openAlertRecord(
  keys: KeyProvider,
  row: { id: string; corp_id: string; sealed_record: Buffer },
): Promise<AlertV1> {
  return openBoundJson<AlertV1>(row.sealed_record, keys, alertBinding(row), (alert) => {
    if (alert.id !== row.id) return 'id';
    if (alert.corpId !== row.corp_id) return 'corpId';
    return undefined;
  });
}

/** A transcript is plain text: a v2 one is checked by its binding; a v1 one has nothing to compare (the migration re-seals it as v2). */
export async function openTranscript(
  keys: KeyProvider,
  row: { call_pk: string; corp_id: string; source: string; sealed_text: Buffer },
): Promise<string> {
  return (await openSealed(row.sealed_text, keys, transcriptBinding(row))).plaintext.toString('utf8');
}

/** True for the failures that mean "this value does not belong here / was altered" (not an outage). */
export function isIntegrityError(err: unknown): err is CryptoError {
  return err instanceof CryptoError;
}

export interface IntegrityContext {
  db: DataSource;
  /** absent where no request is at hand (search internals): the audit entry is the record */
  log?: FastifyBaseLogger;
  /** the signed-in user whose read found it */
  actor: string;
}

export function integrityContext(db: DataSource, request: FastifyRequest): IntegrityContext {
  return { db, log: request.log, actor: request.user?.username ?? 'unknown' };
}

const INTEGRITY_ALERT: SecurityAlertKind = 'integrity.binding';

/**
 * One alert per failing record and code, whoever reads it and however often: the id is derived
 * from the record, so a second insert is a duplicate key and is ignored.
 */
async function raiseIntegrityAlert(db: DataSource, binding: SealBinding, code: string): Promise<void> {
  const id = createHash('sm3')
    .update(`${INTEGRITY_ALERT}\n${binding.kind}\n${binding.corp}\n${binding.id}\n${code}`)
    .digest('hex')
    .slice(0, 32);
  const alert: AlertV1 = {
    schema: 'cz.alert.v1',
    id,
    corpId: binding.corp,
    kind: INTEGRITY_ALERT,
    severity: 'critical',
    source: 'portal',
    raisedAt: Date.now(),
    detail: { recordKind: binding.kind, recordId: binding.id, code },
  };
  try {
    await db.transaction((manager) => insertCompletenessAlerts(manager, [alert]));
  } catch (err) {
    if ((err as { code?: string }).code !== 'ER_DUP_ENTRY') throw err;
  }
}

/** Records a record that failed to open against its row: audit trail, error log (ids and code only), alert. */
export async function reportIntegrityFailure(
  ctx: IntegrityContext,
  binding: SealBinding,
  err: CryptoError,
): Promise<void> {
  ctx.log?.error(
    {
      kind: binding.kind,
      corpId: binding.corp,
      recordId: binding.id,
      code: err.code,
      alert: 'integrity.binding',
    },
    'sealed value failed its integrity check against its row: not shown',
  );
  await appendAudit(ctx.db, {
    actor: ctx.actor,
    action: 'integrity.binding',
    target: `${binding.kind}:${binding.id}`,
    detail: { corpId: binding.corp, kind: binding.kind, id: binding.id, code: err.code },
  });
  await raiseIntegrityAlert(ctx.db, binding, err.code);
}

/** What a message list shows for a row whose sealed record failed: the row's columns, no content. */
export function unreadableMessageView(
  row: MessageRowIds & {
    action: string;
    msgtype: string | null;
    sender: string;
    room_id: string | null;
    msgtime: Date;
    recalled: number | string;
  },
  err: CryptoError,
): MessageView {
  return {
    id: row.id,
    corpId: row.corp_id,
    msgid: row.msgid,
    action: row.action,
    msgtype: row.msgtype,
    from: row.sender,
    tolist: [],
    roomid: row.room_id,
    conversationId: row.conversation_id,
    msgtime: new Date(row.msgtime).toISOString(),
    text: '',
    media: [],
    recalled: Number(row.recalled) === 1,
    recallOf: null,
    unknownType: false,
    integrityError: err.code,
  };
}
