import type { DataScopeView } from '@cz/contracts';
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { fetchMyScope } from '@/api/scope';

/**
 * The signed-in user's data scope (REG-05), shown in the header so staff know which part of the
 * bank their results cover. The portal enforces it; this is only what the console displays.
 */
export const useScopeStore = defineStore('scope', () => {
  const scope = ref<DataScopeView | null>(null);

  async function load(): Promise<void> {
    scope.value = null;
    try {
      scope.value = await fetchMyScope();
    } catch {
      // shown as unknown; the request client handles an expired session
    }
  }

  return { scope, load };
});
