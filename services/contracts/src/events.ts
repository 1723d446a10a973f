import { Type, type Static } from '@sinclair/typebox';
import { ConsentDecision, MediaRef } from './wecom-types';

/** Kafka topics. Values are always sealed envelopes (see @cz/common/crypto); never plaintext. */
export const Topics = {
  messages: 'cz.msg.v1',
  calls: 'cz.call.v1',
  events: 'cz.event.v1',
  alerts: 'cz.alert.v1',
} as const;
export type Topic = (typeof Topics)[keyof typeof Topics];
export const dlqTopic = (topic: Topic): string => `${topic}.dlq`;

/** Kafka headers every Cunzheng record carries. */
export const KafkaHeaders = {
  schema: 'cz-schema',
  corpId: 'cz-corp',
  /** DLQ only */
  sourceTopic: 'cz-dlq-source-topic',
  sourcePartition: 'cz-dlq-source-partition',
  sourceOffset: 'cz-dlq-source-offset',
  /** the consumer group that rejected the record: every group reading a topic dead-letters alike */
  sourceGroup: 'cz-dlq-source-group',
  error: 'cz-dlq-error',
} as const;

/**
 * The plaintext INSIDE the sealed value of a `cz.msg.v1` record: the normalised message plus the
 * original record, so that nothing WeCom sent is lost.
 */
export const ArchivedMessageV1 = Type.Object(
  {
    schema: Type.Literal('cz.msg.v1'),
    id: Type.String(),
    corpId: Type.String(),
    msgid: Type.String(),
    seq: Type.Optional(Type.Integer()),
    action: Type.String(),
    msgtype: Type.Optional(Type.String()),
    from: Type.String(),
    tolist: Type.Array(Type.String()),
    roomid: Type.Optional(Type.String()),
    /** single chat: sorted pair of participants; group: room id */
    conversationId: Type.String(),
    msgtime: Type.Integer(),
    /** searchable text extracted from the type payload */
    text: Type.String(),
    raw: Type.Record(Type.String(), Type.Unknown()),
    receivedAt: Type.Integer(),
    // Optional so that records written before the message model existed still pass the contract.
    /** every media object the record refers to (to be fetched with the Finance SDK) */
    media: Type.Optional(Type.Array(MediaRef)),
    /** the msgtype is not one Cunzheng knows: kept raw, searchable text is best effort */
    unknownType: Type.Optional(Type.Boolean()),
    /** this record recalls (撤回) the message with this msgid; the original is flagged, never deleted */
    recallOf: Type.Optional(Type.String()),
    /** agree / disagree records: the consent decision for the registry (REG-08) */
    consent: Type.Optional(ConsentDecision),
    /**
     * HMAC-SM3 (blind-index key "message-content") of the canonical record without `seq`, hex: tells
     * a redelivery (same MAC) from a different record reusing a msgid (conflict) without plaintext.
     */
    contentMac: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
  },
  { $id: 'ArchivedMessageV1' },
);
export type ArchivedMessageV1 = Static<typeof ArchivedMessageV1>;
