// ESLint flat config: typescript-eslint's type-checked recommended rules over the TypeScript sources
// (src, test, bench, scripts, packages/*/src), ESLint's recommended rules over the browser console script and the
// few plain JavaScript files.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['**/dist/', 'node_modules/', 'test-results/', 'data/', 'bench/results/', 'baseline-dist/'] },
  {
    files: ['src/**/*.ts', 'src/**/*.cts', 'test/**/*.ts', 'bench/**/*.ts', 'bench/**/*.cts', 'scripts/**/*.ts', 'packages/*/src/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Async by contract, not by accident: Fastify plugins and route handlers (a non-async plugin
      // must take and call `done`), Kysely's MigrationProvider.getMigrations, the SDK's
      // Authenticator.headers and Store.close implement promise-returning interfaces.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a binding kept on purpose, e.g. a property split off by destructuring.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // node:test tracks the promises test()/describe()/it() return itself; awaiting them is not the idiom.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      // Tests read response bodies from `await response.json()` (typed `any` by the fetch API) and
      // assert their shape field by field; typing each body first would only restate the assertions.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['src/web/public/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['bin/**/*.js', '*.config.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },
);
