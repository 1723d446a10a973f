import { FormatRegistry, Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { CorpId } from './common';
import { CallDirection, CallId, PhoneNumber } from './calls';
import { RecordProblem } from './wecom';

/*
 * Behaviour events (REG-08, REG-13): what staff did with customers outside the chat text — deleted
 * or blocked them, sent red packets, links and SMS, placed calls from a work phone — and the
 * customer's consent per marketing category. Posted in batches to `POST /v1/events`, sealed onto
 * `cz.event.v1`, archived with filter columns (customer identifiers only as blind indexes).
 */

const RFC3339_DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
/**
 * TypeBox's compiled checks (used where records are validated one by one, outside Fastify's ajv)
 * reject any string with a format nobody registered; these contracts use `date-time`.
 */
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set(
    'date-time',
    (value) => RFC3339_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)),
  );
}

/** A customer as the source system knows them: WeCom external user id and/or phone (both personal data). */
export const CustomerRef = Type.Object(
  {
    externalUserId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    phone: Type.Optional(PhoneNumber),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type CustomerRef = Static<typeof CustomerRef>;

const base = {
  /** the source system's id of the event; idempotency is on (corp, eventId) */
  eventId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:=+-]+$' }),
  occurredAt: Type.String({ format: 'date-time' }),
  /** WeCom userid (or HR id) of the employee who acted */
  staffId: Type.String({ minLength: 1, maxLength: 128 }),
};
const optionalRoom = Type.Optional(Type.String({ minLength: 1, maxLength: 128 }));
const optionalMsgid = Type.Optional(Type.String({ minLength: 1, maxLength: 128 }));

/** Consent categories are the institution's own codes, e.g. `marketing.wealth`, `marketing.insurance`. */
export const ConsentCategory = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_.-]+$' });
export const ConsentChannel = Type.Union([
  Type.Literal('wecom'),
  Type.Literal('sms'),
  Type.Literal('phone'),
  Type.Literal('app'),
  Type.Literal('web'),
  Type.Literal('branch'),
  Type.Literal('paper'),
]);

const variant = <T extends string, P extends Record<string, TSchema>>(type: T, props: P) =>
  Type.Object({ type: Type.Literal(type), ...base, ...props }, { additionalProperties: false });

export const CustomerDeletedEvent = variant('customer_deleted', {
  customer: CustomerRef,
  reason: Type.Optional(Type.String({ maxLength: 500 })),
});
export const CustomerBlockedEvent = variant('customer_blocked', {
  customer: CustomerRef,
  reason: Type.Optional(Type.String({ maxLength: 500 })),
});
export const RedPacketSentEvent = variant('red_packet_sent', {
  customer: Type.Optional(CustomerRef),
  roomId: optionalRoom,
  /** total amount in fen (1/100 CNY) */
  amountFen: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
  count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  msgid: optionalMsgid,
});
export const ExternalLinkSentEvent = variant('external_link_sent', {
  customer: Type.Optional(CustomerRef),
  roomId: optionalRoom,
  url: Type.String({ minLength: 1, maxLength: 4096, pattern: '^[A-Za-z][A-Za-z0-9+.-]*:' }),
  title: Type.Optional(Type.String({ maxLength: 500 })),
  msgid: optionalMsgid,
});
export const SmsSentEvent = variant('sms_sent', {
  customer: CustomerRef,
  templateId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  /** the SMS text: sealed like every message body */
  content: Type.Optional(Type.String({ maxLength: 2000 })),
});
export const CallPlacedEvent = variant('call_placed', {
  direction: CallDirection,
  /** the work phone (number of the device the employee used) */
  workPhone: PhoneNumber,
  customer: CustomerRef,
  durationSec: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
  callId: Type.Optional(CallId),
});
const consentProps = {
  customer: CustomerRef,
  /** REG-08: consent to one category is not consent to another */
  category: ConsentCategory,
  channel: ConsentChannel,
  /** where the proof lives, e.g. a msgid, a recording call id, a form number */
  evidence: Type.Optional(Type.String({ maxLength: 500 })),
};
export const ConsentGivenEvent = variant('consent_given', consentProps);
export const ConsentWithdrawnEvent = variant('consent_withdrawn', consentProps);

/** Every event variant, by its `type`; ingest validates each record against exactly one of them. */
export const BehaviourEventVariants = {
  customer_deleted: CustomerDeletedEvent,
  customer_blocked: CustomerBlockedEvent,
  red_packet_sent: RedPacketSentEvent,
  external_link_sent: ExternalLinkSentEvent,
  sms_sent: SmsSentEvent,
  call_placed: CallPlacedEvent,
  consent_given: ConsentGivenEvent,
  consent_withdrawn: ConsentWithdrawnEvent,
} as const satisfies Record<string, TObject>;
export type BehaviourEventType = keyof typeof BehaviourEventVariants;
export const BehaviourEventTypes = Object.keys(BehaviourEventVariants) as BehaviourEventType[];

export const BehaviourEvent = Type.Union(Object.values(BehaviourEventVariants));
export type BehaviourEvent = Static<typeof BehaviourEvent>;

export const MAX_EVENT_BATCH = 1000;

/**
 * `POST /v1/events` body. `events` is loose at the HTTP layer so one bad record does not reject
 * its neighbours; each is validated on its own against the variant its `type` names.
 */
export const BehaviourEventBatch = Type.Object(
  {
    corpId: CorpId,
    events: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_EVENT_BATCH }),
  },
  { additionalProperties: false, $id: 'BehaviourEventBatch' },
);
export type BehaviourEventBatch = Static<typeof BehaviourEventBatch>;

export const EventBatchReply = Type.Object(
  {
    accepted: Type.Array(
      Type.Object({ index: Type.Integer({ minimum: 0 }), eventId: Type.String(), id: Type.String() }),
    ),
    rejected: Type.Array(
      Type.Object({
        index: Type.Integer({ minimum: 0 }),
        eventId: Type.Optional(Type.String()),
        errors: Type.Array(RecordProblem, { minItems: 1 }),
      }),
    ),
  },
  { $id: 'EventBatchReply' },
);
export type EventBatchReply = Static<typeof EventBatchReply>;

/** The plaintext INSIDE the sealed value of a `cz.event.v1` record. */
export const ArchivedBehaviourEventV1 = Type.Object(
  {
    schema: Type.Literal('cz.event.v1'),
    id: Type.String(),
    corpId: Type.String(),
    event: BehaviourEvent,
    /** blind index of customer.externalUserId */
    customerIndex: Type.Optional(Type.String()),
    /** blind index of the normalised customer.phone */
    phoneIndex: Type.Optional(Type.String()),
    receivedAt: Type.Integer(),
    /** HMAC-SM3 (blind-index key "event-content") of the event as posted, hex: redelivery vs conflict */
    contentMac: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { $id: 'ArchivedBehaviourEventV1' },
);
export type ArchivedBehaviourEventV1 = Static<typeof ArchivedBehaviourEventV1>;
