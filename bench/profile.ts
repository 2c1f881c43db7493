/**
 * Where a large-scale figure's time goes: runs one analysis on an existing database (read only), times every
 * SQL statement it sends, then runs DuckDB's `EXPLAIN ANALYZE` on the slowest ones and prints their profiles
 * (the operator tree with each operator's time and row count).
 *
 *   npx tsx bench/profile.ts --db bench/out/tree-1000000-24/memberlens.duckdb --what tree [--top 2]
 *     [--memory-limit 4GB] [--out bench/out/profile-tree.txt]
 *
 * `--what`: `tree` (the default metric tree, as the tree benchmark runs it), `cohorts` (the 36-month cohort
 * matrix), `lifecycle` (stage counts from the purchase summary), `rfm` (RFM segments from the summary). The
 * analysis runs once to warm DuckDB's buffers, then once recorded.
 */
import { writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
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
for (const method of ['run', 'runAndReadAll'] as const) {
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
for (const s of slowest.slice(0, top)) {
  const reader = await connection.runAndReadAll(
    `EXPLAIN ANALYZE ${s.sql}`,
    s.parameters as DuckDBValue[] | undefined,
  )
  lines.push('', `EXPLAIN ANALYZE (statement of ${(s.ms / 1000).toFixed(2)} s):`, s.sql, '')
  for (const row of reader.getRows()) lines.push(String(row[1]))
}
await db.close()
const text = `${lines.join('\n')}\n`
if (values.out !== undefined) await writeFile(values.out, text)
process.stdout.write(text)
