// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * Import boundaries (see docs/architecture.md):
 * core <- {engine, models, ledger, simulate} <- {ingest, store} <- analytics <- {cli, api}
 * models never import the engine; the ledger never imports the engine; nothing below cli/api imports them.
 */
const boundary = (target, forbidden, message) => ({
  files: [`src/${target}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((f) => ({ group: [`**/${f}/*`, `**/${f}`], message })),
      },
    ],
  },
})

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'web/dist/**', 'bench/out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'Inject a Clock instead of calling Date.now() in library code.',
        },
      ],
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly' } },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'src/**/*.test.ts', 'src/cli/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  boundary('core', ['engine', 'models', 'ingest', 'simulate', 'store', 'cli', 'api', 'analytics', 'ledger'], 'core imports nothing else from src/'),
  boundary('models', ['engine', 'ingest', 'simulate', 'store', 'cli', 'api', 'analytics', 'ledger'], 'models are pure: they import only core/'),
  boundary('engine', ['models', 'ingest', 'simulate', 'cli', 'api', 'analytics', 'ledger'], 'the engine does not depend on models, ingest, analytics or the CLI'),
  boundary('simulate', ['engine', 'models', 'ingest', 'store', 'cli', 'api', 'analytics', 'ledger'], 'the simulator only writes files'),
  boundary('ingest', ['models', 'simulate', 'cli', 'api', 'analytics'], 'ingest sits below the CLI'),
  boundary('store', ['models', 'ingest', 'simulate', 'cli', 'api', 'analytics', 'ledger'], 'the store sits below ingest and the CLI'),
  boundary('ledger', ['engine', 'models', 'ingest', 'simulate', 'store', 'cli', 'api', 'analytics'], 'the ledger imports only core/'),
  boundary('api', ['cli', 'simulate'], 'the API sits beside the CLI and does not use it'),
  boundary('analytics', ['cli', 'api', 'simulate'], 'analytics combines engine, models and ledger; it sits below the CLI and API'),
)
