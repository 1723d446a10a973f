import type { KeyProvider } from './crypto';

/**
 * Blind-index keys. A blind index (`blindIndex` in ./crypto) needs a stable secret key per purpose;
 * it must come from the same key hierarchy as the data keys, so it is asked of the key provider.
 * This is the one place services get such a key: today the development provider derives it from
 * its master key (see keyProviderFromEnv); the key service will answer `indexKey` from the unsealed
 * root key. Keys are separated per purpose so indexes of different data cannot be joined.
 */
export interface IndexKeySource {
  /** a 32-byte secret for one blind-index purpose; the same purpose always yields the same key */
  indexKey(purpose: string): Promise<Buffer>;
}

/** The purposes in use; add one here rather than inventing a name at a call site. */
export const IndexPurposes = {
  /** external userid of a consent decision (consent_event.subject_index) */
  consent: 'consent',
  /** content fingerprint of a chat record (message.content_mac), to tell redeliveries from msgid conflicts */
  messageContent: 'message-content',
  /** a customer's phone number, normalised by `phoneIndexToken` (CDR customer numbers, behaviour events) */
  phone: 'phone',
  /** a customer's WeCom external userid (behaviour events) */
  externalUserId: 'external-userid',
  /** content fingerprint of a CDR (call_record.content_mac), to tell redeliveries from callId conflicts */
  callContent: 'call-content',
  /** content fingerprint of a behaviour event (behaviour_event.content_mac) */
  eventContent: 'event-content',
  /** keyword-search tokens of chat text and transcripts (search_token.token), see ./search */
  searchToken: 'search-token',
  /** a person's name, trimmed and NFKC-folded (employee.name_index, customer.name_index) */
  personName: 'person-name',
} as const;
export type IndexPurpose = (typeof IndexPurposes)[keyof typeof IndexPurposes];

export function canProvideIndexKeys(keys: KeyProvider): keys is KeyProvider & IndexKeySource {
  return typeof (keys as Partial<IndexKeySource>).indexKey === 'function';
}

export async function indexKeyFor(keys: KeyProvider, purpose: IndexPurpose): Promise<Buffer> {
  if (!canProvideIndexKeys(keys)) {
    throw new Error(
      `the key provider cannot supply blind-index keys (purpose ${purpose}): it must implement indexKey(purpose)`,
    );
  }
  return keys.indexKey(purpose);
}
