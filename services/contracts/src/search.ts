import { Type, type Static } from '@sinclair/typebox';
import { AlertSeverity } from './alerts';
import { MessageView } from './portal';

/*
 * Keyword search and the conversation view (portal). Keywords are matched through blind-index
 * tokens and then checked exactly against the unsealed text, so a hit always contains the query;
 * see README "Search" for the query language and what the index reveals.
 */

const Id32 = Type.String({ pattern: '^[0-9a-f]{32}$' });
export const OrgUnitId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });

export const SearchKind = Type.Union([Type.Literal('message'), Type.Literal('call')]);
export type SearchKind = Static<typeof SearchKind>;

export const SearchQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        maxLength: 1000,
        description:
          'keywords: 保本保息 理财 (AND), "iPhone 15" (phrase), 保本 OR 保息, -保险 (exclude); leave out to list by filters only',
      }),
    ),
    employee: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'userid: sender or recipient; agent of a call',
      }),
    ),
    customer: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description:
          'customer reference (32 hex, as returned by the API), exact phone number, WeCom external userid (wm…/wo…) or exact name',
      }),
    ),
    orgUnit: Type.Optional(OrgUnitId),
    conversationId: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    msgtype: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20 })),
    businessType: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'calls only' })),
    kind: Type.Optional(Type.Array(SearchKind, { maxItems: 2, description: 'default: both' })),
    hasAlert: Type.Optional(
      Type.Boolean({
        description: 'true: only records with at least one alert attached; false or absent: no alert filter',
      }),
    ),
    /** only records with an alert of at least this severity (implies hasAlert) */
    alertSeverity: Type.Optional(AlertSeverity),
    alertKind: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 32,
        description: 'only records with an alert of this kind (implies hasAlert)',
      }),
    ),
    from: Type.Optional(
      Type.String({ format: 'date-time', description: 'inclusive lower bound of the time' }),
    ),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'exclusive upper bound of the time' })),
    sort: Type.Optional(Type.Union([Type.Literal('desc'), Type.Literal('asc')], { default: 'desc' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    /** count the matches on the first page (bounded, see SearchTotal) */
    count: Type.Optional(Type.Boolean({ default: true })),
    /** opaque keyset cursor from a previous page of the same query */
    cursor: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export type SearchQuery = Static<typeof SearchQuery>;

export const CallHitView = Type.Object({
  id: Type.String(),
  corpId: Type.String(),
  callId: Type.String(),
  agentId: Type.String(),
  direction: Type.String(),
  businessType: Type.String(),
  startTime: Type.String({ format: 'date-time' }),
  endTime: Type.String({ format: 'date-time' }),
  /** masked (138****1234) */
  customerNumber: Type.String(),
  recordingId: Type.Union([Type.String(), Type.Null()]),
  /** transcript, personal data masked; empty when there is none */
  transcript: Type.String(),
});
export type CallHitView = Static<typeof CallHitView>;

/** The alerts attached to a record (cz.alert.v1 naming its msgid or call id), in short. */
export const AlertSummary = Type.Object({
  count: Type.Integer({ minimum: 1 }),
  /** the highest severity among them */
  severity: AlertSeverity,
  /** their distinct kinds, most severe first */
  kinds: Type.Array(Type.String()),
});
export type AlertSummary = Static<typeof AlertSummary>;

export const SearchHit = Type.Union([
  Type.Object({
    kind: Type.Literal('message'),
    time: Type.String({ format: 'date-time' }),
    message: MessageView,
    /** null: no alert attached */
    alerts: Type.Union([AlertSummary, Type.Null()]),
  }),
  Type.Object({
    kind: Type.Literal('call'),
    time: Type.String({ format: 'date-time' }),
    call: CallHitView,
    alerts: Type.Union([AlertSummary, Type.Null()]),
  }),
]);
export type SearchHit = Static<typeof SearchHit>;

/**
 * How many records match (first page only). `eq`: exact. `lte`: at most this many — records whose
 * index entries and metadata match, before the exact phrase check of each (which may drop a few).
 * `gte`: at least this many — counting stopped at its bound.
 */
export const SearchTotal = Type.Object({
  value: Type.Integer({ minimum: 0 }),
  relation: Type.Union([Type.Literal('eq'), Type.Literal('lte'), Type.Literal('gte')]),
});
export type SearchTotal = Static<typeof SearchTotal>;

export const SearchReply = Type.Object({
  items: Type.Array(SearchHit),
  /** the next page; with `partial`, the place where the bounded scan stopped */
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  /** the page is short because this request's scan budget ran out, not because nothing is left */
  partial: Type.Boolean(),
  total: Type.Union([SearchTotal, Type.Null()]),
  /** terms left out because they hold nothing searchable (only punctuation) */
  ignoredTerms: Type.Array(Type.String()),
  /** work done: index/metadata rows read, records opened for the exact check */
  examined: Type.Object({ scanned: Type.Integer(), verified: Type.Integer() }),
});
export type SearchReply = Static<typeof SearchReply>;

export const ConversationParams = Type.Object({
  corpId: Type.String({ minLength: 1, maxLength: 64 }),
  conversationId: Type.String({ minLength: 1, maxLength: 300 }),
});
export type ConversationParams = Static<typeof ConversationParams>;

export const ConversationQuery = Type.Object(
  {
    /** archive id of a message to centre the window on */
    around: Type.Optional(Id32),
    /** or a time to centre on */
    at: Type.Optional(Type.String({ format: 'date-time' })),
    before: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: 20 })),
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: 20 })),
    /** continue from `olderCursor` / `newerCursor` of a previous reply (then around/at are ignored) */
    cursor: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export type ConversationQuery = Static<typeof ConversationQuery>;

