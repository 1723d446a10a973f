import { Type, type Static } from '@sinclair/typebox';

/*
 * Key service API (services/keyservice). Binary values (shares, keys, wrapped keys) travel as
 * base64url strings. Three kinds of caller: anyone (status, init once, unseal with a share),
 * services with a per-service bearer credential (data keys), and security officers with their own
 * bearer credential (keyrings, dual-control requests, rewrap, audit).
 */

export const DataClassName = Type.Union([
  Type.Literal('chat'),
  Type.Literal('recording'),
  Type.Literal('pii'),
  Type.Literal('index'),
  Type.Literal('audit'),
]);
export type DataClassName = Static<typeof DataClassName>;

const Base64Url = (maxLength: number) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+$' });
export const PrincipalName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_.-]*$' });

export const KeyServiceStatus = Type.Object({
  initialized: Type.Boolean(),
  sealed: Type.Boolean(),
  /** shares needed to unseal (0 before init) */
  threshold: Type.Integer(),
  shares: Type.Integer(),
  /** distinct valid shares submitted in the current unseal round */
  progress: Type.Integer(),
});
export type KeyServiceStatus = Static<typeof KeyServiceStatus>;

/**
 * POST /v1/sys/init, once, with the deployment's one-time bootstrap secret. Every enrolled officer
 * (POST /v1/sys/enrol, at least two) gets one Shamir share, so shares = enrolled officers.
 */
