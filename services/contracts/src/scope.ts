import { Type, type Static } from '@sinclair/typebox';
import { CorpId } from './common';
import { Role } from './portal';
import { OrgUnitId } from './search';

/*
 * Data scopes (REG-05, PIPL minimum necessary). A portal user sees either everything (head office)
 * or what involves the org units of their scope, each with every unit below it; a user without a
 * scope sees nothing. Chats and calls in which a protected employee takes part are visible only to
 * users with the `super_admin` role. See README "Data scopes" for the exact rule.
 */

/** One org unit of a corp (the unit and everything below it). */
export const ScopeUnitRef = Type.Object(
  { corpId: CorpId, orgUnitId: OrgUnitId },
  { additionalProperties: false },
);
export type ScopeUnitRef = Static<typeof ScopeUnitRef>;

/** `PUT /v1/admin/users/:username/scope`: `all` for head office, or the units (never both). */
export const DataScopeInput = Type.Object(
  {
    all: Type.Boolean(),
    units: Type.Array(ScopeUnitRef, { maxItems: 200, default: [] }),
  },
  { additionalProperties: false },
);
export type DataScopeInput = Static<typeof DataScopeInput>;

export const ScopeUnitView = Type.Object({
  corpId: Type.String(),
  orgUnitId: Type.String(),
  /** null when the unit is no longer in the org tree (it then grants nothing) */
  name: Type.Union([Type.String(), Type.Null()]),
});
export type ScopeUnitView = Static<typeof ScopeUnitView>;

export const DataScopeView = Type.Object({
  /** `none`: no scope configured (or only units that no longer exist): the user sees nothing */
  mode: Type.Union([Type.Literal('all'), Type.Literal('units'), Type.Literal('none')]),
  units: Type.Array(ScopeUnitView),
  /** the user has the `super_admin` role: protected employees' chats are not left out */
  superAdmin: Type.Boolean(),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
});
export type DataScopeView = Static<typeof DataScopeView>;

export const UserScopeParams = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
export type UserScopeParams = Static<typeof UserScopeParams>;

export const UserScopeView = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  roles: Type.Array(Role),
  disabled: Type.Boolean(),
  scope: DataScopeView,
});
export type UserScopeView = Static<typeof UserScopeView>;

export const UserScopeListReply = Type.Object({ items: Type.Array(UserScopeView) });
export type UserScopeListReply = Static<typeof UserScopeListReply>;

export const ProtectedEmployeeParams = Type.Object(
  { corpId: CorpId, userid: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);
export type ProtectedEmployeeParams = Static<typeof ProtectedEmployeeParams>;

export const ProtectedEmployeeQuery = Type.Object(
  { corpId: Type.Optional(CorpId) },
  { additionalProperties: false },
);
export type ProtectedEmployeeQuery = Static<typeof ProtectedEmployeeQuery>;

export const ProtectedEmployeeView = Type.Object({
  corpId: Type.String(),
  userid: Type.String(),
  /** the employee's org unit in the directory (null when the unit was removed) */
  orgUnitId: Type.Union([Type.String(), Type.Null()]),
  addedBy: Type.String(),
  addedAt: Type.String({ format: 'date-time' }),
});
export type ProtectedEmployeeView = Static<typeof ProtectedEmployeeView>;

export const ProtectedEmployeeListReply = Type.Object({ items: Type.Array(ProtectedEmployeeView) });
export type ProtectedEmployeeListReply = Static<typeof ProtectedEmployeeListReply>;

/**
 * `GET /v1/media/:corpId/:mediaId` (portal): a user with a data scope or without the super-admin
 * right names the message that refers to the media; the media is served when that message is
 * visible to them and refers to it.
 */
export const MediaPlaybackQuery = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal('original'), Type.Literal('playable')])),
    /** archive id of a message that refers to the media */
    message: Type.Optional(Type.String({ pattern: '^[0-9a-f]{32}$' })),
  },
  { additionalProperties: false },
);
export type MediaPlaybackQuery = Static<typeof MediaPlaybackQuery>;
