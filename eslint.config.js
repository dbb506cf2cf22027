// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Folders a module may not import from, by layer (docs/ARCHITECTURE.md); a list is one gitignore-style group. */
/** @type {Record<string, Array<string | string[]>>} */
const layers = {
  'src/stomp/**': ['**/broker/**', '**/network/**', '**/store/**', '**/lock/**', '**/client/**', '**/cli/**', '**/config/**', '**/transport/**'],
  'src/store/**': ['**/broker/**', '**/network/**', '**/client/**', '**/cli/**', '**/transport/**'],
  'src/lock/**': ['**/broker/**', '**/network/**', '**/store/**', '**/client/**', '**/cli/**'],
  'src/transport/**': ['**/broker/**', '**/network/**', '**/store/**', '**/client/**', '**/cli/**'],
  'src/client/**': ['**/broker/**', '**/network/**', '**/store/**', '**/cli/**'],
  'src/broker/**': ['**/network/**', '**/client/**', '**/cli/**'],
  // After src/broker/**: for a file both match, the later entry's rule is the one in force.
  'src/broker/core/**': ['**/broker/stomp/**', '**/broker/scheduler/**', '**/network/**', '**/client/**', '**/cli/**', '**/transport/**', '**/stomp/**', '**/security/**'],
  // The job scheduler: a part of the core that keeps jobs in the store; the core reaches it through SendInterceptor.
  'src/broker/scheduler/**': ['**/broker/stomp/**', '**/network/**', '**/client/**', '**/cli/**', '**/transport/**', '**/stomp/**', '**/security/**', '**/console/**'],
  // Who may do what: destinations and wildcards from the core, nothing of protocols or sockets.
  'src/security/**': ['**/broker/stomp/**', '**/network/**', '**/client/**', '**/cli/**', '**/store/**', '**/transport/**', '**/stomp/**'],
  // Operator tools: the broker's core and status, never its protocol layer or the network's insides.
  'src/console/**': ['**/broker/stomp/**', '**/network/**', '**/client/**', '**/cli/**', '**/store/**', '**/transport/**'],
  // Extensions reach the broker through its extension face only.
  'src/network/**': ['**/cli/**', ['**/broker/*', '**/broker/*/**', '!**/broker/extension.js']],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.bench-work/**', 'amq-sim-data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...Object.entries(layers).map(([files, banned]) => ({
    files: [files],
    rules: { 'no-restricted-imports': ['error', { patterns: banned.map((group) => ({ group: Array.isArray(group) ? group : [group], message: 'This layer may not import that one (docs/ARCHITECTURE.md).' })) }] },
  })),
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  // Node scripts of the repository (build, screenshots).
  { files: ['scripts/**/*.mjs'], languageOptions: { globals: Object.fromEntries(['process', 'URL', 'setInterval', 'clearInterval'].map((g) => [g, 'readonly'])) } },
  // The console's scripts run in the browser.
  {
    files: ['src/console/assets/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(['window', 'document', 'location', 'fetch', 'Node', 'setTimeout', 'clearTimeout', 'setInterval', 'prompt', 'confirm', 'URLSearchParams', 'EventSource'].map((g) => [g, 'readonly'])),
    },
  },
);
