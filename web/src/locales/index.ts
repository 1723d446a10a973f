import { createI18n } from 'vue-i18n';
import zhCN, { type MessageSchema } from './zh-CN';
import en from './en';

export type AppLocale = 'zh-CN' | 'en';

const STORAGE_KEY = 'cz.locale';

function initialLocale(): AppLocale {
  const saved = localStorage.getItem(STORAGE_KEY);
  // zh-CN is the default whatever the browser says: the users are Chinese bank staff.
  return saved === 'en' ? 'en' : 'zh-CN';
}

export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
});

export function currentLocale(): AppLocale {
  return i18n.global.locale.value;
}

export function setLocale(locale: AppLocale): void {
  i18n.global.locale.value = locale;
  localStorage.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
  document.title = i18n.global.t('app.productName');
}
