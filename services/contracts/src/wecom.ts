import { Type, type Static } from '@sinclair/typebox';
import { CorpId } from './common';

/**
 * One decrypted WeCom chat-archive record (会话内容存档), as returned by the Finance SDK's
 * DecryptData: the envelope every send/recall record carries. The type-specific payloads (image,
 * file, chatrecord, ...) are described in ./wecom-types.ts and validated per msgtype; the record is
 * kept whole, because an archive must keep what it was given.
 */
export const WeComMessage = Type.Object(
  {
    msgid: Type.String({ minLength: 1, maxLength: 128 }),
    action: Type.Union([Type.Literal('send'), Type.Literal('recall'), Type.Literal('switch')]),
    from: Type.String({ minLength: 1, maxLength: 128 }),
    tolist: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 10000 }),
    roomid: Type.Optional(Type.String({ maxLength: 128 })),
    /** milliseconds since the epoch */
    msgtime: Type.Integer({ minimum: 0, maximum: 32503680000000 }),
    msgtype: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** Finance-SDK sequence number of this record, when it came from the puller */
    seq: Type.Optional(Type.Integer({ minimum: 0 })),
    text: Type.Optional(Type.Object({ content: Type.String({ maxLength: 200000 }) })),
    /** meeting_voice_call: id of the voice meeting (top level, beside the payload) */
    voiceid: Type.Optional(Type.String({ maxLength: 256 })),
    /** voip_doc_share: id of the voice call (top level, beside the payload) */
    voipid: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: true, $id: 'WeComMessage' },
);
export type WeComMessage = Static<typeof WeComMessage>;

/**
 * A corp-switch log record (切换企业日志): `action: "switch"` with neither msgtype nor from/tolist/
 * msgtime, but `user` (the member who switched) and `time` (ms). Archived as a message from `user`
 * to nobody at `time`. `from` / `msgtime` are accepted in their place from relays that rename them.
 */
export const WeComSwitchRecord = Type.Object(
  {
    msgid: Type.String({ minLength: 1, maxLength: 128 }),
    action: Type.Literal('switch'),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    time: Type.Optional(Type.Integer({ minimum: 0, maximum: 32503680000000 })),
    from: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    msgtime: Type.Optional(Type.Integer({ minimum: 0, maximum: 32503680000000 })),
    seq: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: true, $id: 'WeComSwitchRecord' },
);
export type WeComSwitchRecord = Static<typeof WeComSwitchRecord>;

export const MAX_BATCH_RECORDS = 1000;

/**
 * Ingest batch. `messages` is deliberately loose (unknown[]) at the HTTP layer so that one bad
 * record does not reject the whole batch: each record is validated on its own against WeComMessage.
 */
export const WeComBatch = Type.Object(
  {
    corpId: CorpId,
    messages: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_BATCH_RECORDS }),
  },
  { additionalProperties: false, $id: 'WeComBatch' },
);
export type WeComBatch = Static<typeof WeComBatch>;

export const RecordProblem = Type.Object({
  path: Type.String({ description: 'JSON pointer inside the record, "" for the record itself' }),
  message: Type.String(),
});
export type RecordProblem = Static<typeof RecordProblem>;

export const AcceptedRecord = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  msgid: Type.String(),
  /** archive id: stable for (corp, msgid), so a retried record gets the same id */
  id: Type.String(),
});
export type AcceptedRecord = Static<typeof AcceptedRecord>;

export const RejectedRecord = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  msgid: Type.Optional(Type.String()),
  errors: Type.Array(RecordProblem, { minItems: 1 }),
});
export type RejectedRecord = Static<typeof RejectedRecord>;

/** 202 when every record was accepted; 400 when any was rejected (the accepted ones are still stored). */
export const IngestBatchReply = Type.Object(
  {
    accepted: Type.Array(AcceptedRecord),
    rejected: Type.Array(RejectedRecord),
  },
  { $id: 'IngestBatchReply' },
);
export type IngestBatchReply = Static<typeof IngestBatchReply>;
