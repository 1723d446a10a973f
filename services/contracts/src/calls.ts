import { Type, type Static } from '@sinclair/typebox';
import { CorpId } from './common';

/*
 * Call centre: call detail records (CDR) posted to ingest, recordings and chat media streamed to
 * the recordings service, and the `cz.call.v1` events that tie them together.
 */

/** Call id as issued by the call centre; unique per corp. */
export const CallId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' });

/**
 * A telephone number as the call centre wrote it: digits with an optional leading +, spaces,
 * dashes and parentheses. It is personal data: only sealed and as a blind index at rest.
 */
export const PhoneNumber = Type.String({
  minLength: 3,
  maxLength: 32,
  pattern: '^\\+?[0-9][0-9 ()-]{1,30}[0-9]$',
});

export const CallDirection = Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]);
export type CallDirection = Static<typeof CallDirection>;

export const CallTranscriptInput = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: 1_000_000 }),
    /** BCP 47 language tag, e.g. zh-CN */
    language: Type.Optional(Type.String({ minLength: 2, maxLength: 16, pattern: '^[A-Za-z0-9-]+$' })),
  },
  { additionalProperties: false },
);
export type CallTranscriptInput = Static<typeof CallTranscriptInput>;

/** `POST /v1/calls` body: one call detail record. */
export const CallDetailRecord = Type.Object(
  {
    corpId: CorpId,
    callId: CallId,
    /** agent (employee) id in the call centre */
    agentId: Type.String({ minLength: 1, maxLength: 128 }),
    customerNumber: PhoneNumber,
    direction: CallDirection,
    startTime: Type.String({ format: 'date-time' }),
    endTime: Type.String({ format: 'date-time' }),
    /** REG-02: recordings must be retrievable by business type */
    businessType: Type.String({ minLength: 1, maxLength: 64 }),
    caseId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    campaign: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /** transcript made by the call centre; otherwise the configured ASR engine makes one */
    transcript: Type.Optional(CallTranscriptInput),
  },
  { additionalProperties: false, $id: 'CallDetailRecord' },
);
export type CallDetailRecord = Static<typeof CallDetailRecord>;

/** 202 reply of `POST /v1/calls`: the archive id is stable for (corp, callId). */
export const CallAccepted = Type.Object({
  id: Type.String(),
  corpId: Type.String(),
  callId: Type.String(),
});
export type CallAccepted = Static<typeof CallAccepted>;

// ---------------------------------------------------------------------------------------------
// cz.call.v1: the plaintext INSIDE each sealed Kafka value, discriminated by `kind`

