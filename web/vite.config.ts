import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { fileURLToPath, URL } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers';

// The portal service serves the built console at `/` and the API under `/v1`, over HTTPS with
// the local stack's certificate: the dev proxy trusts the stack's CA (CZ_TLS_CA_FILE, in
// .stack/stack.env) when it is set.
const portalUrl = process.env.CZ_PORTAL_URL ?? process.env.CZ_CONSOLE_URL ?? 'https://127.0.0.1:8080';
const stackCaFile = process.env.CZ_TLS_CA_FILE;
const portalAgent = stackCaFile ? new Agent({ ca: readFileSync(stackCaFile) }) : undefined;

export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    // Element Plus on demand: only the components used in templates (and their CSS) are bundled.
    Components({
      dts: 'components.d.ts',
      resolvers: [ElementPlusResolver({ importStyle: 'css' })],
    }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    // vue-i18n feature flags: composition API only, no devtools in production.
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/v1': { target: portalUrl, changeOrigin: false, ...(portalAgent ? { agent: portalAgent } : {}) },
    },
  },
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});
