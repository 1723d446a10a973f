import { Type, type Static } from '@sinclair/typebox';

/** PUT /v1/puller/corps/:corpId — the chat-archive secret is sealed at once and never returned. */
export const PullerCorpRequest = Type.Object(
  {
    secret: Type.String({ minLength: 1, maxLength: 256 }),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export type PullerCorpRequest = Static<typeof PullerCorpRequest>;

/** PUT /v1/puller/corps/:corpId/keys/:publickeyVer — one RSA private key (PEM, PKCS#1 or PKCS#8). */
export const PullerKeyRequest = Type.Object(
  { privateKeyPem: Type.String({ minLength: 100, maxLength: 16384 }) },
  { additionalProperties: false },
);
export type PullerKeyRequest = Static<typeof PullerKeyRequest>;

export const PullerKeyReply = Type.Object({
  corpId: Type.String(),
  publickeyVer: Type.Integer(),
  /** SHA-256 of the public key (SPKI DER), to compare with the key registered in WeCom */
  publicKeySha256: Type.String(),
});
export type PullerKeyReply = Static<typeof PullerKeyReply>;

export const PullerCorpStatus = Type.Object({
  corpId: Type.String(),
  enabled: Type.Boolean(),
  /** last seq whose batch ingest acknowledged */
  checkpointSeq: Type.Integer(),
  state: Type.String({ description: 'idle, starting, pulling, backoff, stopped, lease_held_elsewhere' }),
  childPid: Type.Union([Type.Integer(), Type.Null()]),
  childRestarts: Type.Integer(),
  keyVersions: Type.Array(Type.Integer()),
  lastError: Type.Union([Type.String(), Type.Null()]),
  openQuarantine: Type.Integer(),
  pendingMedia: Type.Integer(),
});
export type PullerCorpStatus = Static<typeof PullerCorpStatus>;

export const PullerStatusReply = Type.Object({
  sdkConfigured: Type.Boolean(),
  corps: Type.Array(PullerCorpStatus),
});
export type PullerStatusReply = Static<typeof PullerStatusReply>;
