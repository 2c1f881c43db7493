/**
 * The folder tree of `docs/architecture.md`, made from the folders that exist: every folder of `src/` two
 * levels deep and the repository's top-level folders, each with its one-line description from
 * {@link FOLDERS}. A folder without a description, or a description of a folder that is gone, is an error.
 *
 *   npx tsx scripts/architecture-tree.ts           # prints the tree
 *   npx tsx scripts/architecture-tree.ts --write   # replaces the tree in docs/architecture.md
 * @module
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One line per folder, keyed by its path from the repository root. */
export const FOLDERS: Readonly<Record<string, string>> = {
  src: 'the library, the API and the CLI; index.ts is the library entry',
  'src/core':
    'domain types, the canonical schema, errors, clock, glossary, phone reading; imports nothing else',
  'src/models': 'pure probability models: BG/NBD, Pareto/NBD, Gamma–Gamma, sBG, Kaplan–Meier, …',
  'src/models/stats': 'pure statistics for experiments and voice: tests, intervals, power, CUPED',
  'src/ledger': 'the loyalty points ledger and tiers, with its own transactional store',
  'src/ledger/stores': 'the embedded (PGlite) and server (PostgreSQL) ledger stores',
  'src/calendar':
    'the retail calendar: lunar festivals, 清明, shopping festivals with pre-sale, brand events',
  'src/simulate': 'the seeded demo-data simulator: writes CSV files and truth.json only',
  'src/engine': 'SQL written once for every dialect: fragments → compiled queries → rows',
  'src/engine/sql': 'dialect-free building blocks: fragments, compile(), DDL, identity, values',
  'src/engine/dialects':
    'what differs between SQL engines: the interface, ANSI base, DuckDB, ClickHouse',
  'src/engine/drivers': 'the generic Driver interface and the ClickHouse driver',
  'src/engine/clickhouse': 'ClickHouse tables for the canonical schema',
  'src/engine/cohorts': 'cohort retention, bracket retention and cohort LTV',
  'src/engine/funnels': 'funnel steps and conversion',
  'src/engine/lifecycle':
    'lifecycle stages and transitions, purchase spells, churn flows and durations',
  'src/engine/metrics':
    'the metric catalog, its compiler and runner, dimensions, metric tree, overview',
  'src/engine/rfm': 'RFM scores, named segments and the RFM grid',
  'src/engine/segments':
    'saved segments: filter schema, store, members, size, export and profile counts (TGI)',
  'src/engine/summaries': 'per-member repeat-buying summaries; numeric columns as typed arrays',
  'src/engine/tags':
    'member tags: groups and rules, per-month computation with history, stored scores',
  'src/engine/categories':
    'category analysis: shares, penetration, purchase paths, next-category propensity, intervals',
  'src/duckdb':
    'DuckDB only: the driver, ingest, Appender writes, typed reads, the audit log, the copy to ClickHouse',
  'src/duckdb/ingest':
    'loading files: staging → typed → checks → identity guards → identity resolution → upsert',
  'src/duckdb/experiments': 'experiment and campaign units, per-member outcomes around their start',
  'src/duckdb/members': 'member look-up and timeline (Member 360), uploaded identity lists',
  'src/duckdb/summaries': 'per-member churn features and paid-membership renewals',
  'src/duckdb/voice': 'feedback counts per period: NPS, CSAT, reviews, service issues',
  'src/duckdb/rollups':
    'the member × day activity rollup, its member × month table and the per-member purchase summary: rebuilt, or updated by ingest',
  'src/store':
    'opening the member database (or the configured engine), its schema, data version and meta',
  'src/analytics':
    'use cases over engine, models and ledger: CLV, churn risk, loyalty, voice, experiments',
  'src/analytics/clv': 'CLV runs, the stored model runs and member scores',
  'src/analytics/risk':
    'churn-risk scoring, early-warning rules and signals, Risk page aggregates, exports',
  'src/analytics/lifetime': 'Kaplan–Meier member lifetime and paid-membership renewals',
  'src/analytics/loyalty': 'order-history replay into the ledger, ledger sync, program metrics',
  'src/analytics/voice': 'NPS, CSAT, service metrics, sentiment and topics of feedback',
  'src/analytics/experiments': 'A/B experiment reads and program effects',
  'src/analytics/reporting': 'driver analysis, why a metric changed, and the HTML report',
  'src/analytics/profile': 'the member profile: a segment against the base, shares, TGI and tests',
  'src/analytics/targeting':
    'uplift targeting: who gets which offer within a budget, learnt from a randomised campaign',
  'src/alerts': 'alert rules on metrics, their scheduled evaluation and delivery',
  'src/api': 'the HTTP API (Hono, OpenAPI): keys and roles, masking, errors; index.ts for the CLI',
  'src/api/routes': 'route handlers and their schemas',
  'src/cli': 'the command table (index.ts) and the plumbing every command shares',
  'src/cli/commands': 'one file per command; none imports another',
  'src/cli/render': 'text views that more than one command prints',
  'src/cli/validations': 'flag parsing per command family',
  bin: 'the `memberlens` executable',
  web: 'the dashboard (Vite); talks to the API over HTTP only',
  test: 'cross-module, database, CLI, API and browser tests; unit tests sit next to their code',
  bench: 'benchmarks with a baseline measured in the same run',
  scripts:
    'development helpers: this tree, the dashboard’s API types, a local PostgreSQL, two ClickHouse shards',
  examples: 'example configuration files (lifecycle, loyalty program, segments, tags)',
  data: 'public data sets the ingest presets read',
  docs: 'the documentation',
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const DOC = join(ROOT, 'docs/architecture.md')
export const BEGIN = '<!-- tree: made by `npx tsx scripts/architecture-tree.ts --write` -->'
export const END = '<!-- end of tree -->'

/** Top-level folders listed outside `src/`, in this order (hidden folders and build output are not). */
const OUTSIDE = ['bin', 'web', 'test', 'bench', 'scripts', 'examples', 'data', 'docs']

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
}

