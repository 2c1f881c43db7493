// @ts-check
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import js from '@eslint/js'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import importX from 'eslint-plugin-import-x'
import tseslint from 'typescript-eslint'

/**
 * The dependency rule (docs/architecture.md): for each top-level folder of `src/`, the folders it may import
 * besides itself. Anything else under `src/` is refused, so a new folder is refused everywhere until it is
 * placed here. Colocated tests (`*.test.ts`) and `test/` are exempt.
 *
 *   core ← {models, ledger, simulate, engine, calendar} ← duckdb ← store ← analytics ← alerts ← {api, cli}
 *
 * `engine/` is SQL for every dialect on the generic `Driver`; what only DuckDB can do (its client, the
 * Appender, reading result chunks into typed arrays, its file formats) lives in `duckdb/`, the one folder that
 * may import `@duckdb/node-api`.
 *
 * `cli/` reaches the API only through `api/index.ts` (the application factory, the key store and the error
 * body). `web/` talks to the API over HTTP and imports nothing from `src/`.
 */
export const LAYERS = /** @type {const} */ ({
  core: [],
  models: ['core'],
  ledger: ['core'],
  simulate: ['core', 'calendar'],
  calendar: ['core'],
  engine: ['core'],
  duckdb: ['core', 'engine'],
  store: ['core', 'engine', 'duckdb'],
  analytics: ['core', 'engine', 'duckdb', 'models', 'ledger', 'store', 'calendar'],
  alerts: ['core', 'engine', 'duckdb', 'models', 'ledger', 'store', 'analytics', 'calendar'],
  api: ['core', 'engine', 'duckdb', 'models', 'ledger', 'store', 'analytics', 'alerts', 'calendar'],
  cli: [
    'core',
    'engine',
    'duckdb',
    'models',
    'ledger',
    'simulate',
    'store',
    'analytics',
    'alerts',
    'calendar',
    'api/index.ts',
  ],
})

/** What the library entry `src/index.ts` may export from: everything but the CLI and the API. */
const LIBRARY = [
  'index.ts',
  'core',
  'engine',
  'duckdb',
  'models',
  'ledger',
  'simulate',
  'store',
  'analytics',
  'alerts',
  'calendar',
]

const TESTS = ['src/**/*.test.ts']

/**
 * The architecture rules for a tree at `root` (an absolute path): the import zones and web's HTTP-only rule.
 * The lint fixtures under `test/lint-fixtures/` run the same rules on a small tree. Import cycles are found
 * by `npm run cycles` (madge), which also counts type-only imports and takes a few seconds where ESLint's
 * `import-x/no-cycle` took several times longer on this tree.
 * @param {string} root
 * @returns {import('eslint').Linter.Config[]}
 */
export function architecture(root) {
  const allowed = (folder, list) =>
    list.length === 0
      ? 'nothing else from src/'
      : list.map((f) => (f.endsWith('.ts') ? f : `${f}/`)).join(', ')
  return [
    {
      files: ['src/**/*.ts', 'web/src/**/*.ts'],
      plugins: { 'import-x': importX },
      settings: {
        'import-x/resolver-next': [
          createTypeScriptImportResolver({ project: [`${root}/tsconfig.json`] }),
        ],
      },
    },
    {
      files: ['src/**/*.ts'],
      ignores: TESTS,
      rules: {
        'import-x/no-restricted-paths': [
          'error',
          {
            basePath: root,
            zones: [
              ...Object.entries(LAYERS).map(([folder, list]) => ({
                target: `./src/${folder}`,
                from: './src',
                except: [`./${folder}`, ...list.map((f) => `./${f}`)],
                message: `src/${folder}/ may import only ${allowed(folder, list)} (dependency rule, docs/architecture.md).`,
              })),
              {
                target: './src/index.ts',
                from: './src',
                except: LIBRARY.map((f) => `./${f}`),
                message:
                  'The library entry exports no CLI or API code (dependency rule, docs/architecture.md).',
              },
            ],
          },
        ],
      },
    },
    {
      files: ['src/**/*.ts'],
      ignores: ['src/duckdb/**', ...TESTS],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                group: ['@duckdb/*'],
                message:
                  'Only src/duckdb/ talks to the DuckDB client; elsewhere use the Driver (or a DuckDbDriver method).',
              },
            ],
          },
        ],
      },
    },
    {
      files: ['web/src/**/*.ts'],
      rules: {
        'import-x/no-restricted-paths': [
          'error',
          {
            basePath: root,
            zones: [
              {
                target: './web/src',
                from: ['./src', './bin', './test', './bench', './scripts'],
                message:
                  'web/ talks to the API over HTTP; types it shares come from web/src/generated/.',
              },
            ],
          },
        ],
        'no-restricted-imports': [
          'error',
          {
            paths: [
              {
                name: 'memberlens',
                message: 'web/ talks to the API over HTTP, not through the library.',
              },
            ],
            patterns: [
              {
                group: ['memberlens/*'],
                message: 'web/ talks to the API over HTTP, not through the library.',
              },
            ],
          },
        ],
      },
    },
  ]
}

const root = dirname(fileURLToPath(import.meta.url))

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'web/dist/**',
      // Made by `npm run api-types` from the API's OpenAPI document.
      'web/src/generated/**',
      'bench/out/**',
      'test/lint-fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
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
  ...architecture(root),
)
