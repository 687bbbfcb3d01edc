import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test-results/**', '.cache/**', '.vscode-test/**', 'media/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Runtime boundaries (DESIGN.md): shared code is pure, the extension host never loads TensorFlow.js,
    // the trainer never imports vscode, the webview sees only shared code.
    files: ['src/shared/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['vscode', '@tensorflow/*', 'node:*', 'fs', 'path', 'child_process'] }] },
  },
  {
    // Node-side code shared by the trainer and the extension host (run-folder I/O, process identity).
    files: ['src/node/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['vscode', '@tensorflow/*', '**/extension/**', '**/trainer/**', '**/webview/**'] }] },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['@tensorflow/*', '**/trainer/**'] }] },
  },
  {
    files: ['src/trainer/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['vscode', '**/extension/**', '**/webview/**'] }] },
  },
  {
    files: ['src/webview/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['vscode', '@tensorflow/*', 'node:*', '**/extension/**', '**/trainer/**', '**/node/**'] }] },
  },
  {
    files: ['scripts/**/*.mjs', 'bench/**/*.mjs', 'test/**/*.mjs', '*.mjs', '.vscode-test.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' } },
  },
);
