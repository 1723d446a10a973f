import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { createKeysApi } from '@/api/keys';

/**
 * A security officer signed in to the key-management page with their own key-service credential.
 * Kept in this tab only (sessionStorage, never localStorage), apart from the portal session, and
 * dropped on sign-out, when the key service refuses it, and after 15 minutes without activity.
 */
const STORAGE_KEY = 'cz.officer';
export const OFFICER_IDLE_MS = 15 * 60 * 1000;

interface StoredOfficer {
  credential: string;
  name: string;
  lastActiveAt: number;
}

function parseStored(raw: string): StoredOfficer | null {
  try {
    const parsed = JSON.parse(raw) as Partial<StoredOfficer>;
    if (
      typeof parsed.credential !== 'string' ||
      typeof parsed.name !== 'string' ||
      typeof parsed.lastActiveAt !== 'number'
    )
      return null;
    // a tab reopened after the idle limit starts signed out
    return Date.now() - parsed.lastActiveAt > OFFICER_IDLE_MS ? null : (parsed as StoredOfficer);
  } catch {
    return null;
  }
}

function readStored(): StoredOfficer | null {
  const raw = sessionStorage.getItem(STORAGE_KEY);
  if (!raw) return null;
  const stored = parseStored(raw);
  // an expired or unreadable entry does not stay behind
  if (!stored) sessionStorage.removeItem(STORAGE_KEY);
  return stored;
}

export const useOfficerStore = defineStore('officer', () => {
  const stored = readStored();
  const credential = ref<string | null>(stored?.credential ?? null);
  const name = ref<string | null>(stored?.name ?? null);
  const lastActiveAt = ref<number>(stored?.lastActiveAt ?? 0);
  /** why the officer was signed out, for the sign-in form */
  const signedOutBecause = ref<'idle' | 'refused' | null>(null);
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  const isSignedIn = computed(() => credential.value !== null && name.value !== null);

  function persist(): void {
    if (credential.value && name.value) {
      const value: StoredOfficer = {
        credential: credential.value,
        name: name.value,
        lastActiveAt: lastActiveAt.value,
      };
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(value));
    } else {
      sessionStorage.removeItem(STORAGE_KEY);
    }
  }

  function armIdleTimer(): void {
    clearTimeout(idleTimer);
    if (!isSignedIn.value) return;
    const left = OFFICER_IDLE_MS - (Date.now() - lastActiveAt.value);
    idleTimer = setTimeout(() => signOut('idle'), Math.max(0, left));
  }

  /** the officer did something (a click, a key, a successful call): the idle clock restarts */
  function touch(): void {
    if (!isSignedIn.value) return;
    // at most one write a second: pointer moves come in bursts
    if (Date.now() - lastActiveAt.value < 1000) return;
    lastActiveAt.value = Date.now();
    persist();
    armIdleTimer();
  }

  function signOut(reason: 'idle' | 'refused' | null = null): void {
    credential.value = null;
    name.value = null;
    lastActiveAt.value = 0;
    signedOutBecause.value = reason;
    clearTimeout(idleTimer);
    persist();
  }

  const api = createKeysApi({
    credential: () => credential.value,
    onUnauthorized: () => signOut('refused'),
    onActivity: touch,
  });

  /** Checks the credential with the key service; throws its refusal (shown by the sign-in form). */
  async function signIn(typed: string): Promise<void> {
    const value = typed.trim();
    const self = await api.whoAmI(value);
    credential.value = value;
    name.value = self.name;
    lastActiveAt.value = Date.now();
    signedOutBecause.value = null;
    persist();
    armIdleTimer();
  }

  armIdleTimer();

  return { name, isSignedIn, signedOutBecause, api, signIn, signOut, touch };
});
