import { Type, type Static } from '@sinclair/typebox';
import { MediaRef } from './wecom-types';

export const Role = Type.Union([
  Type.Literal('auditor'),
  Type.Literal('risk_officer'),
  Type.Literal('security_officer'),
  Type.Literal('admin'),
  /**
   * REG-05: sees chats and calls of protected employees (executives, finance), which every other
   * user's results leave out. A right on top of a reader role; the org scope still applies.
   */
  Type.Literal('super_admin'),
]);
export type Role = Static<typeof Role>;

export const LoginRequest = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);
export type LoginRequest = Static<typeof LoginRequest>;

export const CurrentUser = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  roles: Type.Array(Role),
});
export type CurrentUser = Static<typeof CurrentUser>;

export const LoginReply = Type.Object({
  /** opaque bearer token; send as `Authorization: Bearer <token>` */
  token: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  user: CurrentUser,
});
export type LoginReply = Static<typeof LoginReply>;

export const MessageListQuery = Type.Object(
  {
    employee: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'WeCom userid of the employee (sender or recipient)',
      }),
    ),
    from: Type.Optional(
      Type.String({ format: 'date-time', description: 'inclusive lower bound of msgtime' }),
    ),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'exclusive upper bound of msgtime' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    /** opaque keyset cursor from a previous page */
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
export type MessageListQuery = Static<typeof MessageListQuery>;

/**
 * A media reference as the console gets it. `mediaId` (SM3 of the sdkfileid) names the stored bytes:
 * `GET /v1/media/{corpId}/{mediaId}` (audited; 404 while the puller has not fetched them yet).
 */
export const MediaRefView = Type.Composite([MediaRef, Type.Object({ mediaId: Type.String() })]);
export type MediaRefView = Static<typeof MediaRefView>;

export const MessageView = Type.Object({
  id: Type.String(),
  corpId: Type.String(),
  msgid: Type.String(),
  action: Type.String(),
  msgtype: Type.Union([Type.String(), Type.Null()]),
  from: Type.String(),
  tolist: Type.Array(Type.String()),
  roomid: Type.Union([Type.String(), Type.Null()]),
  conversationId: Type.String(),
  msgtime: Type.String({ format: 'date-time' }),
  /** searchable text, personal data masked (phones 138****1234, ID and bank cards) */
  text: Type.String(),
  /** media the message refers to (file names masked like text) */
  media: Type.Array(MediaRefView),
  /** the sender recalled (撤回) this message; it stays archived and visible */
  recalled: Type.Boolean(),
  /** for a recall record: msgid of the message it recalled */
  recallOf: Type.Union([Type.String(), Type.Null()]),
  /** msgtype unknown to Cunzheng: archived raw, text is best effort */
  unknownType: Type.Boolean(),
  /**
   * the sealed record failed its integrity check against this row (e.g. `binding_mismatch`: moved
   * from another row): nothing of its content is shown, only the row's own columns
   */
  integrityError: Type.Optional(Type.String()),
});
export type MessageView = Static<typeof MessageView>;

export const MessageListReply = Type.Object({
  items: Type.Array(MessageView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type MessageListReply = Static<typeof MessageListReply>;
