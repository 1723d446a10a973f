import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { configureClient } from './api/client';
import { currentLocale, i18n, setLocale } from './locales';
import { onSessionExpired, router } from './router';
import { useSessionStore } from './stores/session';
import './styles/index.css';

const app = createApp(App);
app.use(createPinia()); // before the router: its guard reads the session store
// The request client learns the session and the 401 handling here, not by importing them (no cycle).
configureClient({ token: () => useSessionStore().token, onUnauthorized: onSessionExpired });
app.use(i18n);
app.use(router);
setLocale(currentLocale());
app.mount('#app');
