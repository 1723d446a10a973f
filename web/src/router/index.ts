import type { Role } from '@cz/contracts';
import { createRouter, createWebHistory, type RouteLocationRaw } from 'vue-router';
import { useSessionStore } from '@/stores/session';

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without a session. */
    public?: boolean;
    /** If set, the user needs at least one of these roles. */
    roles?: readonly Role[];
    /** the menu entry to mark active on a page that has none of its own */
    navParent?: string;
    /** who sees the console's menu entry of a public page that the console links to */
    menuRoles?: readonly Role[];
  }
}

/** Who may read archived content (the portal's archive routes accept the same roles). */
export const ARCHIVE_READERS: readonly Role[] = ['auditor', 'risk_officer', 'admin'];

/** Who handles alerts (acknowledge, resolve, …); readers see them only. */
export const ALERT_HANDLERS: readonly Role[] = ['risk_officer', 'admin'];
/** Who edits the lexicon's draft; publishing is an admin's. */
export const LEXICON_EDITORS: readonly Role[] = ['risk_officer', 'admin'];
export const LEXICON_PUBLISHERS: readonly Role[] = ['admin'];
/** Who records review decisions (the admin configures sampling, the reviewers decide). */
export const REVIEWERS: readonly Role[] = ['auditor', 'risk_officer'];
/** Channels, SLA rules and sampling settings. */
export const COMPLIANCE_ADMINS: readonly Role[] = ['admin'];

const HOME = '/messages';

export const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    {
      path: '/login',
      name: 'login',
      component: () => import('@/views/login/index.vue'),
      meta: { public: true },
    },
    {
      // security officers sign in on the page itself with their key-service credential: no portal session
      path: '/keys',
      name: 'keys',
      component: () => import('@/views/keys/index.vue'),
      meta: { public: true, menuRoles: ['security_officer', 'admin'] },
    },
    {
      path: '/',
      component: () => import('@/layouts/console-layout.vue'),
      redirect: HOME,
      children: [
        {
          path: 'messages',
          name: 'messages',
          component: () => import('@/views/messages/index.vue'),
          meta: { roles: ARCHIVE_READERS },
        },
        {
          path: 'search',
          name: 'search',
          component: () => import('@/views/search/index.vue'),
          meta: { roles: ARCHIVE_READERS },
        },
        {
          path: 'conversations/:corpId/:conversationId',
          name: 'conversation',
          component: () => import('@/views/conversation/index.vue'),
          meta: { roles: ARCHIVE_READERS, navParent: 'search' },
        },
        {
          path: 'alerts',
          name: 'alerts',
          component: () => import('@/views/alerts/index.vue'),
          meta: { roles: ARCHIVE_READERS },
        },
        {
          path: 'alerts/settings',
          name: 'alert-settings',
          component: () => import('@/views/alert-settings/index.vue'),
          meta: { roles: COMPLIANCE_ADMINS, navParent: 'alerts' },
        },
        {
          path: 'lexicon',
          name: 'lexicon',
          component: () => import('@/views/lexicon/index.vue'),
          meta: { roles: ARCHIVE_READERS },
        },
        {
          path: 'reviews',
          name: 'reviews',
          component: () => import('@/views/reviews/index.vue'),
          meta: { roles: ARCHIVE_READERS },
        },
        {
          path: 'admin/scopes',
          name: 'scopes',
          component: () => import('@/views/scopes/index.vue'),
          meta: { roles: ['admin'] },
        },
        { path: 'forbidden', name: 'forbidden', component: () => import('@/views/forbidden/index.vue') },
      ],
    },
    { path: '/:pathMatch(.*)*', redirect: HOME },
  ],
});

/** Only same-app paths: `?redirect=` must never send the user to another origin. */
export function safeRedirect(target: unknown): string {
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//')) return HOME;
  if (target.startsWith('/login')) return HOME;
  return target;
}

/** The session ended under the user's feet (a 401): clear it and log in again, then come back here. */
export function onSessionExpired(): void {
  useSessionStore().clear();
  const current = router.currentRoute.value;
  if (current.name !== 'login') {
    void router.replace({ name: 'login', query: { redirect: current.fullPath } });
  }
}

// The one guard: login redirect and role check.
router.beforeEach((to): RouteLocationRaw | boolean => {
  const session = useSessionStore();
  if (to.meta.public) {
    return to.name === 'login' && session.isLoggedIn ? safeRedirect(to.query.redirect) : true;
  }
  if (!session.isLoggedIn) {
    session.clear(); // drop an expired token
    return { name: 'login', query: { redirect: to.fullPath } };
  }
  const required = to.meta.roles;
  if (required && !required.some((role) => session.user?.roles.includes(role))) {
    return to.name === 'forbidden' ? true : { name: 'forbidden' };
  }
  return true;
});
