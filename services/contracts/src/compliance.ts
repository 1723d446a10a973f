import { Type, type Static } from '@sinclair/typebox';
import { AlertSeverity } from './alerts';
import { CorpId } from './common';

/*
 * The compliance engine (REG-03, REG-10, REG-11, REG-13): the finance lexicon and its versions, the
 * hits it finds, the alerts it raises and their workflow (lifecycle, SLA, escalation,
 * notifications), the review queue and retroactive scans. The compliance service raises alerts and
 * runs the timers; the portal serves these shapes to the console with the caller's roles and data
 * scope (lexicon routes are relayed to the compliance service).
 */

// ---------------------------------------------------------------------------------------------
// Lexicon
// ---------------------------------------------------------------------------------------------

/** What a lexicon entry is about. The alert kind of a hit is `lexicon.<category>`. */
export const LexiconCategory = Type.Union([
  /** 保本保息, 刚性兑付, 稳赚不赔, 无风险, 高收益 (REG-03) */
  Type.Literal('guaranteed_return'),
  /** 私下转账, 私人账户, 加急费, 服务费 taken privately, 飞单 (REG-03, REG-13) */
  Type.Literal('private_dealing'),
  /** 返点, 回扣, 好处费 (REG-03) */
  Type.Literal('kickback'),
  /** 闪电贷, 无抵押借款, 黑户可贷 (REG-03) */
  Type.Literal('illegal_lending'),
  /** threats, insults, contacting third parties in collections (REG-03) */
  Type.Literal('collection_abuse'),
  /** moving customers to outside platforms: 加微信, 下载某APP, 私人QQ (REG-13) */
  Type.Literal('outside_platform'),
  /** pretending to be police, regulators or another institution (REG-10) */
  Type.Literal('impersonation'),
  /** complaint cues: 投诉, 12378, 银保监 (REG-11: 24 h SLA) */
  Type.Literal('complaint'),
  /** asking for or sending personal data: ID number, card number, passwords, codes (REG-04) */
  Type.Literal('personal_data'),
  /** the institution's own terms */
  Type.Literal('custom'),
]);
export type LexiconCategory = Static<typeof LexiconCategory>;
export const LEXICON_CATEGORIES: readonly LexiconCategory[] = [
  'guaranteed_return',
  'private_dealing',
  'kickback',
  'illegal_lending',
  'collection_abuse',
  'outside_platform',
  'impersonation',
  'complaint',
  'personal_data',
  'custom',
];

/** The `cz.alert.v1` kind of a lexicon hit of `category`. */
export const lexiconAlertKind = (category: LexiconCategory) => `lexicon.${category}` as const;

/**
 * How an entry matches:
 * - `term`: a phrase, matched on the normalised text (width, case, traditional script, noise
 *   characters between characters, homophones) and, when `pinyin` is on, on its pinyin and initials;
 * - `regex`: a regular expression in a restricted dialect (no back-references or look-around; a
 *   pattern with nested unbounded quantifiers is rejected at save time), run on the normalised text;
 * - `proximity`: `pattern` and `near` within `within` characters of each other, either order;
 * - `allow`: a phrase that is never an alert: a hit inside an allow phrase is dropped (不保本).
 */
export const LexiconEntryKind = Type.Union([
  Type.Literal('term'),
  Type.Literal('regex'),
  Type.Literal('proximity'),
  Type.Literal('allow'),
]);
export type LexiconEntryKind = Static<typeof LexiconEntryKind>;

export const LexiconEntryId = Type.String({ minLength: 1, maxLength: 48, pattern: '^[a-z0-9][a-z0-9_.-]*$' });
export const RegId = Type.String({ pattern: '^REG-[0-9]{2}$' });

