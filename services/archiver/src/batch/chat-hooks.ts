import type { DataSource } from 'typeorm';
import { IndexPurposes, indexKeyFor } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { TokenHasher } from '@cz/common/search';
import type { ArchiveHook } from '../rows';
import { searchIndexHook } from '../search/search-index';
import { alertLinkHook } from '../alerts/alert-links';
import { conversationHook } from '../org/conversations';
import { customerRegistryHook } from '../org/customers';

/**
 * What every archived chat batch does besides storing the messages, in its transaction: register
 * customers, maintain conversations and participants, index the text for keyword search, link the
 * alerts that arrived before their message. The evidence log (its own issue) adds its leaf-writing
 * hook here.
 */
export async function chatArchiveHooks(db: DataSource, keys: KeyProvider): Promise<ArchiveHook[]> {
  const hasher = new TokenHasher(await indexKeyFor(keys, IndexPurposes.searchToken));
  return [customerRegistryHook(db, keys), conversationHook, searchIndexHook(hasher), alertLinkHook];
}
