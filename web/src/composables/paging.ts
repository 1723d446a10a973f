import { onScopeDispose, type Ref } from 'vue';
import { ApiError, isAbortError } from '@/api/client';

/** How one page request ended. A superseded page (a newer one started, or the page was left) is dropped. */
export type PageResult<T> =
  { status: 'done'; value: T } | { status: 'failed'; error: unknown } | { status: 'superseded' };

/** A failed load as the pages show it. */
export interface LoadFailure {
  status: number;
  code: string;
  message: string;
}

export function toLoadFailure(error: unknown): LoadFailure {
  return error instanceof ApiError
    ? { status: error.status, code: error.code, message: error.message }
    : { status: 0, code: 'unexpected', message: String(error) };
}

/**
 * Paging with cancel: at most one page request in flight. Starting one aborts the one before (a new
 * search while "load more" runs, a jump in a conversation), so a late reply never overwrites a newer
 * one; leaving the page (or the store's scope) aborts it too.
 *
 * Each request names the `busy` flag it drives (first page, "load more", "older", ...): the flag is
 * set while the request is the current one and cleared when it ends or is superseded.
 */
export function usePaging() {
  let inFlight: { controller: AbortController; busy: Ref<boolean> } | null = null;

  async function load<T>(
    busy: Ref<boolean>,
    fetchPage: (signal: AbortSignal) => Promise<T>,
  ): Promise<PageResult<T>> {
    cancel();
    const current = { controller: new AbortController(), busy };
    inFlight = current;
    busy.value = true;
    try {
      const value = await fetchPage(current.controller.signal);
      return inFlight === current ? { status: 'done', value } : { status: 'superseded' };
    } catch (error) {
      if (isAbortError(error) || inFlight !== current) return { status: 'superseded' };
      return { status: 'failed', error };
    } finally {
      if (inFlight === current) {
        inFlight = null;
        busy.value = false;
      }
    }
  }

  /** Aborts the request in flight, if any. */
  function cancel(): void {
    if (!inFlight) return;
    inFlight.controller.abort();
    inFlight.busy.value = false;
    inFlight = null;
  }

  onScopeDispose(cancel);
  return { load, cancel };
}