/** The CDR as archived (times in ms since the epoch). */
export const ArchivedCallV1 = Type.Object(
  {
    schema: Type.Literal('cz.call.v1'),
    kind: Type.Literal('cdr'),
    id: Type.String(),
    corpId: Type.String(),
    callId: Type.String(),
    agentId: Type.String(),
    customerNumber: Type.String(),
    /** blind index of the normalised customer number (decimal string of a u64) */
    customerIndex: Type.String(),
    direction: CallDirection,
    startTime: Type.Integer(),
    endTime: Type.Integer(),
    businessType: Type.String(),
    caseId: Type.Optional(Type.String()),
    campaign: Type.Optional(Type.String()),
    transcript: Type.Optional(CallTranscriptInput),
    receivedAt: Type.Integer(),
    /** HMAC-SM3 (blind-index key "call-content") of the CDR as posted, hex: redelivery vs conflict */
    contentMac: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { $id: 'ArchivedCallV1' },
);
export type ArchivedCallV1 = Static<typeof ArchivedCallV1>;

/** Emitted by the recordings service once a recording is stored, sealed and locked. */
export const CallRecordingAttachedV1 = Type.Object(
  {
    schema: Type.Literal('cz.call.v1'),
    kind: Type.Literal('recording'),
    corpId: Type.String(),
    callId: Type.String(),
    /** archive id of the CDR */
    callPk: Type.String(),
    customerIndex: Type.String(),
    recordingId: Type.String(),
    bucket: Type.String(),
    objectKey: Type.String(),
    versionId: Type.String(),
    contentType: Type.String(),
    plaintextSize: Type.Integer({ minimum: 0 }),
    sealedSize: Type.Integer({ minimum: 0 }),
    /** SM3 of the audio as uploaded, hex */
    sm3: Type.String(),
    retainUntil: Type.Integer(),
    completedAt: Type.Integer(),
  },
  { $id: 'CallRecordingAttachedV1' },
);
export type CallRecordingAttachedV1 = Static<typeof CallRecordingAttachedV1>;

/** A transcript made by the on-prem ASR engine for a stored recording. */
export const CallTranscriptV1 = Type.Object(
  {
    schema: Type.Literal('cz.call.v1'),
    kind: Type.Literal('transcript'),
    corpId: Type.String(),
    callId: Type.String(),
    callPk: Type.String(),
    customerIndex: Type.String(),
    recordingId: Type.String(),
    source: Type.Literal('asr'),
    model: Type.String(),
    language: Type.Optional(Type.String()),
    text: Type.String(),
    createdAt: Type.Integer(),
  },
  { $id: 'CallTranscriptV1' },
);
export type CallTranscriptV1 = Static<typeof CallTranscriptV1>;

export type CallEventV1 = ArchivedCallV1 | CallRecordingAttachedV1 | CallTranscriptV1;

// ---------------------------------------------------------------------------------------------
// Recordings service API (PUT/GET /v1/recordings/{callId}, PUT/GET /v1/media/{corpId}/{mediaId})

/** WeCom media id as chosen by the puller: the msgid, or `<msgid>.<n>` for items of one message. */
export const MediaId = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_.:=+-]+$' });

export const RecordingParams = Type.Object({ callId: CallId }, { additionalProperties: false });
export const RecordingQuery = Type.Object(
  {
    corpId: CorpId,
    /** GET only: `original` serves AMR as stored instead of the browser-playable transcode */
    format: Type.Optional(Type.Union([Type.Literal('original'), Type.Literal('playable')])),
  },
  { additionalProperties: false },
);
export const MediaParams = Type.Object({ corpId: CorpId, mediaId: MediaId }, { additionalProperties: false });
export const MediaQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('original'), Type.Literal('playable')])) },
  { additionalProperties: false },
);

/** What the recordings service stored: the object, its digests and its lock. */
export const StoredObjectReply = Type.Object({
  id: Type.String(),
  corpId: Type.String(),
  /** call id (recordings) or media id (media) */
  ownerId: Type.String(),
  contentType: Type.String(),
  plaintextSize: Type.Integer(),
  sealedSize: Type.Integer(),
  sm3: Type.String(),
  md5: Type.String(),
  versionId: Type.String(),
  retainUntil: Type.String({ format: 'date-time' }),
  /** media only: present when the upload was kept despite an md5 mismatch (`x-cz-md5-mismatch: keep`) */
  md5Mismatch: Type.Optional(Type.Object({ expected: Type.String(), actual: Type.String() })),
  /** recordings only: whether the `cz.call.v1` recording event was acknowledged by Kafka yet */
  announced: Type.Optional(Type.Boolean()),
});
export type StoredObjectReply = Static<typeof StoredObjectReply>;

/**
 * 409 to a second upload for a call (or media id) whose object is already stored and locked, with
 * different content: the upload was NOT dropped but kept, sealed and locked like any object, as a
 * conflicting version for review (`recording_conflict` alert); the original stays the one served.
 * Sending the same conflicting content again answers the same conflict; sending the original's
 * content again is 200 with the original (idempotent).
 */
export const ConflictingVersionReply = Type.Object({
  code: Type.Literal('conflicting_version_kept'),
  message: Type.String(),
  /** the review record (`recording_conflict.id`) */
  conflictId: Type.String(),
  /** the object that stays served */
  original: Type.Object({ id: Type.String(), sm3: Type.String(), plaintextSize: Type.Integer() }),
  /** the upload, as kept */
  kept: StoredObjectReply,
});
export type ConflictingVersionReply = Static<typeof ConflictingVersionReply>;
