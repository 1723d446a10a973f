import type { SearchHit, SearchQuery, SearchTotal } from '@cz/contracts';
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { search } from '@/api/search';
import { toLoadFailure, usePaging, type LoadFailure } from '@/composables/paging';
import { emptySearchFilters, toSearchQuery, type SearchFilters } from '@/views/search/types';
import { useCorpStore } from './corps';
import { useSessionStore } from './session';

/**
 * The search page's state, kept in memory (not in the URL: keywords and customer filters may hold
 * personal data that must not land in browser history), so that coming back from a conversation
 * shows the same results without searching — and auditing — again. Cleared whenever the session changes (logout, expiry, another user).
 */
export const useSearchStore = defineStore('search', () => {
  const filters = ref<SearchFilters>(emptySearchFilters());
  /** the query behind the hits on screen; "load more" continues it even if the form was edited */
  const applied = ref<SearchQuery | null>(null);
  const hits = ref<SearchHit[]>([]);
  const nextCursor = ref<string | null>(null);
  const total = ref<SearchTotal | null>(null);
  const partial = ref(false);
  const ignoredTerms = ref<string[]>([]);
  const examined = ref({ scanned: 0, verified: 0 });
  const loading = ref(false);
  const loadingMore = ref(false);
  const failure = ref<LoadFailure | null>(null);
  /** the hit last opened, to scroll back to it */
  const lastOpened = ref<string | null>(null);

  const paging = usePaging();

  async function fetchPage(cursor: string | null): Promise<void> {
    const query = applied.value;
    if (!query) return;
    const append = cursor !== null;
    failure.value = null;
    const result = await paging.load(append ? loadingMore : loading, (signal) =>
      search(cursor ? { ...query, cursor, count: false } : query, signal),
    );
    if (result.status === 'superseded') return;
    if (result.status === 'failed') {
      failure.value = toLoadFailure(result.error);
      if (!append) {
        hits.value = [];
        nextCursor.value = null;
        total.value = null;
      }
      return;
    }
    const reply = result.value;
    hits.value = append ? [...hits.value, ...reply.items] : reply.items;
    nextCursor.value = reply.nextCursor;
    partial.value = reply.partial;
    if (!append) {
      total.value = reply.total;
      ignoredTerms.value = reply.ignoredTerms;
      examined.value = { ...reply.examined };
    } else {
      examined.value = {
        scanned: examined.value.scanned + reply.examined.scanned,
        verified: examined.value.verified + reply.examined.verified,
      };
    }
    useCorpStore().remember(
      reply.items.map((hit) => (hit.kind === 'message' ? hit.message.corpId : hit.call.corpId)),
    );
  }

  function run(): Promise<void> {
    applied.value = toSearchQuery(filters.value);
    hits.value = [];
    nextCursor.value = null;
    total.value = null;
    partial.value = false;
    ignoredTerms.value = [];
    examined.value = { scanned: 0, verified: 0 };
    lastOpened.value = null;
    return fetchPage(null);
  }

  function loadMore(): Promise<void> {
    if (!nextCursor.value || loadingMore.value) return Promise.resolve();
    return fetchPage(nextCursor.value);
  }

  function reset(): void {
    paging.cancel();
    filters.value = emptySearchFilters();
    applied.value = null;
    hits.value = [];
    nextCursor.value = null;
    total.value = null;
    partial.value = false;
    ignoredTerms.value = [];
    failure.value = null;
    lastOpened.value = null;
  }

  watch(
    () => useSessionStore().token,
    () => reset(),
  );

  return {
    filters,
    applied,
    hits,
    nextCursor,
    total,
    partial,
    ignoredTerms,
    examined,
    loading,
    loadingMore,
    failure,
    lastOpened,
    run,
    loadMore,
    reset,
  };
});
