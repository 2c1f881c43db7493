/**
 * Where a large-scale figure's time goes: runs one analysis on an existing database (read only), times every
 * SQL statement it reads rows with, then runs the slowest ones again under DuckDB's profiler and prints their
 * operators by time, with their row counts.
 *
 *   npx tsx bench/profile.ts --db bench/out/tree-1000000-24/memberlens.duckdb --what tree [--top 2]
 *     [--memory-limit 4GB] [--out bench/out/profile-tree.txt]
 *
 * `--what`: `tree` (the default metric tree, as the tree benchmark runs it), `cohorts` (the 36-month cohort
 * matrix), `lifecycle` (stage counts from the purchase summary), `rfm` (RFM segments from the summary). The
 * analysis runs once to warm DuckDB's buffers, then once recorded.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { DuckDBValue } from '@duckdb/node-api'
import { DEFAULT_TIME_ZONE } from '../src/core/time-zone.js'
import { getCohortRetention } from '../src/engine/cohorts/cohort-retention.js'
import { findDefaultAsOf } from '../src/engine/lifecycle/default-as-of.js'
import { getStageCounts } from '../src/engine/lifecycle/lifecycle-stages.js'
import { lastCompletePeriod } from '../src/engine/metrics/run.js'
import { DEFAULT_TREE, evaluateTree } from '../src/engine/metrics/tree.js'
import { getRfmSummary } from '../src/engine/rfm/rfm-scores.js'
import { openDatabase } from '../src/store/database.js'

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    what: { type: 'string', default: 'tree' },
    top: { type: 'string', default: '2' },
    'memory-limit': { type: 'string', default: '4GB' },
    out: { type: 'string' },
  },
})
if (values.db === undefined) throw new Error('--db is required')
const top = Number(values.top)
if (!Number.isInteger(top) || top < 1) throw new Error('--top: a positive integer')

const db = await openDatabase(values.db, {
  readOnly: true,
  memoryLimit: values['memory-limit'] as string,
})
const timezone = DEFAULT_TIME_ZONE
const analyses: Record<string, () => Promise<unknown>> = {
  tree: async () => {
    const period = (await lastCompletePeriod(db.driver, 'month', timezone)) as string
    return evaluateTree(db.driver, DEFAULT_TREE, { period, timezone })
  },
  cohorts: async () =>
    getCohortRetention(db.driver, {
      grain: 'month',
      periods: 35,
      activity: 'purchase',
      asOf: (await findDefaultAsOf(db.driver)) as string,
    }),
  lifecycle: async () =>
    getStageCounts(db.driver, (await findDefaultAsOf(db.driver)) as string, {}),
  rfm: async () => getRfmSummary(db.driver, (await findDefaultAsOf(db.driver)) as string, {}),
}
const run = analyses[values.what as string]
if (run === undefined) throw new Error(`--what: one of ${Object.keys(analyses).join(', ')}`)

// Every statement the driver sends goes through its connection: record each with its time.
const connection = db.driver.connection
const recorded: Array<{ sql: string; parameters: unknown; ms: number }> = []
let recording = false
for (const method of ['runAndReadAll'] as const) {
  const original = connection[method].bind(connection) as (
    sql: string,
    parameters?: DuckDBValue[],
  ) => Promise<unknown>
  ;(connection as unknown as Record<string, unknown>)[method] = async (
    text: string,
    parameters?: DuckDBValue[],
  ) => {
    const started = performance.now()
    const result = await original(text, parameters)
    if (recording) recorded.push({ sql: text, parameters, ms: performance.now() - started })
    return result
  }
}

await run()
recording = true
const started = performance.now()
await run()
const total = performance.now() - started
recording = false

const lines: string[] = [
  `${values.what as string} on ${values.db}: ${(total / 1000).toFixed(2)} s warm, ${recorded.length} statements; load average ${(loadavg()[0] ?? 0).toFixed(1)}`,
]
const slowest = [...recorded].sort((a, b) => b.ms - a.ms)
for (const s of slowest.slice(0, 8))
  lines.push(
    `  ${(s.ms / 1000).toFixed(2).padStart(7)} s  ${s.sql.replace(/\s+/g, ' ').slice(0, 150)}`,
  )
// Each slowest statement once more under DuckDB's profiler (JSON output): its operators by time.
interface ProfileNode {
  operator_name?: string
  operator_type?: string
  operator_timing?: number
  operator_cardinality?: number
  extra_info?: Record<string, unknown>
  children?: ProfileNode[]
}
const profileFile = join(tmpdir(), `memberlens-profile-${process.pid}.json`)
for (const s of slowest
  .filter((x, i, all) => all.findIndex((y) => y.sql === x.sql) === i)
  .slice(0, top)) {
  await connection.run(`PRAGMA enable_profiling = 'json'`)
  await connection.run(`PRAGMA profiling_output = '${profileFile}'`)
  const t = performance.now()
  await connection.runAndReadAll(s.sql, s.parameters as DuckDBValue[] | undefined)
  const ms = performance.now() - t
  // Read before turning the profiler off: the next statement's profile replaces the file.
  const tree = JSON.parse(await readFile(profileFile, 'utf8')) as ProfileNode
  await connection.run('PRAGMA disable_profiling')
  const operators: Array<{ name: string; seconds: number; rows: number; info: string }> = []
  const walk = (n: ProfileNode) => {
    if (n.operator_timing !== undefined)
      operators.push({
        name: n.operator_name ?? n.operator_type ?? '?',
        seconds: n.operator_timing,
        rows: n.operator_cardinality ?? 0,
        info: JSON.stringify(n.extra_info ?? {})
          .replace(/\\n/g, ' ')
          .slice(0, 110),
      })
    for (const c of n.children ?? []) walk(c)
  }
  walk(tree)
  const sum = operators.reduce((a, o) => a + o.seconds, 0)
  lines.push(
    '',
    `profile of a statement of ${(s.ms / 1000).toFixed(2)} s (profiled run ${(ms / 1000).toFixed(2)} s; operator times are summed over threads, ${sum.toFixed(2)} s in all):`,
    s.sql,
    '',
    'operators by time:',
  )
  for (const o of operators.sort((a, b) => b.seconds - a.seconds).slice(0, 15))
    lines.push(
      `  ${o.seconds.toFixed(2).padStart(7)} s  ${o.name.padEnd(22)} ${o.rows.toLocaleString('en-US').padStart(13)} rows  ${o.info}`,
    )
}
await rm(profileFile, { force: true })
await db.close()
const text = `${lines.join('\n')}\n`
if (values.out !== undefined) await writeFile(values.out, text)
process.stdout.write(text)