export const ConversationParticipant = Type.Object({
  /** employees by userid; customers by their opaque reference and a masked id */
  id: Type.String(),
  party: Type.Union([Type.Literal('employee'), Type.Literal('customer'), Type.Literal('bot')]),
  display: Type.String(),
  customerRef: Type.Union([Id32, Type.Null()]),
  sent: Type.Integer(),
});
export type ConversationParticipant = Static<typeof ConversationParticipant>;

/**
 * One alert attached to a record, as the conversation view shows it: what kind, how severe, when,
 * and the rule / lexicon category that raised it (from the alert's detail, when it has them). Never
 * any message content.
 */
export const AlertTag = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  severity: AlertSeverity,
  /** the service that raised it */
  source: Type.String(),
  raisedAt: Type.String({ format: 'date-time' }),
  rule: Type.Union([Type.String(), Type.Null()]),
  category: Type.Union([Type.String(), Type.Null()]),
});
export type AlertTag = Static<typeof AlertTag>;

/** A message of the conversation view with the alerts attached to it (most severe first). */
export const ConversationMessage = Type.Composite([
  MessageView,
  Type.Object({ alerts: Type.Array(AlertTag) }),
]);
export type ConversationMessage = Static<typeof ConversationMessage>;

export const ConversationReply = Type.Object({
  corpId: Type.String(),
  conversationId: Type.String(),
  kind: Type.Union([Type.Literal('single'), Type.Literal('group')]),
  roomId: Type.Union([Type.String(), Type.Null()]),
  messageCount: Type.Integer(),
  firstTime: Type.String({ format: 'date-time' }),
  lastTime: Type.String({ format: 'date-time' }),
  participants: Type.Array(ConversationParticipant),
  /** oldest first */
  items: Type.Array(ConversationMessage),
  /** the message `around` pointed at, if it is in `items` */
  focusId: Type.Union([Type.String(), Type.Null()]),
  olderCursor: Type.Union([Type.String(), Type.Null()]),
  newerCursor: Type.Union([Type.String(), Type.Null()]),
});
export type ConversationReply = Static<typeof ConversationReply>;

// ---------------------------------------------------------------------------------------------
// Directory load (admin): org tree, employees, customers

export const OrgUnitInput = Type.Object(
  {
    id: OrgUnitId,
    parentId: Type.Union([OrgUnitId, Type.Null()]),
    name: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export const EmployeeInput = Type.Object(
  {
    userid: Type.String({ minLength: 1, maxLength: 128 }),
    orgUnitId: OrgUnitId,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
export const CustomerInput = Type.Object(
  {
    externalUserId: Type.String({ minLength: 1, maxLength: 128 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    phone: Type.Optional(
      Type.String({ minLength: 3, maxLength: 32, pattern: '^\\+?[0-9][0-9 ()-]{1,30}[0-9]$' }),
    ),
  },
  { additionalProperties: false },
);
/** `PUT /v1/admin/directory/:corpId`: upserts; an org unit's parent must be in the load or stored. */
export const DirectoryLoad = Type.Object(
  {
    orgUnits: Type.Optional(Type.Array(OrgUnitInput, { maxItems: 5000 })),
    employees: Type.Optional(Type.Array(EmployeeInput, { maxItems: 20000 })),
    customers: Type.Optional(Type.Array(CustomerInput, { maxItems: 20000 })),
  },
  { additionalProperties: false },
);
export type DirectoryLoad = Static<typeof DirectoryLoad>;
export const DirectoryLoadReply = Type.Object({
  orgUnits: Type.Integer(),
  employees: Type.Integer(),
  customers: Type.Integer(),
});
export type DirectoryLoadReply = Static<typeof DirectoryLoadReply>;

export const OrgUnitView = Type.Object({
  id: Type.String(),
  parentId: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  depth: Type.Integer(),
  employees: Type.Integer(),
});
export const OrgTreeReply = Type.Object({ items: Type.Array(OrgUnitView) });
export type OrgTreeReply = Static<typeof OrgTreeReply>;
