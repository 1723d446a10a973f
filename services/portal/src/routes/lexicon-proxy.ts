import fp from 'fastify-plugin';
import type { RelayFetch } from './keys-proxy';

export interface ComplianceRelayOptions {
  /** the compliance service, e.g. https://127.0.0.1:8085; without it every lexicon path is 503 */
  url?: string;
  /** the portal's caller credential (granted compliance.lexicon) */
  token?: string;
  fetch?: RelayFetch;
}

/** Lexicon routes relayed to the compliance service (stub: filled in by its part of issue 11). */
export default fp<ComplianceRelayOptions>(async () => {}, { name: 'portal-lexicon-relay' });
