import { Type, type Static } from '@sinclair/typebox';
import { RewrapJobView } from './keys';

/*
 * Read-only listings of the key service for the security officers' console page (密钥管理):
 * recent rewrap jobs and recent events of the key service's own audit chain. Officer credential
 * only; the portal relays them unchanged (/v1/keyservice/…).
 */

export const RewrapJobListQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })) },
  { additionalProperties: false },
);
export type RewrapJobListQuery = Static<typeof RewrapJobListQuery>;

/** newest first */
export const RewrapJobListReply = Type.Object({ jobs: Type.Array(RewrapJobView) });
export type RewrapJobListReply = Static<typeof RewrapJobListReply>;

export const KeyAuditEventListQuery = Type.Object(
  {
    /** events before this sequence number (the next page); newest otherwise */
    before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,18}$' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);
export type KeyAuditEventListQuery = Static<typeof KeyAuditEventListQuery>;

export const KeyAuditEventView = Type.Object({
  seq: Type.String(),
  at: Type.String({ format: 'date-time' }),
  /** `officer:<name>`, `service:<name>`, `system` or `anonymous` */
  actor: Type.String(),
  action: Type.String(),
  outcome: Type.Union([Type.Literal('ok'), Type.Literal('refused'), Type.Literal('failed')]),
  /** the error code of a refusal, '' when ok */
  code: Type.String(),
  target: Type.String(),
  /** never key material, shares or credentials (the key service never writes them here) */
  detail: Type.Record(Type.String(), Type.Unknown()),
  hash: Type.String(),
  /**
   * this event's own link: its hash recomputes and its predecessor's hash is its prev_hash. The
   * whole chain (including the head and cut-off ends) is checked by GET /v1/audit/verify.
   */
  linkIntact: Type.Boolean(),
});
export type KeyAuditEventView = Static<typeof KeyAuditEventView>;

/** newest first; `nextBefore` pages further back (null at the first event) */
export const KeyAuditEventListReply = Type.Object({
  events: Type.Array(KeyAuditEventView),
  nextBefore: Type.Union([Type.String(), Type.Null()]),
});
export type KeyAuditEventListReply = Static<typeof KeyAuditEventListReply>;

/** GET /v1/officers/me: whose officer credential this is (the console shows it and hides self-approval) */
export const OfficerSelfReply = Type.Object({ name: Type.String(), kind: Type.Literal('officer') });
export type OfficerSelfReply = Static<typeof OfficerSelfReply>;