/** The folders the tree shows: `src/` two levels deep, then the top-level folders outside it. */
export function treeFolders(root = ROOT): string[] {
  const out = ['src']
  for (const top of subfolders(join(root, 'src'))) {
    out.push(`src/${top}`)
    for (const sub of subfolders(join(root, 'src', top))) out.push(`src/${top}/${sub}`)
  }
  const present = new Set(subfolders(root))
  return [...out, ...OUTSIDE.filter((f) => present.has(f))]
}

/** The tree as text; throws naming every folder without a description and every description without a folder. */
export function renderTree(
  folders: readonly string[],
  descriptions: Readonly<Record<string, string>> = FOLDERS,
): string {
  const missing = folders.filter((f) => !descriptions[f])
  const stale = Object.keys(descriptions).filter((f) => !folders.includes(f))
  if (missing.length > 0 || stale.length > 0) {
    const lines = [
      ...missing.map(
        (f) => `${f}/ has no description: add one to FOLDERS in scripts/architecture-tree.ts`,
      ),
      ...stale.map((f) => `${f}/ is described in scripts/architecture-tree.ts but does not exist`),
    ]
    throw new Error(lines.join('\n'))
  }
  const label = (f: string): string => {
    const depth = f.split('/').length - 1
    return `${'  '.repeat(depth)}${f.split('/').at(-1)}/`
  }
  const width = Math.max(...folders.map((f) => label(f).length)) + 2
  return folders.map((f) => `${label(f).padEnd(width)}${descriptions[f]}`).join('\n')
}

/** The tree block of `docs/architecture.md`, between its markers (without them), or undefined. */
export function documentedTree(doc: string): string | undefined {
  const start = doc.indexOf(BEGIN)
  const end = doc.indexOf(END)
  if (start < 0 || end < start) return undefined
  return doc
    .slice(start + BEGIN.length, end)
    .replace(/^\s*```text\n/, '')
    .replace(/\n```\s*$/, '')
}

function main(): void {
  const tree = renderTree(treeFolders())
  if (!process.argv.includes('--write')) {
    process.stdout.write(`${tree}\n`)
    return
  }
  const doc = readFileSync(DOC, 'utf8')
  if (documentedTree(doc) === undefined) {
    throw new Error(`docs/architecture.md: no tree between "${BEGIN}" and "${END}"`)
  }
  const start = doc.indexOf(BEGIN) + BEGIN.length
  const end = doc.indexOf(END)
  writeFileSync(DOC, `${doc.slice(0, start)}\n\n\`\`\`text\n${tree}\n\`\`\`\n\n${doc.slice(end)}`)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main()
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`)
    process.exitCode = 1
  }
}
