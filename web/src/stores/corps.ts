import { defineStore } from 'pinia';
import { ref } from 'vue';

const STORAGE_KEY = 'cz.corps';
const MAX_CORPS = 20;

function readStored(): string[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]');
    return Array.isArray(parsed)
      ? parsed.filter((c): c is string => typeof c === 'string').slice(0, MAX_CORPS)
      : [];
  } catch {
    return [];
  }
}

/**
 * The WeCom corps this console has seen in archived records. The portal has no corp list, and the
 * org tree is read per corp (`GET /v1/org/:corpId`), so the org filter offers the corps seen here.
 * Corp ids are configuration, not personal data; they are kept in localStorage.
 */
export const useCorpStore = defineStore('corps', () => {
  const corps = ref<string[]>(readStored());

  function remember(ids: Iterable<string>): void {
    const next = [...corps.value];
    for (const id of ids) if (id && !next.includes(id)) next.push(id);
    if (next.length === corps.value.length) return;
    corps.value = next.slice(0, MAX_CORPS);
    localStorage.setItem(STORAGE_KEY, JSON.stringify(corps.value));
  }

  return { corps, remember };
});
