// @ts-check
/**
 * ESLint (flat config): typescript-eslint's type-checked recommended rules over the TypeScript
 * (cli, lib, functions, adapters, local, scripts, bench, test), the plain recommended rules over
 * the JavaScript (the console's browser modules, the CLI entry point, the osls plugin).
 * Formatting is Prettier's (`npm run lint` runs both); no stylistic rules here.
 */
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['node_modules/', '.data/', '.serverless/', '.esbuild/', 'coverage/', 'dist/', 'console/dist/', 'bench/results/']),
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
  },
  {
    rules: {
      // A `let` read by a closure before its one assignment (e.g. "starting up" until the
      // handlers exist) cannot be a `const`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_name` marks a deliberately unused binding (e.g. dropping keys by destructuring).
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `async` without `await` is how a port, a middy middleware or a fake implements a
      // Promise-returning signature so that a throw becomes a rejection; not a mistake here.
      '@typescript-eslint/require-await': 'off',
      // SDK- and JSON-shaped code (AWS/Kubernetes payloads, raw HTTP bodies) needs an `any` now and then.
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    // Tests and benchmarks consume the HTTP API's JSON bodies (one `any` where the response is
    // read) and assert on, print or count their fields; the unsafe-any rules would flag every such
    // access. (The CLI reads them typed by the route table, `ReplyOf`, and keeps the rules.)
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // They print and compare fields of parsed JSON (unknown at the type level), and build
      // messages from CloudFormation intrinsics; a wrong stringification shows in the test itself.
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      'preserve-caught-error': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['console/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
);
