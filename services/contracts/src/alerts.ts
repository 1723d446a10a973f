import { Type, type Static } from '@sinclair/typebox';
import { CallId } from './calls';

export const AlertSeverity = Type.Union([
  Type.Literal('info'),
  Type.Literal('warning'),
  Type.Literal('critical'),
]);
export type AlertSeverity = Static<typeof AlertSeverity>;

/** Kinds raised by completeness tracking (archiver), the Finance-SDK puller and recordings. */
export const CompletenessAlertKind = Type.Union([
  /** seq numbers missing from the archive after the grace period */
  Type.Literal('seq_gap'),
  /** one seq archived under two different msgids */
  Type.Literal('seq_conflict'),
  /** the SDK returned a seq at or below one already pulled */
  Type.Literal('seq_regression'),
  /** a pulled record could not be decrypted or was rejected by ingest; kept in quarantine */
  Type.Literal('pull_quarantine'),
  /** media whose md5 never matched the md5sum of its message; stored with both digests */
  Type.Literal('media_md5_mismatch'),
  /** media that could not be fetched after every retry */
  Type.Literal('media_failed'),
  /**
   * a second, different upload for a call's recording or a chat media object that already had its
   * object: kept locked as a conflicting version for review; the original stays the one served
   */
  Type.Literal('recording_conflict'),
]);
export type CompletenessAlertKind = Static<typeof CompletenessAlertKind>;

/** Kinds raised when a caller oversteps its grants (the caller's name, the corp and counts; no content). */
export const SecurityAlertKind = Type.Union([
  /** a caller wrote records for a corp it was not granted: refused (403), nothing stored */
  Type.Literal('security.foreign_corp'),
  /**
   * a sealed value failed to open against the row it was read from (moved or altered in the
   * database): not shown to the reader; one alert per record, whoever reads it
   */
  Type.Literal('integrity.binding'),
  /**
   * a Kafka record compliance could not open or read (failed its integrity check, off-contract):
   * dead-lettered unscanned; one alert per record, with its topic position and the reason's code
   */
  Type.Literal('integrity.unreadable'),
]);
export type SecurityAlertKind = Static<typeof SecurityAlertKind>;

/**
 * The plaintext INSIDE the sealed value of a `cz.alert.v1` record. Minimal on purpose: compliance
 * rules add kinds of their own; `detail` carries identifiers and counts only, never message
 * content or personal data.
 */
export const AlertV1 = Type.Object(
  {
    schema: Type.Literal('cz.alert.v1'),
    /** stable id: a consumer that sees it twice (at-least-once outbox) keeps one */
    id: Type.String({ minLength: 1, maxLength: 64 }),
    corpId: Type.String(),
    kind: Type.String({ minLength: 1, maxLength: 32 }),
    severity: AlertSeverity,
    /** the service that raised it */
    source: Type.String(),
    /** milliseconds since the epoch */
    raisedAt: Type.Integer(),
    fromSeq: Type.Optional(Type.Integer({ minimum: 0 })),
    toSeq: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * the chat record the alert is about (WeCom msgid of `corpId`): the archiver attaches the alert
     * to that message, also when the alert arrives before the message is archived
     */
    msgid: Type.Optional(Type.String()),
    /**
     * the call the alert is about (call-centre call id of `corpId`, as in the CDR): attached to the
     * archived call like `msgid` to a message. An alert may name a message, a call, both or neither.
     */
    callId: Type.Optional(CallId),
    /**
     * compliance rules put `rule` (rule id) and `category` (lexicon category) here; the portal shows
     * those two next to the record, nothing else of it
     */
    detail: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'AlertV1' },
);
export type AlertV1 = Static<typeof AlertV1>;
