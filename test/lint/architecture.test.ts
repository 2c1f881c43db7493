/**
 * The architecture rules of `eslint.config.js` (import zones, web's HTTP-only rule) run on the small tree in
 * `test/lint-fixtures/`, where each violating import carries a `// expect-lint: <rule>` comment: every marked
 * line must be reported with that rule and nothing else may be. The same rules must find nothing in the real
 * tree. The cycle check (`npm run cycles`, madge) must find the fixtures' two cycles and only those.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ESLint, type Linter } from 'eslint'
import madge from 'madge'
import tseslint from 'typescript-eslint'
import { describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')
const FIXTURES = join(ROOT, 'test/lint-fixtures')

interface ArchitectureConfig {
  readonly architecture: (root: string) => Linter.Config[]
  readonly LAYERS: Readonly<Record<string, readonly string[]>>
}

async function loadConfig(): Promise<ArchitectureConfig> {
  return (await import(pathToFileURL(join(ROOT, 'eslint.config.js')).href)) as ArchitectureConfig
}

const ARCHITECTURE_RULES = new Set(['import-x/no-restricted-paths', 'no-restricted-imports'])

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
}

/** `file:line rule` for every `// expect-lint: rule` marker in the fixtures. */
function expectedViolations(): string[] {
  const out: string[] = []
  for (const file of tsFiles(FIXTURES)) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const m = /\/\/ expect-lint: (\S+)/.exec(line)
        if (m) out.push(`${relative(FIXTURES, file)}:${i + 1} ${m[1]}`)
      })
  }
  return out.sort()
}

function reported(results: readonly ESLint.LintResult[], base: string): string[] {
  return results
    .flatMap((r) =>
      r.messages.map((m) => `${relative(base, r.filePath)}:${m.line} ${m.ruleId ?? m.message}`),
    )
    .sort()
}

describe('architecture lint', () => {
  it('reports every marked violation in the fixtures, and nothing else', async () => {
    const { architecture } = await loadConfig()
    const eslint = new ESLint({
      cwd: FIXTURES,
      overrideConfigFile: true,
      overrideConfig: [
        { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
        ...architecture(FIXTURES),
      ],
    })
    const results = await eslint.lintFiles(['src', 'web/src'])
    const expected = expectedViolations()
    // One fixture per rule at least: models → engine, engine → store, api → cli, the CLI's API entry,
    // alerts → api, web → src, web → the library, engine → duckdb, the DuckDB client outside duckdb/.
    expect(expected).toEqual(
      expect.arrayContaining([
        'src/models/reads-engine.ts:1 import-x/no-restricted-paths',
        'src/engine/reads-store.ts:1 import-x/no-restricted-paths',
        'src/api/reads-cli.ts:1 import-x/no-restricted-paths',
        'src/cli/reads-api-internals.ts:1 import-x/no-restricted-paths',
        'src/alerts/reads-api.ts:1 import-x/no-restricted-paths',
        'web/src/reads-src.ts:1 import-x/no-restricted-paths',
        'web/src/reads-library.ts:1 no-restricted-imports',
        'src/engine/reads-duckdb.ts:1 import-x/no-restricted-paths',
        'src/analytics/reads-duckdb-client.ts:1 no-restricted-imports',
      ]),
    )
    expect(reported(results, FIXTURES)).toEqual(expected)
  })

  it('names the allowed folders in the message', async () => {
    const { architecture } = await loadConfig()
    const eslint = new ESLint({
      cwd: FIXTURES,
      overrideConfigFile: true,
      overrideConfig: [
        { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
        ...architecture(FIXTURES),
      ],
    })
    const [result] = await eslint.lintFiles(['src/engine/reads-store.ts'])
    expect(result?.messages[0]?.message).toContain(
      'src/engine/ may import only core/ (dependency rule',
    )
  })

  it('places every top-level folder of src/ in a layer', async () => {
    const { LAYERS } = await loadConfig()
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()
    expect(Object.keys(LAYERS).sort()).toEqual(folders)
  })

  it('finds no violation in the real tree', async () => {
    const eslint = new ESLint({
      cwd: ROOT,
      ruleFilter: ({ ruleId }) => ARCHITECTURE_RULES.has(ruleId),
    })
    const results = await eslint.lintFiles(['src', 'web/src'])
    expect(reported(results, ROOT)).toEqual([])
    // The rules did run: the real tree has files in every zone.
    expect(results.length).toBeGreaterThan(100)
  })

  it('keeps SQL out of api/ and cli/: no sql`…` fragment, raw SQL or statement text there', () => {
    const sqlText =
      /\bsql`|\bunsafeRaw\(|['"`]\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|COPY|DESCRIBE)\s/
    const offenders = ['src/api', 'src/cli'].flatMap((dir) =>
      tsFiles(join(ROOT, dir)).flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .flatMap((line, i) => (sqlText.test(line) ? [`${relative(ROOT, file)}:${i + 1}`] : [])),
      ),
    )
    expect(offenders).toEqual([])
    // The pattern does catch SQL.
    expect(sqlText.test('const q = sql`SELECT 1`')).toBe(true)
    expect(sqlText.test("driver.run('SELECT count(*) FROM orders')")).toBe(true)
  })

  it('keeps each command file to itself: no file of src/cli/commands imports another', () => {
    const dir = join(ROOT, 'src/cli/commands')
    const offenders = tsFiles(dir).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/from '(\.\/[^']+)'/g)].map(
        (m) => `${relative(ROOT, file)} imports ${m[1]}`,
      ),
    )
    expect(offenders).toEqual([])
  })

  it('finds the import cycles of the fixtures, value and type-only, with the options of npm run cycles', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    expect(pkg.scripts['cycles']).toMatch(
      /^madge --circular .*--extensions ts --ts-config tsconfig\.json/,
    )
    expect(pkg.scripts['test']).toContain('npm run cycles')
    const graph = await madge([join(FIXTURES, 'src'), join(FIXTURES, 'web/src')], {
      baseDir: FIXTURES,
      fileExtensions: ['ts'],
      tsConfig: join(ROOT, 'tsconfig.json'),
    })
    const cycles = graph
      .circular()
      .map((c) => [...c].sort().join(' <-> '))
      .sort()
    expect(cycles).toEqual([
      'src/engine/cycle-a.ts <-> src/engine/cycle-b.ts',
      'src/engine/types-a.ts <-> src/engine/types-b.ts',
    ])
  })
})
