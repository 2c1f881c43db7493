/**
 * Retention benchmark (`npm run bench -- --only retention`, once wired into bench/run.ts): on a simulated
 * database of --members members over --months months (members and orders), measures
 *   - the monthly cohort matrix (registration cohorts, purchase activity, 36 periods),
 *   - lifecycle stage sizes as of the day after the latest order,
 *   - RFM segment sizes and value as of the same day,
 * lifecycle and RFM twice: reading every purchase (`summaries: 'off'`) and reading the per-member purchase
 * summary that ingest keeps; each beside a one-scan floor measured in the same run: a `GROUP BY` over the
 * orders table with the same output grain (cohort matrix: one pass grouping purchases by month with distinct
 * members; lifecycle and RFM: one pass grouping purchases by member with count, max and sum, whose results
 * are all consumed so that no aggregate is optimised away). Every measurement runs in its own process so its
 * peak memory (VmHWM) is its own; timings are medians of --repeat runs. A base cached by an earlier version
 * without the summary gets it (`rebuildRollups`) before the measurements.
 *
 *   npx tsx bench/retention.bench.ts [--members 1000000] [--months 36] [--repeat 3] [--keep] [--memory-limit 4GB]
 *   npm run bench -- --only retention --db bench/out/grown-10000000/memberlens.duckdb [--no-raw]
 *
 * `--db` measures an existing database (read only; it must have a current purchase summary, as ingest and
 * `bench/grow-base.ts` leave) instead of the simulated members-and-orders one. `--no-raw` skips lifecycle and
 * RFM from every purchase (`'off'`).
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { systemClock } from '../src/core/clock.js'
import { getCohortRetention } from '../src/engine/cohorts/cohort-retention.js'
import { findDefaultAsOf } from '../src/engine/lifecycle/default-as-of.js'
import { getStageCounts } from '../src/engine/lifecycle/lifecycle-stages.js'
import { getRfmSummary } from '../src/engine/rfm/rfm-scores.js'
import { sql } from '../src/engine/sql/fragment.js'
import { ingestFile } from '../src/duckdb/ingest/ingest.js'
import { rebuildRollups } from '../src/duckdb/rollups/member-days.js'
import { normaliseInstant } from '../src/engine/cohorts/time-sql.js'
import {
  purchaseSummaryCovers,
  readPurchaseSummaryState,
} from '../src/engine/lifecycle/purchase-summary.js'
import { simulate } from '../src/simulate/simulate.js'
import { openDatabase } from '../src/store/database.js'
import { median, peakRssMb } from './measure.js'

const { values } = parseArgs({
  strict: false,
  options: {
    members: { type: 'string', default: '1000000' },
    months: { type: 'string', default: '36' },
    repeat: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    'memory-limit': { type: 'string', default: '4GB' },
    db: { type: 'string' },
    'no-raw': { type: 'boolean', default: false },
    measure: { type: 'string' },
  },
})
const members = Number(values.members as string)
const months = Number(values.months as string)
const repeat = Number(values.repeat as string)
const memoryLimit = values['memory-limit'] as string
const dir = join('bench', 'out', `retention-${members}-${months}`)
const given = values.db as string | undefined
const dbPath = given ?? join(dir, 'memberlens.duckdb')
const raw = values['no-raw'] !== true
if (given !== undefined && !existsSync(given)) throw new Error(`--db ${given}: no such file`)

const TASKS = [
  'cohort-floor',
  'cohorts',
  'member-floor',
  'lifecycle-raw',
  'lifecycle',
  'rfm-raw',
  'rfm',
] as const
type Task = (typeof TASKS)[number]

if (values.measure !== undefined) {
  // Child process: one measurement.
  const task = values.measure as Task
  const db = await openDatabase(dbPath, { readOnly: true, memoryLimit })
  const asOf = (await findDefaultAsOf(db.driver)) as string
  const started = performance.now()
  let rows: number
  switch (task) {
    case 'cohort-floor':
      rows = (
        await db.driver
          .all(sql`SELECT date_trunc('month', ordered_at) AS m, count(DISTINCT member_id) AS n
          FROM orders WHERE status <> 'cancelled' GROUP BY 1`)
      ).length
      break
    case 'cohorts': {
      const t = await getCohortRetention(db.driver, {
        grain: 'month',
        periods: 35,
        activity: 'purchase',
        asOf,
      })
      rows = t.cohorts.length
      break
    }
    case 'member-floor':
      rows = Number(
        (
          await db.driver.first<{
            n: bigint
          }>(sql`SELECT count(*) AS n, sum(c) AS c, max(l) AS l, sum(a) AS a FROM (
            SELECT member_id, count(*) AS c, max(ordered_at) AS l, sum(net_amount) AS a FROM orders
            WHERE status <> 'cancelled' GROUP BY member_id)`)
        )?.n ?? 0,
      )
      break
    case 'lifecycle':
    case 'lifecycle-raw':
      rows = (
        await getStageCounts(db.driver, asOf, {}, task === 'lifecycle' ? 'auto' : 'off')
      ).reduce((s, c) => s + c.members, 0)
      break
    case 'rfm':
    case 'rfm-raw':
      rows = (await getRfmSummary(db.driver, asOf, {}, task === 'rfm' ? 'auto' : 'off')).reduce(
        (s, c) => s + c.members,
        0,
      )
      break
    default: {
      const _exhaustive: never = task
      throw new Error(`unknown task ${String(_exhaustive)}`)
    }
  }
  const seconds = (performance.now() - started) / 1000
  await db.close()
  process.stdout.write(`${JSON.stringify({ seconds, rows, peakRssMb: peakRssMb() })}\n`)
  process.exit(0)
}

if (given === undefined) await mkdir(dir, { recursive: true })
if (!existsSync(dbPath)) {
  process.stderr.write(
    `simulating ${members.toLocaleString('en-US')} members over ${months} months…\n`,
  )
  const sim = await simulate(join(dir, 'data'), {
    members,
    months,
    seed: 3,
    end: '2026-10-31',
    tables: ['members', 'orders'],
  })
  const db = await openDatabase(dbPath, { memoryLimit })
  for (const t of ['members', 'orders'] as const) {
    const file = sim.files[t]
    if (file === undefined) throw new Error(`no ${t} file`)
    process.stderr.write(`loading ${t} (${(sim.rows[t] ?? 0).toLocaleString('en-US')} rows)…\n`)
    await ingestFile(db.driver, file, { table: t, clock: systemClock })
  }
  await db.driver.execute(sql`CHECKPOINT`)
  await db.close()
  await rm(join(dir, 'data'), { recursive: true, force: true })
}

{
  const db = await openDatabase(dbPath, { memoryLimit, readOnly: given !== undefined })
  if ((await readPurchaseSummaryState(db.driver)) === undefined) {
    if (given !== undefined) throw new Error(`--db ${given}: no per-member purchase summary`)
    process.stderr.write('building the rollup and the per-member purchase summary…\n')
    await rebuildRollups(db.driver, { clock: systemClock })
    await db.driver.execute(sql`CHECKPOINT`)
  }
  const asOf = normaliseInstant((await findDefaultAsOf(db.driver)) as string)
  if (!(await purchaseSummaryCovers(db.driver, asOf, 365)))
    throw new Error('the purchase summary does not cover the default instant')
  await db.close()
}

function measure(task: Task): { seconds: number; rows: number; peakRssMb: number } {
  const runs = Array.from({ length: repeat }, () => {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/retention.bench.ts',
        '--measure',
        task,
        '--members',
        String(members),
        '--months',
        String(months),
        '--memory-limit',
        memoryLimit,
        ...(given === undefined ? [] : ['--db', given]),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    )
    return JSON.parse(out.trim().split('\n').pop() as string) as {
      seconds: number
      rows: number
      peakRssMb: number
    }
  })
  return {
    seconds: median(runs.map((r) => r.seconds)),
    rows: runs[0]?.rows ?? 0,
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
  }
}

const loadBefore = loadavg()[0] ?? 0
const skipped = (t: Task) => !raw && (t === 'lifecycle-raw' || t === 'rfm-raw')
const results = Object.fromEntries(TASKS.map((t) => [t, skipped(t) ? null : measure(t)])) as Record<
  Task,
  ReturnType<typeof measure> | null
>
const loadAfter = loadavg()[0] ?? 0
const line = (
  label: string,
  r: { seconds: number; peakRssMb: number } | null,
  floor: { seconds: number } | null,
) =>
  r === null || floor === null
    ? `${label.padEnd(34)} not measured (--no-raw)`
    : `${label.padEnd(34)} ${r.seconds.toFixed(2).padStart(8)} s ${r.peakRssMb.toFixed(0).padStart(7)} MB   ${(r.seconds / floor.seconds).toFixed(1).padStart(6)}× floor`
const counts = await (async () => {
  const db = await openDatabase(dbPath, { readOnly: true })
  const r = await db.driver.first<{ m: bigint; o: bigint }>(
    sql`SELECT (SELECT count(*) FROM members) AS m, (SELECT count(*) FROM orders) AS o`,
  )
  await db.close()
  return { members: Number(r?.m ?? 0), orders: Number(r?.o ?? 0) }
})()
process.stdout.write(
  `Retention benchmark: ${given ?? dbPath}: ${counts.members.toLocaleString('en-US')} members, ${counts.orders.toLocaleString('en-US')} orders (median of ${repeat}; DuckDB memory_limit ${memoryLimit}; load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after)\n`,
)
process.stdout.write(
  `${line('floor: orders by month', results['cohort-floor'], results['cohort-floor'])}\n`,
)
process.stdout.write(
  `${line('cohort matrix (36 monthly periods)', results.cohorts, results['cohort-floor'])}\n`,
)
process.stdout.write(
  `${line('floor: orders by member', results['member-floor'], results['member-floor'])}\n`,
)
process.stdout.write(
  `${line('lifecycle stages, every purchase', results['lifecycle-raw'], results['member-floor'])}\n`,
)
process.stdout.write(
  `${line('lifecycle stages, summary', results.lifecycle, results['member-floor'])}\n`,
)
process.stdout.write(
  `${line('RFM segments, every order', results['rfm-raw'], results['member-floor'])}\n`,
)
process.stdout.write(`${line('RFM segments, summary', results.rfm, results['member-floor'])}\n`)
process.stdout.write(
  `${JSON.stringify({ bench: 'retention', database: given ?? dbPath, ...counts, months: given === undefined ? months : null, repeat, memoryLimit, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, results, targets: { lifecycle: 3, rfm: 3 } })}\n`,
)
if (!values.keep && given === undefined) await rm(dir, { recursive: true, force: true })
