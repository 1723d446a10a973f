import { Type, type Static } from '@sinclair/typebox';

/** Every error reply of every service: a stable machine code and a human reason. */
export const ErrorReply = Type.Object(
  {
    code: Type.String({ description: 'stable machine-readable code, e.g. validation_failed' }),
    message: Type.String(),
  },
  { $id: 'ErrorReply' },
);
export type ErrorReply = Static<typeof ErrorReply>;

export const HealthReply = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  service: Type.String(),
  checks: Type.Record(Type.String(), Type.String()),
});
export type HealthReply = Static<typeof HealthReply>;

/** Corp (enterprise) id as issued by WeCom, or the institution code for call centres. */
export const CorpId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });
