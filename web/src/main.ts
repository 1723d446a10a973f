import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { currentLocale, i18n, setLocale } from './locales';
import { router } from './router';
import './styles/index.css';

const app = createApp(App);
app.use(createPinia()); // before the router: its guard reads the session store
app.use(i18n);
app.use(router);
setLocale(currentLocale());
app.mount('#app');