export const LexiconEntry = Type.Object(
  {
    /** stable across versions: `gr-001` for the defaults, anything else for custom entries */
    id: LexiconEntryId,
    kind: LexiconEntryKind,
    /** the phrase (term, allow), the expression (regex) or the first phrase (proximity) */
    pattern: Type.String({ minLength: 1, maxLength: 200 }),
    /** proximity only: the second phrase */
    near: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    /** proximity only: at most this many characters between the two phrases */
    within: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
    category: LexiconCategory,
    severity: AlertSeverity,
    /** why this is a problem, shown with every hit (zh-CN) */
    explanation: Type.String({ maxLength: 500 }),
    /** the requirements it serves */
    reg: Type.Array(RegId, { maxItems: 5 }),
    /** term only: also match its pinyin (baoben) and initials (bb); default on for Han terms of 2+ characters */
    pinyin: Type.Optional(Type.Boolean()),
    /** term, regex, proximity: a negation just before the hit (不, 不承诺, 请勿, 不收取任何) drops it; default true */
    negatable: Type.Optional(Type.Boolean()),
    enabled: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type LexiconEntry = Static<typeof LexiconEntry>;

/** How a hit was found: what the console says next to it. */
export const HitVia = Type.Union([
  Type.Literal('exact'),
  /** after width / case / script / noise normalisation */
  Type.Literal('normalised'),
  Type.Literal('homophone'),
  Type.Literal('pinyin'),
  Type.Literal('initials'),
  Type.Literal('regex'),
  Type.Literal('proximity'),
]);
export type HitVia = Static<typeof HitVia>;

/** One hit: offsets are UTF-16 code-unit offsets into the text that was scanned, `end` exclusive. */
export const LexiconHit = Type.Object({
  /** the entry's pattern (the lexicon's word, not the text's) */
  term: Type.String(),
  category: LexiconCategory,
  severity: AlertSeverity,
  start: Type.Integer({ minimum: 0 }),
  end: Type.Integer({ minimum: 0 }),
  /** the lexicon entry id */
  ruleId: Type.String(),
  via: HitVia,
  explanation: Type.String(),
  reg: Type.Array(Type.String()),
});
export type LexiconHit = Static<typeof LexiconHit>;

/** `POST /v1/lexicon/test`: a text up to 1 MiB. */
export const LexiconTestRequest = Type.Object(
  {
    text: Type.String({ maxLength: 1048576 }),
    /** test against the draft instead of the published version */
    draft: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type LexiconTestRequest = Static<typeof LexiconTestRequest>;

export const LexiconTestReply = Type.Object({
  lexiconVersion: Type.Integer(),
  draft: Type.Boolean(),
  hits: Type.Array(LexiconHit),
});
export type LexiconTestReply = Static<typeof LexiconTestReply>;

export const LexiconVersionStatus = Type.Union([
  Type.Literal('draft'),
  Type.Literal('published'),
  /** published once, replaced by a later version */
  Type.Literal('superseded'),
]);
export type LexiconVersionStatus = Static<typeof LexiconVersionStatus>;

export const LexiconVersionView = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  status: LexiconVersionStatus,
  entryCount: Type.Integer(),
  /** SM3 of the canonical entries, hex */
  digest: Type.String(),
  note: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  publishedBy: Type.Union([Type.String(), Type.Null()]),
  publishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type LexiconVersionView = Static<typeof LexiconVersionView>;

export const LexiconVersionListReply = Type.Object({
  items: Type.Array(LexiconVersionView),
  /** the version the live scan uses */
  published: Type.Union([Type.Integer(), Type.Null()]),
  /** the version being edited, if any */
  draft: Type.Union([Type.Integer(), Type.Null()]),
  /** entries per category of the published version */
  byCategory: Type.Record(Type.String(), Type.Integer()),
});
export type LexiconVersionListReply = Static<typeof LexiconVersionListReply>;

export const LexiconVersionParams = Type.Object(
  { version: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type LexiconVersionParams = Static<typeof LexiconVersionParams>;

/** `GET /v1/lexicon/versions/:version/entries` */
export const LexiconEntryQuery = Type.Object(
  {
    /** substring of the pattern, id or explanation */
    q: Type.Optional(Type.String({ maxLength: 100 })),
    category: Type.Optional(LexiconCategory),
    kind: Type.Optional(LexiconEntryKind),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  },
  { additionalProperties: false },
);
export type LexiconEntryQuery = Static<typeof LexiconEntryQuery>;

export const LexiconEntryListReply = Type.Object({
  version: Type.Integer(),
  total: Type.Integer(),
  items: Type.Array(LexiconEntry),
});
export type LexiconEntryListReply = Static<typeof LexiconEntryListReply>;

/** `PUT /v1/lexicon/draft/entries/:id` (creates the draft from the published version if none) */
export const LexiconEntryParams = Type.Object({ id: LexiconEntryId }, { additionalProperties: false });
export type LexiconEntryParams = Static<typeof LexiconEntryParams>;

/** `POST /v1/lexicon/draft/import`: CSV with the header line of `LEXICON_CSV_COLUMNS`. */
export const LexiconImportRequest = Type.Object(
  {
    csv: Type.String({ minLength: 1, maxLength: 4194304 }),
    /** merge: add or replace the file's ids; replace: the draft becomes exactly the file */
    mode: Type.Union([Type.Literal('merge'), Type.Literal('replace')]),
  },
  { additionalProperties: false },
);
export type LexiconImportRequest = Static<typeof LexiconImportRequest>;

/** CSV columns of import and export, in order (reg: `REG-03;REG-11`; booleans: true / false / empty). */
export const LEXICON_CSV_COLUMNS = [
  'id',
  'kind',
  'pattern',
  'near',
  'within',
  'category',
  'severity',
  'explanation',
  'reg',
  'pinyin',
  'negatable',
  'enabled',
] as const;

export const LexiconLineError = Type.Object({
  /** 1-based line of the file (the header is line 1) */
  line: Type.Integer(),
  error: Type.String(),
});
export type LexiconLineError = Static<typeof LexiconLineError>;

/** 200 when applied; 400 with `errors` (and nothing applied) when any line is wrong. */
export const LexiconImportReply = Type.Object({
  applied: Type.Integer(),
  added: Type.Integer(),
  changed: Type.Integer(),
  removed: Type.Integer(),
  errors: Type.Array(LexiconLineError),
  /** the draft version the file went into */
  draft: Type.Optional(Type.Integer()),
});
export type LexiconImportReply = Static<typeof LexiconImportReply>;

/** The 400 of an import: the error reply with every line's problem (nothing applied). */
export const LexiconImportRefusal = Type.Object({
  code: Type.String(),
  message: Type.String(),
  applied: Type.Optional(Type.Integer()),
  added: Type.Optional(Type.Integer()),
  changed: Type.Optional(Type.Integer()),
  removed: Type.Optional(Type.Integer()),
  errors: Type.Optional(Type.Array(LexiconLineError)),
});
export type LexiconImportRefusal = Static<typeof LexiconImportRefusal>;

/** `GET /v1/lexicon/diff?from=&to=` */
export const LexiconDiffQuery = Type.Object(
  { from: Type.Integer({ minimum: 1 }), to: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type LexiconDiffQuery = Static<typeof LexiconDiffQuery>;

export const LexiconDiffReply = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  added: Type.Array(LexiconEntry),
  removed: Type.Array(LexiconEntry),
  changed: Type.Array(Type.Object({ before: LexiconEntry, after: LexiconEntry })),
});
export type LexiconDiffReply = Static<typeof LexiconDiffReply>;

// ---------------------------------------------------------------------------------------------
// Retroactive scans
// ---------------------------------------------------------------------------------------------

/** `POST /v1/lexicon/rescans`: re-scan archived records of a period with a published version. */
export const RescanRequest = Type.Object(
  {
    /** default: the published version */
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    corpId: Type.Optional(CorpId),
    /** this unit and every unit below it (needs corpId) */
    orgUnitId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    /** records scanned per second at most (default 2000) so live traffic keeps its latency */
    ratePerSecond: Type.Optional(Type.Integer({ minimum: 10, maximum: 100000 })),
  },
  { additionalProperties: false },
);
export type RescanRequest = Static<typeof RescanRequest>;

/**
 * `POST /v1/lexicon/draft/publish`: the draft becomes the published version (live scanning picks
 * it up within seconds); optionally starts a retroactive scan. An admin action, audited (a
 * maker-checker request once the portal's approvals exist).
 */
export const LexiconPublishRequest = Type.Object(
  {
    note: Type.String({ minLength: 1, maxLength: 500 }),
    rescan: Type.Optional(RescanRequest),
  },
  { additionalProperties: false },
);

export type LexiconPublishRequest = Static<typeof LexiconPublishRequest>;

export const RescanStatus = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('done'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
]);
export type RescanStatus = Static<typeof RescanStatus>;

export const RescanJobView = Type.Object({
  id: Type.String(),
  version: Type.Integer(),
  corpId: Type.Union([Type.String(), Type.Null()]),
  orgUnitId: Type.Union([Type.String(), Type.Null()]),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  ratePerSecond: Type.Integer(),
  status: RescanStatus,
  /** records scanned so far / in the period (estimate until done) */
  scanned: Type.Integer(),
  total: Type.Union([Type.Integer(), Type.Null()]),
  alerts: Type.Integer(),
  requestedBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  error: Type.Union([Type.String(), Type.Null()]),
});
export type RescanJobView = Static<typeof RescanJobView>;

/** The 200 of `POST /v1/lexicon/draft/publish`: the new version, the one it replaced, the scan queued with it. */
export const LexiconPublishReply = Type.Composite([
  LexiconVersionView,
  Type.Object({
    previous: Type.Union([Type.Integer(), Type.Null()]),
    rescan: Type.Union([RescanJobView, Type.Null()]),
  }),
]);
export type LexiconPublishReply = Static<typeof LexiconPublishReply>;

export const RescanJobListReply = Type.Object({ items: Type.Array(RescanJobView) });
export type RescanJobListReply = Static<typeof RescanJobListReply>;

export const RescanJobParams = Type.Object(
  { id: Type.String({ pattern: '^[0-9a-f]{32}$' }) },
  { additionalProperties: false },
);
export type RescanJobParams = Static<typeof RescanJobParams>;

// ---------------------------------------------------------------------------------------------
// Alerts workflow
// ---------------------------------------------------------------------------------------------

export const ComplianceAlertStatus = Type.Union([
  Type.Literal('open'),
  Type.Literal('acknowledged'),
  /** overdue (or escalated by hand): now with the next level of the org tree */
  Type.Literal('escalated'),
  Type.Literal('resolved'),
  Type.Literal('false_positive'),
]);
export type ComplianceAlertStatus = Static<typeof ComplianceAlertStatus>;

export const AlertAction = Type.Union([
  Type.Literal('acknowledge'),
  Type.Literal('resolve'),
  Type.Literal('false_positive'),
  Type.Literal('escalate'),
  Type.Literal('reopen'),
  /** a note only; the status stays */
  Type.Literal('comment'),
]);
export type AlertAction = Static<typeof AlertAction>;

/** The lifecycle: from which statuses each action applies and the status it leads to (null: unchanged). */
export const ALERT_TRANSITIONS: Record<
  AlertAction,
  { from: readonly ComplianceAlertStatus[]; to: ComplianceAlertStatus | null; noteRequired: boolean }
> = {
  acknowledge: { from: ['open', 'escalated'], to: 'acknowledged', noteRequired: false },
  resolve: { from: ['open', 'acknowledged', 'escalated'], to: 'resolved', noteRequired: true },
  false_positive: { from: ['open', 'acknowledged', 'escalated'], to: 'false_positive', noteRequired: true },
  escalate: { from: ['open', 'acknowledged'], to: 'escalated', noteRequired: true },
  reopen: { from: ['resolved', 'false_positive'], to: 'open', noteRequired: true },
  comment: {
    from: ['open', 'acknowledged', 'escalated', 'resolved', 'false_positive'],
    to: null,
    noteRequired: true,
  },
};

/** open / acknowledged / escalated alerts have a due time; closed ones do not count. */
export const SlaState = Type.Union([
  Type.Literal('ok'),
  /** less than a quarter of its SLA left */
  Type.Literal('due_soon'),
  Type.Literal('overdue'),
  /** closed, or no SLA */
  Type.Literal('none'),
]);
export type SlaState = Static<typeof SlaState>;

/**
 * The SLA state of an alert (console, filters, escalation): `due_soon` when less than a quarter of
 * the time between raising and due is left; closed alerts and alerts without a due time: `none`.
 */
export function slaStateOf(
  status: ComplianceAlertStatus,
  dueAt: Date | null,
  raisedAt: Date,
  now = Date.now(),
): SlaState {
  if (dueAt === null || status === 'resolved' || status === 'false_positive') return 'none';
  const left = dueAt.getTime() - now;
  if (left <= 0) return 'overdue';
  return left < Math.max(0, dueAt.getTime() - raisedAt.getTime()) / 4 ? 'due_soon' : 'ok';
}

/** Default SLA hours: complaints 24 h (REG-11); otherwise by severity. Admins change them per category. */
export const DEFAULT_SLA_HOURS: { complaint: number; bySeverity: Record<AlertSeverity, number> } = {
  complaint: 24,
  bySeverity: { critical: 4, warning: 24, info: 72 },
};

/** A hit as the alert keeps it: offsets into the record's text (message text or transcript). */
export const AlertHit = Type.Object({
  ruleId: Type.String(),
  term: Type.String(),
  category: LexiconCategory,
  severity: AlertSeverity,
  via: HitVia,
  start: Type.Integer({ minimum: 0 }),
  end: Type.Integer({ minimum: 0 }),
  /** calls: the transcript segment the offsets are in */
  segment: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type AlertHit = Static<typeof AlertHit>;

/** Which record an alert is about. */
export const AlertRecordKind = Type.Union([
  Type.Literal('message'),
  Type.Literal('call'),
  Type.Literal('event'),
]);
export type AlertRecordKind = Static<typeof AlertRecordKind>;

export const ComplianceAlertView = Type.Object({
  id: Type.String(),
  corpId: Type.String(),
  /** `lexicon.<category>` */
  kind: Type.String(),
  category: Type.Union([LexiconCategory, Type.Null()]),
  severity: AlertSeverity,
  status: ComplianceAlertStatus,
  ruleId: Type.Union([Type.String(), Type.Null()]),
  lexiconVersion: Type.Union([Type.Integer(), Type.Null()]),
  /** raised by a retroactive scan (not live) */
  retroactive: Type.Boolean(),
  recordKind: AlertRecordKind,
  msgid: Type.Union([Type.String(), Type.Null()]),
  callId: Type.Union([Type.String(), Type.Null()]),
  /** archive id of the message or call (32 hex): the console jumps to it */
  archiveId: Type.Union([Type.String(), Type.Null()]),
  conversationId: Type.Union([Type.String(), Type.Null()]),
  /** the employee the alert is about (WeCom userid or agent id) and their org unit */
  employee: Type.Union([Type.String(), Type.Null()]),
  orgUnitId: Type.Union([Type.String(), Type.Null()]),
  orgUnitName: Type.Union([Type.String(), Type.Null()]),
  /** where the alert sits now (escalation moves it up the tree) */
  assignedOrgUnitId: Type.Union([Type.String(), Type.Null()]),
  escalationLevel: Type.Integer(),
  /** the record's time (message time / call start) */
  recordTime: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  raisedAt: Type.String({ format: 'date-time' }),
  dueAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  slaState: SlaState,
  /** every hit of the rule in the record (the lexicon's words and offsets, never the text) */
  hits: Type.Array(AlertHit),
  explanation: Type.String(),
  reg: Type.Array(Type.String()),
  updatedAt: Type.String({ format: 'date-time' }),
  lastActor: Type.Union([Type.String(), Type.Null()]),
});
export type ComplianceAlertView = Static<typeof ComplianceAlertView>;

/** `GET /v1/alerts` */
export const ComplianceAlertQuery = Type.Object(
  {
    corpId: Type.Optional(CorpId),
    msgid: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    callId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /** one status or several, comma-separated; `active` = open,acknowledged,escalated */
    status: Type.Optional(Type.String({ maxLength: 100, pattern: '^[a-z_,]+$' })),
    severity: Type.Optional(AlertSeverity),
    category: Type.Optional(LexiconCategory),
    orgUnitId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'raisedAt inclusive' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'raisedAt exclusive' })),
    sla: Type.Optional(SlaState),
    retroactive: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
export type ComplianceAlertQuery = Static<typeof ComplianceAlertQuery>;

export const ComplianceAlertListReply = Type.Object({
  items: Type.Array(ComplianceAlertView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  /** within the caller's scope and the query's filters other than status / sla */
  counts: Type.Object({
    open: Type.Integer(),
    acknowledged: Type.Integer(),
    escalated: Type.Integer(),
    overdue: Type.Integer(),
  }),
});
export type ComplianceAlertListReply = Static<typeof ComplianceAlertListReply>;

export const AlertParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9a-f]+$' }) },
  { additionalProperties: false },
);
export type AlertParams = Static<typeof AlertParams>;

export const AlertEventView = Type.Object({
  at: Type.String({ format: 'date-time' }),
  /** a username, or `system` (SLA escalation, notification dead-letter) */
  actor: Type.String(),
  action: Type.Union([
    AlertAction,
    Type.Literal('raised'),
    Type.Literal('sla_escalated'),
    Type.Literal('notified'),
  ]),
  fromStatus: Type.Union([ComplianceAlertStatus, Type.Null()]),
  toStatus: Type.Union([ComplianceAlertStatus, Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()]),
});
export type AlertEventView = Static<typeof AlertEventView>;

export const ComplianceAlertDetail = Type.Composite([
  ComplianceAlertView,
  Type.Object({ history: Type.Array(AlertEventView) }),
]);
export type ComplianceAlertDetail = Static<typeof ComplianceAlertDetail>;

/** `POST /v1/alerts/:id/actions` (notes are sealed at rest) */
export const AlertActionRequest = Type.Object(
  {
    action: AlertAction,
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type AlertActionRequest = Static<typeof AlertActionRequest>;

/** `POST /v1/alerts/actions`: one action on many alerts (bulk acknowledge / resolve). */
export const BulkAlertActionRequest = Type.Object(
  {
    ids: Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9a-f]+$' }), {
      minItems: 1,
      maxItems: 200,
    }),
    action: AlertAction,
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type BulkAlertActionRequest = Static<typeof BulkAlertActionRequest>;

/** Per alert: applied, or why not (`not_found` also for alerts outside the caller's scope). */
export const BulkAlertActionReply = Type.Object({
  results: Type.Array(
    Type.Object({
      id: Type.String(),
      ok: Type.Boolean(),
      error: Type.Optional(
        Type.Union([
          Type.Literal('not_found'),
          Type.Literal('invalid_transition'),
          Type.Literal('note_required'),
        ]),
      ),
      status: Type.Optional(ComplianceAlertStatus),
    }),
  ),
});
export type BulkAlertActionReply = Static<typeof BulkAlertActionReply>;

/** One SLA rule: `category` `*` and / or `severity` `*` match any; the most specific wins. */
export const SlaPolicyRule = Type.Object(
  {
    category: Type.Union([LexiconCategory, Type.Literal('*')]),
    severity: Type.Union([AlertSeverity, Type.Literal('*')]),
    hours: Type.Number({ exclusiveMinimum: 0, maximum: 720 }),
  },
  { additionalProperties: false },
);
export type SlaPolicyRule = Static<typeof SlaPolicyRule>;

/** `GET` / `PUT /v1/alerts/sla` (admin) */
export const SlaPolicy = Type.Object(
  { rules: Type.Array(SlaPolicyRule, { maxItems: 100 }) },
  { additionalProperties: false },
);
export type SlaPolicy = Static<typeof SlaPolicy>;

// ---------------------------------------------------------------------------------------------
// Notifications
// ---------------------------------------------------------------------------------------------

/**
 * Where alerts are sent, all inside the intranet: a generic webhook (JSON POST), a WeCom group
 * robot webhook (its `msgtype: markdown` body), or e-mail through the institution's SMTP relay.
 * A notification carries the alert's kind, category, severity, corp, due time and a console link,
 * never message content or personal data.
 */
export const NotificationChannelKind = Type.Union([
  Type.Literal('webhook'),
  Type.Literal('wecom_robot'),
  Type.Literal('email'),
]);
export type NotificationChannelKind = Static<typeof NotificationChannelKind>;

export const NotificationChannelInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    kind: NotificationChannelKind,
    /** webhook / wecom_robot: the https (or http, intranet) URL; sealed at rest (robot keys are secrets) */
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    /** email: recipients */
    to: Type.Optional(Type.Array(Type.String({ format: 'email', maxLength: 200 }), { maxItems: 50 })),
    /** alerts at least this severe */
    minSeverity: AlertSeverity,
    /** only these categories (empty: all) */
    categories: Type.Array(LexiconCategory, { maxItems: 10 }),
    /** also notify when an alert is escalated */
    onEscalation: Type.Boolean(),
    enabled: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type NotificationChannelInput = Static<typeof NotificationChannelInput>;

export const NotificationChannelView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: NotificationChannelKind,
  /** the URL's origin only (the path may hold a robot key); e-mail: the recipients, comma-separated */
  target: Type.String(),
  minSeverity: AlertSeverity,
  categories: Type.Array(LexiconCategory),
  onEscalation: Type.Boolean(),
  enabled: Type.Boolean(),
  counts: Type.Object({ sent: Type.Integer(), retrying: Type.Integer(), dead: Type.Integer() }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type NotificationChannelView = Static<typeof NotificationChannelView>;

export const NotificationChannelListReply = Type.Object({ items: Type.Array(NotificationChannelView) });
export type NotificationChannelListReply = Static<typeof NotificationChannelListReply>;

export const NotificationChannelParams = Type.Object(
  { id: Type.String({ pattern: '^[0-9a-f]{32}$' }) },
  { additionalProperties: false },
);
export type NotificationChannelParams = Static<typeof NotificationChannelParams>;

export const DeliveryStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('retrying'),
  Type.Literal('sent'),
  /** every retry failed: kept for an operator, never retried by itself */
  Type.Literal('dead'),
]);
export type DeliveryStatus = Static<typeof DeliveryStatus>;

export const NotificationDeliveryView = Type.Object({
  id: Type.String(),
  channelId: Type.String(),
  alertId: Type.String(),
  /** `test`: a channel test from the portal (a synthetic alert id, one attempt) */
  event: Type.Union([Type.Literal('raised'), Type.Literal('escalated'), Type.Literal('test')]),
  status: DeliveryStatus,
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  sentAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type NotificationDeliveryView = Static<typeof NotificationDeliveryView>;

/** `GET /v1/notifications/deliveries?status=dead` */
export const NotificationDeliveryQuery = Type.Object(
  {
    status: Type.Optional(DeliveryStatus),
    channelId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{32}$' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);
export type NotificationDeliveryQuery = Static<typeof NotificationDeliveryQuery>;

/** `POST /v1/notifications/channels/:id/test`: 200 when the receiver took it; 502 with the reason otherwise. */
export const NotificationTestReply = Type.Object({
  ok: Type.Boolean(),
  status: DeliveryStatus,
  error: Type.Union([Type.String(), Type.Null()]),
});
export type NotificationTestReply = Static<typeof NotificationTestReply>;

/** `POST /v1/notifications/deliveries/:id/retry` */
export const NotificationDeliveryParams = Type.Object(
  { id: Type.String({ pattern: '^[0-9]{1,20}$' }) },
  { additionalProperties: false },
);
export type NotificationDeliveryParams = Static<typeof NotificationDeliveryParams>;

export const NotificationDeliveryListReply = Type.Object({ items: Type.Array(NotificationDeliveryView) });
export type NotificationDeliveryListReply = Static<typeof NotificationDeliveryListReply>;

// ---------------------------------------------------------------------------------------------
// Review queue (抽检复核)
// ---------------------------------------------------------------------------------------------

/**
 * Conversation-days to review: every conversation-day with an alert, and a random sample of
 * conversation-days without one (supervision of what the lexicon does not catch).
 */
export const ReviewReason = Type.Union([Type.Literal('alert'), Type.Literal('sample')]);
export type ReviewReason = Static<typeof ReviewReason>;

export const ReviewStatus = Type.Union([
  Type.Literal('pending'),
  /** reviewed, nothing wrong */
  Type.Literal('passed'),
  /** reviewed, a problem the reviewer describes in the note */
  Type.Literal('issue'),
  Type.Literal('skipped'),
]);
export type ReviewStatus = Static<typeof ReviewStatus>;

export const ReviewItemView = Type.Object({
  id: Type.String(),
  corpId: Type.String(),
  conversationId: Type.String(),
  /** the day (Asia/Shanghai) of the conversation under review, YYYY-MM-DD */
  day: Type.String(),
  reason: ReviewReason,
  alertCount: Type.Integer(),
  orgUnitId: Type.Union([Type.String(), Type.Null()]),
  orgUnitName: Type.Union([Type.String(), Type.Null()]),
  status: ReviewStatus,
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  decidedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
export type ReviewItemView = Static<typeof ReviewItemView>;

export const ReviewQuery = Type.Object(
  {
    status: Type.Optional(ReviewStatus),
    reason: Type.Optional(ReviewReason),
    corpId: Type.Optional(CorpId),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
export type ReviewQuery = Static<typeof ReviewQuery>;

export const ReviewListReply = Type.Object({
  items: Type.Array(ReviewItemView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type ReviewListReply = Static<typeof ReviewListReply>;

export const ReviewParams = Type.Object(
  { id: Type.String({ pattern: '^[0-9a-f]{32}$' }) },
  { additionalProperties: false },
);
export type ReviewParams = Static<typeof ReviewParams>;

/** `POST /v1/reviews/:id/decision` (an `issue` needs a note) */
export const ReviewDecisionRequest = Type.Object(
  {
    decision: Type.Union([Type.Literal('passed'), Type.Literal('issue'), Type.Literal('skipped')]),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type ReviewDecisionRequest = Static<typeof ReviewDecisionRequest>;

/** `GET` / `PUT /v1/reviews/config` (admin): how much of the alert-free traffic is sampled daily. */
export const ReviewSamplingConfig = Type.Object(
  {
    /** share of the previous day's alert-free conversation-days drawn, in percent */
    samplePercent: Type.Number({ minimum: 0, maximum: 100 }),
    /** at most this many samples per corp and day */
    maxPerDay: Type.Integer({ minimum: 0, maximum: 10000 }),
  },
  { additionalProperties: false },
);
export type ReviewSamplingConfig = Static<typeof ReviewSamplingConfig>;
