import { Type, type Static } from '@sinclair/typebox';
import { CallerCorp, CallerOperation } from './callers';
import { DataClassName, PrincipalName, RequestReason } from './keys';

/*
 * Service callers of the key service as security officers manage them: every change is a
 * dual-control request (ks_request, kinds caller.*), listed and decided like keyring requests.
 */

/**
 * POST /v1/callers: a request (202, KeyRequestView of kind caller.issue) that a second officer
 * approves; nothing is granted by default (no classes, no operations, no corps).
 */
export const CreateCallerRequest = Type.Object(
  {
    name: PrincipalName,
    classes: Type.Optional(Type.Array(DataClassName, { uniqueItems: true })),
    operations: Type.Optional(Type.Array(CallerOperation, { uniqueItems: true })),
    corps: Type.Optional(Type.Array(CallerCorp, { uniqueItems: true, maxItems: 64 })),
    reason: Type.Optional(RequestReason),
  },
  { additionalProperties: false },
);
export type CreateCallerRequest = Static<typeof CreateCallerRequest>;

/** POST /v1/callers/:name/widen: grants added to what the caller has (202, caller.widen request) */
export const WidenCallerRequest = Type.Object(
  {
    classes: Type.Optional(Type.Array(DataClassName, { uniqueItems: true })),
    operations: Type.Optional(Type.Array(CallerOperation, { uniqueItems: true })),
    corps: Type.Optional(Type.Array(CallerCorp, { uniqueItems: true, maxItems: 64 })),
    reason: RequestReason,
  },
  { additionalProperties: false },
);
export type WidenCallerRequest = Static<typeof WidenCallerRequest>;

export const CallerView = Type.Object({
  name: Type.String(),
  kind: Type.Literal('service'),
  classes: Type.Array(DataClassName),
  operations: Type.Array(CallerOperation),
  corps: Type.Array(CallerCorp),
  state: Type.Union([Type.Literal('active'), Type.Literal('revoked')]),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.String(),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedBy: Type.Union([Type.String(), Type.Null()]),
});
export type CallerView = Static<typeof CallerView>;

export const CallerListReply = Type.Object({ callers: Type.Array(CallerView) });
export type CallerListReply = Static<typeof CallerListReply>;
