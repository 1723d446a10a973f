import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import {
  WeComMessage,
  WeComMsgTypes,
  WeComSwitchRecord,
  isKnownMsgtype,
  type RecordProblem,
  type WeComTypeSpec,
} from '@cz/contracts';
import { pointerToken } from './extract';

/** A record that passed validation. */
export interface ValidRecord {
  /** the envelope; for a switch record filled in from `user` / `time` (to nobody) */
  envelope: WeComMessage;
  /** the record exactly as received, archived whole */
  raw: Record<string, unknown>;
  /** msgtype is one of WeComMsgTypes (switch records count as known) */
  known: boolean;
}

export type Validation =
  { ok: true; record: ValidRecord } | { ok: false; msgid?: string; errors: RecordProblem[] };

const MAX_PROBLEMS = 20;
const checkEnvelope = TypeCompiler.Compile(WeComMessage);
const checkSwitch = TypeCompiler.Compile(WeComSwitchRecord);
const payloadChecks = new Map<string, TypeCheck<TSchema>>(
  Object.entries(WeComMsgTypes).map(([msgtype, spec]) => [msgtype, TypeCompiler.Compile(spec.payload)]),
);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Schema errors as JSON-pointer problems under `prefix`, one per path (TypeBox reports union branches separately). */
function problemsOf(check: TypeCheck<TSchema>, value: unknown, prefix: string, into: RecordProblem[]): void {
  for (const error of check.Errors(value)) {
    const path = `${prefix}${error.path}`;
    if (!into.some((e) => e.path === path)) into.push({ path, message: error.message });
    if (into.length >= MAX_PROBLEMS) return;
  }
}

function fail(msgid: string | undefined, errors: RecordProblem[]): Validation {
  return msgid === undefined ? { ok: false, errors } : { ok: false, msgid, errors };
}

function validateSwitch(raw: Record<string, unknown>, msgid: string | undefined): Validation {
  const errors: RecordProblem[] = [];
  problemsOf(checkSwitch, raw, '', errors);
  if (errors.length > 0) return fail(msgid, errors);
  const record = raw as WeComSwitchRecord;
  const user = record.user ?? record.from;
  const time = record.time ?? record.msgtime;
  if (user === undefined)
    errors.push({ path: '/user', message: 'a switch record needs user (who switched corp)' });
  if (time === undefined)
    errors.push({ path: '/time', message: 'a switch record needs time (ms since the epoch)' });
  if (user === undefined || time === undefined) return fail(msgid, errors);
  const envelope: WeComMessage = {
    msgid: record.msgid,
    action: 'switch',
    from: user,
    tolist: [],
    msgtime: time,
  };
  if (record.seq !== undefined) envelope.seq = record.seq;
  return { ok: true, record: { envelope, raw, known: true } };
}

function validatePayload(
  msgtype: string,
  spec: WeComTypeSpec,
  raw: Record<string, unknown>,
  errors: RecordProblem[],
): void {
  const check = payloadChecks.get(msgtype)!;
  const key = spec.payloadKey;
  const at = `/${pointerToken(key)}`;
  const payload = raw[key];
  if (payload === undefined || payload === null) {
    // vote: WeCom's sample carries votetitle / voteitem at the top level of the record
    if (spec.payloadOptional) problemsOf(check, raw, '', errors);
    else errors.push({ path: at, message: `a ${msgtype} message needs its "${key}" object` });
    return;
  }
  if (!isObject(payload)) {
    errors.push({ path: at, message: `"${key}" of a ${msgtype} message must be an object` });
    return;
  }
  if (spec.media && !(typeof payload.sdkfileid === 'string' && payload.sdkfileid.length > 0)) {
    errors.push({
      path: `${at}/sdkfileid`,
      message: `a ${msgtype} message must carry ${key}.sdkfileid, its media reference: without it the media can never be fetched`,
    });
  }
  problemsOf(check, payload, at, errors);
}

/**
 * Validates one record of a batch on its own, so one bad record never sinks its neighbours: the
 * envelope strictly, the payload of a known msgtype against its schema (loose, but strict on what
 * the archive relies on). A msgtype Cunzheng does not know is accepted and flagged, not rejected.
 */
export function validateRecord(candidate: unknown): Validation {
  if (!isObject(candidate)) {
    return { ok: false, errors: [{ path: '', message: 'record must be a JSON object' }] };
  }
  const msgid = typeof candidate.msgid === 'string' ? candidate.msgid : undefined;
  if (candidate.action === 'switch') return validateSwitch(candidate, msgid);

  const errors: RecordProblem[] = [];
  problemsOf(checkEnvelope, candidate, '', errors);
  if (errors.length > 0) return fail(msgid, errors);
  const envelope = candidate as WeComMessage;
  if (!envelope.msgtype) {
    return fail(msgid, [
      { path: '/msgtype', message: `msgtype is required when action is ${envelope.action}` },
    ]);
  }
  if (!isKnownMsgtype(envelope.msgtype)) {
    return { ok: true, record: { envelope, raw: candidate, known: false } };
  }
  validatePayload(envelope.msgtype, WeComMsgTypes[envelope.msgtype], candidate, errors);
  if (errors.length > 0) return fail(msgid, errors);
  return { ok: true, record: { envelope, raw: candidate, known: true } };
}
