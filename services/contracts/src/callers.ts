import { Type, type Static } from '@sinclair/typebox';
import { DataClassName } from './keys';

/*
 * Service callers and what they may do. A caller (a service of ours, the bank's CRM, the puller of
 * one corp, the local tools) holds one bearer credential issued by the key service under dual
 * control, or presents a client certificate from the institution's CA whose subject CN is its name.
 * Every service that accepts writes or internal reads asks the key service who the caller is
 * (introspection), caches the answer for at most 30 s, and checks the operation and the corp.
 */

/** Every operation a caller can be granted; deny by default. */
export const CallerOperation = Type.Union([
  /** key service: today's / a fresh data key (to seal) */
  Type.Literal('keys.seal'),
  /** key service: unwrap a stored data key (to open) */
  Type.Literal('keys.unwrap'),
  /** key service: blind-index keys */
  Type.Literal('keys.index'),
  /** key service: rewrap stored wrapped keys under the newest KEK version */
  Type.Literal('keys.rewrap'),
  /** key service: look up other callers' grants (services that authenticate their own callers) */
  Type.Literal('callers.introspect'),
  /** ingest: post chat messages, calls and events */
  Type.Literal('ingest.write'),
  /** recordings: upload recordings and media */
  Type.Literal('recordings.write'),
  /** recordings: read recordings and media */
  Type.Literal('recordings.read'),
  /** archiver: completeness and stats reads */
  Type.Literal('archiver.read'),
  /** archiver: run a completeness reconciliation */
  Type.Literal('archiver.reconcile'),
  /** compliance: lexicon versions, entries, tester, publish and retroactive scans (the portal relays) */
  Type.Literal('compliance.lexicon'),
]);
export type CallerOperation = Static<typeof CallerOperation>;

/** A corp id, or `*` for every corp (our own services and the local tools only). */
export const CallerCorp = Type.String({ minLength: 1, maxLength: 64, pattern: '^(\\*|[A-Za-z0-9_.-]+)$' });

/** What one caller may do: its data classes (key service), its operations and its corps. */
export const CallerGrants = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('service'), Type.Literal('officer')]),
  classes: Type.Array(DataClassName),
  operations: Type.Array(CallerOperation),
  corps: Type.Array(CallerCorp),
});
export type CallerGrants = Static<typeof CallerGrants>;

/** POST /v1/callers/introspect (needs `callers.introspect`): who holds this bearer credential. */
export const IntrospectRequest = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
export type IntrospectRequest = Static<typeof IntrospectRequest>;

/** An unknown, revoked or disabled credential is `active: false` (never an error). */
export const IntrospectReply = Type.Union([
  Type.Object({ active: Type.Literal(true), caller: CallerGrants }),
  Type.Object({ active: Type.Literal(false) }),
]);
export type IntrospectReply = Static<typeof IntrospectReply>;
