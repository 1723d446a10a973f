import { onScopeDispose, ref } from 'vue';
import { ApiError, isAbortError } from '@/api/client';
import type { LoadedMedia, RecordingLoadOptions } from '@/api/playback';
import { i18n } from '@/locales';

export type PlaybackState = 'idle' | 'loading' | 'ready' | 'failed';

/** Reads the bytes (a call recording or a chat attachment) through the request client. */
export type PlaybackLoader = (options: Required<RecordingLoadOptions>) => Promise<LoadedMedia>;

export interface PlaybackOptions {
  /** 'idle' waits for `load` (a listening is an audited read, so only on demand); 'loading' shows progress at once */
  initial: 'idle' | 'loading';
  /** the message when the load fails for another reason than the server's */
  failedText: () => string;
  /** the message for a 404, when it means something more specific than the server's reason */
  notFoundText?: () => string;
}

/**
 * The state of one player (call recordings, chat media): loads the bytes on demand with progress,
 * plays them from a Blob URL, aborts a superseded load and frees the Blob URL when the player goes.
 */
export function usePlayback(loader: PlaybackLoader, options: PlaybackOptions) {
  const state = ref<PlaybackState>(options.initial);
  const percent = ref(0);
  const source = ref<string | null>(null);
  const loaded = ref<LoadedMedia | null>(null);
  const error = ref('');
  /** retrying cannot help when the file is too large for the browser, or cannot be decoded */
  const retryable = ref(true);
  let controller: AbortController | null = null;

  /** Drops the load in flight and the bytes on hand. */
  function release(): void {
    controller?.abort();
    controller = null;
    if (source.value) URL.revokeObjectURL(source.value);
    source.value = null;
    loaded.value = null;
  }

  async function load(): Promise<void> {
    release();
    const current = new AbortController();
    controller = current;
    state.value = 'loading';
    percent.value = 0;
    error.value = '';
    retryable.value = true;
    try {
      const result = await loader({
        signal: current.signal,
        onProgress: (done, total) => {
          percent.value = total > 0 ? Math.floor((done / total) * 100) : 100;
        },
      });
      loaded.value = result;
      source.value = URL.createObjectURL(result.blob);
      state.value = 'ready';
    } catch (cause) {
      if (isAbortError(cause)) return;
      if (cause instanceof ApiError && cause.status === 404 && options.notFoundText) {
        error.value = options.notFoundText();
        retryable.value = true;
      } else {
        error.value = cause instanceof ApiError ? cause.message : options.failedText();
        retryable.value = !(cause instanceof ApiError && cause.code === 'recording_too_large');
      }
      state.value = 'failed';
    }
  }

  /** the bytes arrived but the browser cannot decode them (format, or a damaged file) */
  function onUndecodable(): void {
    error.value = i18n.global.t('playback.undecodable', { type: loaded.value?.contentType ?? '' });
    retryable.value = false;
    state.value = 'failed';
  }

  onScopeDispose(release);
  return { state, percent, source, loaded, error, retryable, load, release, onUndecodable };
}