export const KeyInitRequest = Type.Object(
  {
    threshold: Type.Integer({ minimum: 2, maximum: 16 }),
    bootstrapSecret: Type.String({ minLength: 16, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type KeyInitRequest = Static<typeof KeyInitRequest>;

export const IssuedCredential = Type.Object({ name: Type.String(), token: Type.String() });
export type IssuedCredential = Static<typeof IssuedCredential>;

/** What one officer gets from init: only ciphertexts to their own SM2 key (C1C3C2, hex). */
export const OfficerInitPackage = Type.Object({
  name: Type.String(),
  /** sm2.doEncrypt(share base64url, officerPublicKey, 1) */
  encryptedShare: Type.String(),
  /** sm2.doEncrypt(officer bearer credential, officerPublicKey, 1) */
  encryptedCredential: Type.String(),
});
export type OfficerInitPackage = Static<typeof OfficerInitPackage>;

/** The runner of init sees no share and no credential in the clear. */
export const KeyInitReply = Type.Object({
  threshold: Type.Integer(),
  shares: Type.Integer(),
  officers: Type.Array(OfficerInitPackage),
});
export type KeyInitReply = Static<typeof KeyInitReply>;

/**
 * POST /v1/sys/unseal carries the officer's credential (Authorization: Bearer cko_…): a share is
 * accepted only from the officer it was issued to, and only an officer may reset a round.
 */
export const UnsealRequest = Type.Union([
  Type.Object({ share: Base64Url(200) }, { additionalProperties: false }),
  Type.Object({ reset: Type.Literal(true) }, { additionalProperties: false }),
]);
export type UnsealRequest = Static<typeof UnsealRequest>;

export const DataKeyRequest = Type.Object({ dataClass: DataClassName }, { additionalProperties: false });
export type DataKeyRequest = Static<typeof DataKeyRequest>;

export const WrappedKeyJson = Type.Object(
  {
    kekId: Type.String({ minLength: 1, maxLength: 64 }),
    kekVersion: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    wrapped: Base64Url(1400),
  },
  { additionalProperties: false },
);
export type WrappedKeyJson = Static<typeof WrappedKeyJson>;

export const DataKeyReply = Type.Object({
  /** the data key itself: only ever sent to the authenticated service that asked */
  plaintext: Type.String(),
  kekId: Type.String(),
  kekVersion: Type.Integer(),
  wrapped: Type.String(),
  /** a daily key may be used for new objects until then (end of its day) */
  useUntil: Type.Optional(Type.String({ format: 'date-time' })),
});
export type DataKeyReply = Static<typeof DataKeyReply>;

export const UnwrapReply = Type.Object({ plaintext: Type.String() });
export type UnwrapReply = Static<typeof UnwrapReply>;

export const IndexKeyRequest = Type.Object(
  { purpose: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9-]*$' }) },
  { additionalProperties: false },
);
export type IndexKeyRequest = Static<typeof IndexKeyRequest>;

/** a 32-byte blind-index key, the same for a purpose for the life of the index */
export const IndexKeyReply = Type.Object({ key: Type.String() });
export type IndexKeyReply = Static<typeof IndexKeyReply>;

export const RewrapBlobsRequest = Type.Object(
  { items: Type.Array(WrappedKeyJson, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);
export type RewrapBlobsRequest = Static<typeof RewrapBlobsRequest>;

export const RewrapBlobsReply = Type.Object({ items: Type.Array(WrappedKeyJson) });
export type RewrapBlobsReply = Static<typeof RewrapBlobsReply>;

export const KeyringView = Type.Object({
  dataClass: DataClassName,
  kekId: Type.String(),
  latestVersion: Type.Integer(),
  minDecryptionVersion: Type.Integer(),
  /** 0 = no automatic rotation */
  autoRotatePeriodSeconds: Type.Integer(),
  deletionAllowed: Type.Boolean(),
  rotatedAt: Type.String({ format: 'date-time' }),
  /** stored (daily) data keys by the KEK version they are wrapped under; destroyed ones apart */
  dataKeys: Type.Object({
    byVersion: Type.Record(Type.String(), Type.Integer()),
    destroyed: Type.Integer(),
  }),
});
export type KeyringView = Static<typeof KeyringView>;

export const KeyringListReply = Type.Object({ keyrings: Type.Array(KeyringView) });
export type KeyringListReply = Static<typeof KeyringListReply>;

export const KeyRequestKind = Type.Union([
  Type.Literal('rotate'),
  Type.Literal('set_min_decryption_version'),
  Type.Literal('set_auto_rotate_period'),
  Type.Literal('set_deletion_allowed'),
  Type.Literal('destroy_data_keys'),
]);
export type KeyRequestKind = Static<typeof KeyRequestKind>;

export const CreateKeyRequest = Type.Object(
  {
    kind: KeyRequestKind,
    dataClass: DataClassName,
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    /** set_min_decryption_version */
    version: Type.Optional(Type.Integer({ minimum: 1, maximum: 0xffffffff })),
    /** set_auto_rotate_period (0 turns it off) */
    periodSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 * 366 * 86400 })),
    /** set_deletion_allowed */
    allowed: Type.Optional(Type.Boolean()),
    /** destroy_data_keys: every daily key of a day before this date (YYYY-MM-DD) is destroyed */
    before: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
  },
  { additionalProperties: false },
);
export type CreateKeyRequest = Static<typeof CreateKeyRequest>;

export const KeyRequestStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('executed'),
  Type.Literal('rejected'),
  Type.Literal('failed'),
]);
export type KeyRequestStatus = Static<typeof KeyRequestStatus>;

/** Requests about who may call the key service (dual control too; see POST /v1/callers). */
export const CustodyRequestKind = Type.Union([
  /** a new service caller; refused (409 caller_exists) for a name that exists */
  Type.Literal('caller.issue'),
  /** a fresh credential for an existing caller (the old one stops working), also after revocation */
  Type.Literal('caller.reissue'),
  /** more classes, operations or corps for an existing caller */
  Type.Literal('caller.widen'),
  Type.Literal('caller.revoke'),
  Type.Literal('officer.revoke'),
]);
export type CustodyRequestKind = Static<typeof CustodyRequestKind>;

export const KeyRequestView = Type.Object({
  id: Type.String(),
  kind: Type.Union([KeyRequestKind, CustodyRequestKind]),
  /** null for caller and officer requests */
  dataClass: Type.Union([DataClassName, Type.Null()]),
  params: Type.Record(Type.String(), Type.Unknown()),
  reason: Type.String(),
  status: KeyRequestStatus,
  requestedBy: Type.String(),
  requestedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  decidedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  result: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  /** why the deciding officer rejected it */
  decisionReason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /**
   * caller.issue / caller.reissue: the new credential, encrypted to the requesting officer's SM2
   * key, is `waiting` until that officer collects it once (GET /v1/requests/:id/credential)
   */
  credential: Type.Optional(
    Type.Union([Type.Literal('none'), Type.Literal('waiting'), Type.Literal('collected')]),
  ),
});
export type KeyRequestView = Static<typeof KeyRequestView>;

export const KeyRequestListQuery = Type.Object(
  { status: Type.Optional(KeyRequestStatus) },
  { additionalProperties: false },
);
export type KeyRequestListQuery = Static<typeof KeyRequestListQuery>;

export const KeyRequestListReply = Type.Object({ requests: Type.Array(KeyRequestView) });
export type KeyRequestListReply = Static<typeof KeyRequestListReply>;

export const RewrapJobRequest = Type.Object(
  { dataClass: Type.Optional(DataClassName) },
  { additionalProperties: false },
);
export type RewrapJobRequest = Static<typeof RewrapJobRequest>;

export const RewrapJobView = Type.Object({
  id: Type.String(),
  dataClass: Type.Union([DataClassName, Type.Null()]),
  /** interrupted: its replica stopped; start another, rewrap is idempotent */
  status: Type.Union([
    Type.Literal('running'),
    Type.Literal('done'),
    Type.Literal('failed'),
    Type.Literal('interrupted'),
  ]),
  total: Type.Integer(),
  done: Type.Integer(),
  failed: Type.Integer(),
  requestedBy: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
});
export type RewrapJobView = Static<typeof RewrapJobView>;

export const AuditVerifyReply = Type.Object({
  intact: Type.Boolean(),
  events: Type.Integer(),
  /** sequence number of the first event whose link does not verify */
  firstBroken: Type.Union([Type.String(), Type.Null()]),
  headHash: Type.String(),
});
export type AuditVerifyReply = Static<typeof AuditVerifyReply>;

export const RequestReason = Type.String({ minLength: 1, maxLength: 500 });

/** POST /v1/callers/:name/reissue | /revoke, POST /v1/officers/:name/revoke (202, a request) */
export const CustodyReasonRequest = Type.Object({ reason: RequestReason }, { additionalProperties: false });
export type CustodyReasonRequest = Static<typeof CustodyReasonRequest>;

/** POST /v1/requests/:id/reject */
export const RejectKeyRequest = Type.Object({ reason: RequestReason }, { additionalProperties: false });
export type RejectKeyRequest = Static<typeof RejectKeyRequest>;

/**
 * GET /v1/requests/:id/credential (the requesting officer, once): the approved caller's bearer
 * credential, SM2-encrypted (C1C3C2, hex) to that officer's enrolled public key.
 */
export const CollectedCredential = Type.Object({
  name: Type.String(),
  /** sm2.doEncrypt(token, officerPublicKey, 1) */
  encryptedToken: Type.String(),
});
export type CollectedCredential = Static<typeof CollectedCredential>;

export const OfficerView = Type.Object({
  name: Type.String(),
  /** enrolled: public key known, no credential yet (before init); active; revoked */
  state: Type.Union([Type.Literal('enrolled'), Type.Literal('active'), Type.Literal('revoked')]),
  enrolledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /** SM3 of the enrolled SM2 public key (hex of 04‖X‖Y decoded), null if none enrolled */
  publicKeyFingerprint: Type.Union([Type.String(), Type.Null()]),
});
export type OfficerView = Static<typeof OfficerView>;

export const OfficerListReply = Type.Object({ officers: Type.Array(OfficerView) });
export type OfficerListReply = Static<typeof OfficerListReply>;

/** SM2 public key, uncompressed: 04 ‖ X ‖ Y in hex */
export const Sm2PublicKeyHex = Type.String({ pattern: '^04[0-9a-fA-F]{128}$' });

/**
 * POST /v1/sys/enrol: an officer's SM2 public key, before init, with the deployment's one-time
 * bootstrap secret (CZ_KEYS_BOOTSTRAP_SECRET).
 */
export const EnrolOfficerRequest = Type.Object(
  {
    name: PrincipalName,
    publicKey: Sm2PublicKeyHex,
    bootstrapSecret: Type.String({ minLength: 16, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type EnrolOfficerRequest = Static<typeof EnrolOfficerRequest>;

/**
 * POST /v1/officers/me/public-key: an officer of a key service initialised before enrolment
 * existed registers their SM2 key once (officer credential; refused if one is registered).
 */
export const RegisterOfficerKeyRequest = Type.Object(
  { publicKey: Sm2PublicKeyHex },
  { additionalProperties: false },
);
export type RegisterOfficerKeyRequest = Static<typeof RegisterOfficerKeyRequest>;
