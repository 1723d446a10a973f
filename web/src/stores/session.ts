import type { CurrentUser, LoginReply, Role } from '@cz/contracts';
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import * as authApi from '@/api/auth';

const STORAGE_KEY = 'cz.session';

interface StoredSession {
  token: string;
  expiresAt: string;
  user: CurrentUser;
}

// sessionStorage: the session dies with the tab, as bank policy expects on shared terminals.
function readStored(): StoredSession | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<StoredSession>;
    if (typeof parsed.token !== 'string' || typeof parsed.expiresAt !== 'string' || !parsed.user) return null;
    return parsed as StoredSession;
  } catch {
    return null;
  }
}

export const useSessionStore = defineStore('session', () => {
  const stored = readStored();
  const token = ref<string | null>(stored?.token ?? null);
  const expiresAt = ref<string | null>(stored?.expiresAt ?? null);
  const user = ref<CurrentUser | null>(stored?.user ?? null);

  const isLoggedIn = computed(
    () => token.value !== null && (expiresAt.value === null || Date.parse(expiresAt.value) > Date.now()),
  );

  function persist(): void {
    if (token.value && expiresAt.value && user.value) {
      const value: StoredSession = { token: token.value, expiresAt: expiresAt.value, user: user.value };
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(value));
    } else {
      sessionStorage.removeItem(STORAGE_KEY);
    }
  }

  function setSession(reply: LoginReply): void {
    token.value = reply.token;
    expiresAt.value = reply.expiresAt;
    user.value = reply.user;
    persist();
  }

  function clear(): void {
    token.value = null;
    expiresAt.value = null;
    user.value = null;
    persist();
  }

  async function login(username: string, password: string): Promise<void> {
    setSession(await authApi.login({ username, password }));
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout();
    } catch {
      // The server may already have forgotten the token; the local session goes either way.
    } finally {
      clear();
    }
  }

  /** Re-read the user from the server (roles or display name may have changed). */
  async function refreshUser(): Promise<void> {
    user.value = await authApi.fetchCurrentUser();
    persist();
  }

  /** Whether the user holds one of `roles` (pages hide what the portal would refuse). */
  function hasRole(roles: readonly Role[]): boolean {
    return roles.some((role) => user.value?.roles.includes(role) ?? false);
  }

  return { token, expiresAt, user, isLoggedIn, login, logout, clear, refreshUser, hasRole };
});
