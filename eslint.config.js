// ESLint flat config: typescript-eslint's recommended rules on every TS file, its type-checked
// rules on services and scripts; Prettier owns formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.stack/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'off',
    },
  },
  {
    // Services and scripts get typescript-eslint's type-checked rules (floating promises, unsafe
    // any, needless assertions …), with the type information of the root tsconfig.
    files: ['services/**/*.ts', 'scripts/**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/it/test return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after'],
            },
          ],
        },
      ],
      // Fastify plugins and handlers are async by contract, awaiting or not.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Packages meet only at their public API: another package is imported by its name (its
    // src/index.ts), shared test support from @cz/testkit; never a path into its src/ or test/.
    files: ['services/**/*.ts', 'scripts/**/*.ts', 'web/**/*.{ts,vue}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(services/)?[a-z][a-z0-9-]*/(src|test)(/|$)',
              message:
                'Import another package by its name (@cz/<package>, its src/index.ts) and shared test support from @cz/testkit, not by a path into its src/ or test/.',
            },
            {
              regex: '^@cz/[^/]+/(src|test)(/|$)',
              message: 'Import @cz/<package> itself (its public index), not a file under its src/ or test/.',
            },
          ],
        },
      ],
    },
  },
  // Vue console: eslint-plugin-vue's recommended rules on every SFC; vue-eslint-parser reads the
  // template and hands <script setup lang="ts"> to typescript-eslint's parser.
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['web/**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
    rules: {
      // Prettier lays out templates too.
      ...pluginVue.configs['no-layout-rules'].rules,
      // vue-tsc checks names (as typescript-eslint advises for TS); ESLint would not know the browser globals.
      'no-undef': 'off',
    },
  },
  {
    // A page is named by its folder (views/<page>/index.vue, house style), often one word: login, search.
    files: ['web/src/views/*/index.vue', 'web/src/App.vue'],
    rules: { 'vue/multi-word-component-names': 'off' },
  },
);
