/**
 * `docs/architecture.md` describes the tree that exists: its folder tree is what
 * `scripts/architecture-tree.ts` makes from the folders, and its dependency table has a row for every
 * layer that `eslint.config.js` enforces.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  FOLDERS,
  documentedTree,
  renderTree,
  treeFolders,
} from '../../scripts/architecture-tree.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')
const DOC = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8')
const TOP_LEVEL = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)

describe('docs/architecture.md', () => {
  it('names every top-level folder of src/ in its tree', () => {
    const tree = documentedTree(DOC)
    expect(tree, 'docs/architecture.md has no generated tree').toBeDefined()
    const listed = new Set(
      (tree ?? '').split('\n').flatMap((l) => /^ {2}([a-z0-9-]+)\/ /.exec(l)?.[1] ?? []),
    )
    const missing = TOP_LEVEL.filter((f) => !listed.has(f))
    expect(missing, 'src/ folders missing from the tree in docs/architecture.md').toEqual([])
  })

  it('shows the tree the script makes from the folders (npx tsx scripts/architecture-tree.ts --write)', () => {
    expect(documentedTree(DOC)).toBe(renderTree(treeFolders(ROOT)))
  })

  it('has a dependency-table row for every layer of the lint configuration', async () => {
    const { LAYERS } = (await import(pathToFileURL(join(ROOT, 'eslint.config.js')).href)) as {
      LAYERS: Readonly<Record<string, readonly string[]>>
    }
    const rows = Object.keys(LAYERS).filter((l) => !DOC.includes(`| \`${l}/\``))
    expect(rows, 'layers without a row in the dependency table').toEqual([])
  })
})

describe('folder READMEs under src/', () => {
  const readmes = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('README.md'))
    .map((f) => join('src', f))

  it('exist for the folders that had one, and for alerts/', () => {
    expect(readmes).toEqual(
      expect.arrayContaining([
        'src/alerts/README.md',
        'src/analytics/README.md',
        'src/models/README.md',
        'src/models/stats/README.md',
        'src/simulate/README.md',
      ]),
    )
  })

  it('name every source file of their folder', () => {
    const unnamed = readmes.flatMap((readme) => {
      const text = readFileSync(join(ROOT, readme), 'utf8')
      const dir = dirname(join(ROOT, readme))
      return readdirSync(dir)
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .filter((f) => !text.includes(`\`${f}\``))
        .map((f) => `${readme}: ${f}`)
    })
    expect(unnamed, 'source files a folder README does not mention').toEqual([])
  })
})

describe('scripts/architecture-tree.ts', () => {
  it('refuses a folder without a description and a description without a folder', () => {
    const folders = Object.keys(FOLDERS).filter((f) => f !== 'src/alerts')
    expect(() => renderTree([...folders, 'src/newthing'])).toThrow(
      'src/newthing/ has no description: add one to FOLDERS in scripts/architecture-tree.ts',
    )
    expect(() => renderTree(folders)).toThrow(
      'src/alerts/ is described in scripts/architecture-tree.ts but does not exist',
    )
  })

  it('indents subfolders under their folder and aligns the descriptions', () => {
    const text = renderTree(['src', 'src/engine', 'src/engine/sql', 'bin'], {
      src: 'code',
      'src/engine': 'queries',
      'src/engine/sql': 'fragments',
      bin: 'executable',
    })
    expect(text).toBe(
      [
        'src/       code',
        '  engine/  queries',
        '    sql/   fragments',
        'bin/       executable',
      ].join('\n'),
    )
  })
})
