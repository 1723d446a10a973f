import type { ConversationMessage, ConversationQuery, ConversationReply } from '@cz/contracts';
import { nextTick, ref, watch, type Ref } from 'vue';
import { getConversation } from '@/api/conversations';
import { toLoadFailure, usePaging, type LoadFailure } from '@/composables/paging';
import { useCorpStore } from '@/stores/corps';

/** messages either side of the focused one when a conversation opens */
const WINDOW = 25;
/** messages per "older" / "newer" page */
const PAGE = 30;

export type ConversationMeta = Omit<ConversationReply, 'items' | 'olderCursor' | 'newerCursor' | 'focusId'>;
export type Anchor = 'around' | 'start' | 'latest';

export interface ConversationTarget {
  corpId: Ref<string>;
  conversationId: Ref<string>;
  /** the message to open the conversation at, if any */
  around: Ref<string | null>;
  /** else a time to open it at (a review of one day), if any */
  at?: Ref<string | null>;
}

/**
 * The part of a conversation on screen: opened around a message, at its start or at its latest
 * message, then widened page by page towards either end. One request at a time: a jump aborts a page
 * still loading. Reopens whenever the target changes.
 */
export function useConversationWindow(target: ConversationTarget, scroller: Ref<HTMLElement | null>) {
  const corpStore = useCorpStore();
  const paging = usePaging();

  const meta = ref<ConversationMeta | null>(null);
  const items = ref<ConversationMessage[]>([]);
  const olderCursor = ref<string | null>(null);
  const newerCursor = ref<string | null>(null);
  const focusId = ref<string | null>(null);
  const loading = ref(false);
  const loadingOlder = ref(false);
  const loadingNewer = ref(false);
  const failure = ref<LoadFailure | null>(null);

  async function fetchWindow(
    busy: Ref<boolean>,
    query: ConversationQuery,
  ): Promise<ConversationReply | null> {
    const { corpId, conversationId } = target;
    const result = await paging.load(busy, (signal) =>
      getConversation(corpId.value, conversationId.value, query, signal),
    );
    if (result.status === 'superseded') return null;
    if (result.status === 'failed') {
      failure.value = toLoadFailure(result.error);
      return null;
    }
    corpStore.remember([result.value.corpId]);
    return result.value;
  }

  /** Scrolls a message (or, for null, the start or end of the list) into view once it is rendered. */
  function scrollTo(id: string | null, block: ScrollLogicalPosition = 'center'): void {
    void nextTick(() => {
      const container = scroller.value;
      if (!container) return;
      if (id === null) {
        container.scrollTop = block === 'start' ? 0 : container.scrollHeight;
        return;
      }
      container.querySelector(`[data-message-id="${CSS.escape(id)}"]`)?.scrollIntoView({ block });
    });
  }

  async function open(anchor: Anchor): Promise<void> {
    failure.value = null;
    const around = target.around.value;
    const at = target.at?.value ?? null;
    const query: ConversationQuery =
      anchor === 'around' && around
        ? { around, before: WINDOW, after: WINDOW }
        : anchor === 'around' && at
          ? { at, before: 0, after: WINDOW * 2 }
          : anchor === 'start' && meta.value
            ? { at: meta.value.firstTime, before: 0, after: WINDOW * 2 }
            : { before: WINDOW * 2, after: 0 };
    const reply = await fetchWindow(loading, query);
    if (!reply) {
      if (failure.value) items.value = [];
      return;
    }
    const { items: list, olderCursor: older, newerCursor: newer, focusId: focus, ...rest } = reply;
    meta.value = rest;
    items.value = list;
    olderCursor.value = older;
    newerCursor.value = newer;
    focusId.value = focus;
    if (focus) scrollTo(focus);
    else scrollTo(null, anchor === 'start' || (anchor === 'around' && at) ? 'start' : 'end');
  }

  async function loadOlder(): Promise<void> {
    if (!olderCursor.value || loadingOlder.value) return;
    const reply = await fetchWindow(loadingOlder, { cursor: olderCursor.value, before: PAGE });
    if (!reply) return;
    const container = scroller.value;
    const fromBottom = container ? container.scrollHeight - container.scrollTop : 0;
    const known = new Set(items.value.map((m) => m.id));
    items.value = [...reply.items.filter((m) => !known.has(m.id)), ...items.value];
    olderCursor.value = reply.olderCursor;
    // keep the messages on screen where they were
    await nextTick();
    if (container) container.scrollTop = container.scrollHeight - fromBottom;
  }

  async function loadNewer(): Promise<void> {
    if (!newerCursor.value || loadingNewer.value) return;
    const reply = await fetchWindow(loadingNewer, { cursor: newerCursor.value, after: PAGE });
    if (!reply) return;
    const known = new Set(items.value.map((m) => m.id));
    items.value = [...items.value, ...reply.items.filter((m) => !known.has(m.id))];
    newerCursor.value = reply.newerCursor;
  }

  watch(
    () => [target.corpId.value, target.conversationId.value, target.around.value, target.at?.value],
    () => {
      meta.value = null;
      void open(target.around.value || target.at?.value ? 'around' : 'latest');
    },
    { immediate: true },
  );

  return {
    meta,
    items,
    olderCursor,
    newerCursor,
    focusId,
    loading,
    loadingOlder,
    loadingNewer,
    failure,
    open,
    loadOlder,
    loadNewer,
    scrollTo,
  };
}
