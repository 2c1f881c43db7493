/**
 * Metric-tree benchmark (`npm run bench -- --only tree`): the default metric tree for the last 12 months at the
 * month grain, overall and by registration channel, on a simulated database, against one hand-written
 * `GROUP BY` scan of the orders table measured in the same run (the floor). Medians of --repeat runs; the
 * measurement runs in its own process so its peak memory is its own.
 *
 *   npm run bench -- --only tree [--members 1000000] [--months 24] [--repeat 3] [--keep]
 *   npm run bench -- --only tree --db bench/out/grown-10000000/memberlens.duckdb [--no-raw] [--memory-limit 4GB]
 *
 * `--db` measures an existing database (read only; e.g. one grown by `bench/grow-base.ts`) instead of the
 * simulated one. `--no-raw` skips the figures from the raw tables (`rollups: 'off'`), which at 10^7 members
 * take minutes each. Each run times the tree first, so the first run is the tree's cold figure (a new process,
 * DuckDB's buffer pool empty; the operating system's file cache may hold the file) and the median of the
 * others its warm figure.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { systemClock } from '../src/core/clock.js'
import { sql } from '../src/engine/sql/fragment.js'
import { lastCompletePeriod, runMetrics, addPeriods } from '../src/engine/metrics/run.js'
import { DEFAULT_TREE, evaluateTree } from '../src/engine/metrics/tree.js'
import { ingestFile } from '../src/duckdb/ingest/ingest.js'
import { simulate } from '../src/simulate/simulate.js'
import { openDatabase } from '../src/store/database.js'
import { median, peakRssMb } from './measure.js'
import { DEFAULT_TIME_ZONE } from '../src/core/time-zone.js'
import { rollupIsCurrent } from '../src/engine/metrics/rollups.js'
import { INGEST_TABLES } from '../src/core/schema.js'

const { values } = parseArgs({
  strict: false,
  options: {
    members: { type: 'string', default: '1000000' },
    months: { type: 'string', default: '24' },
    repeat: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    db: { type: 'string' },
    'no-raw': { type: 'boolean', default: false },
    'memory-limit': { type: 'string', default: '4GB' },
    measure: { type: 'string' },
  },
})
const members = Number(values.members as string)
const months = Number(values.months as string)
const repeat = Number(values.repeat as string)
const dir = join('bench', 'out', `tree-${members}-${months}`)
const given = values.db as string | undefined
const dbPath = given ?? join(dir, 'memberlens.duckdb')
const raw = values['no-raw'] !== true
const memoryLimit = values['memory-limit'] as string
if (given !== undefined && !existsSync(given)) throw new Error(`--db ${given}: no such file`)

if (values.measure !== undefined) {
  // Child process: the measurement itself.
  const db = await openDatabase(dbPath, { readOnly: true, memoryLimit })
  // The project zone, in which ingest keys the member × day rollup: the tree reads it there.
  const timezone = DEFAULT_TIME_ZONE
  const period = (await lastCompletePeriod(db.driver, 'month', timezone)) as string
  const treeMetrics = [
    'purchase_frequency',
    'purchase_conversion',
    'net_revenue',
    'aov',
    'period_retention',
    'engagement_rate',
  ]
  const time = async (fn: () => Promise<unknown>) => {
    const t = performance.now()
    await fn()
    return (performance.now() - t) / 1000
  }
  const floor: number[] = []
  const eventsFloor: number[] = []
  const tree: number[] = []
  const byChannel: number[] = []
  const treeRaw: number[] = []
  const byChannelRaw: number[] = []
  const channelRequest = {
    metrics: treeMetrics.flatMap((m) => [m, `${m}:pop`, `${m}:yoy`]),
    from: addPeriods(period, 'month', -11),
    to: period,
    by: ['registration_channel'],
    timezone,
  }
  for (let i = 0; i < repeat; i++) {
    // The tree first: in the first run it meets an empty buffer pool (the cold figure).
    tree.push(await time(() => evaluateTree(db.driver, DEFAULT_TREE, { period, timezone })))
    byChannel.push(await time(() => runMetrics(db.driver, channelRequest)))
    floor.push(
      await time(() =>
        db.driver
          .all(sql`SELECT date_trunc('month', ordered_at) AS m, channel, count(*) AS n, sum(net_amount) AS s
          FROM orders WHERE status <> 'cancelled' GROUP BY 1, 2`),
      ),
    )
    // A second reference: the same kind of scan over the largest table the tree reads.
    eventsFloor.push(
      await time(() =>
        db.driver.all(
          sql`SELECT date_trunc('month', ts) AS m, channel, count(DISTINCT member_id) AS n FROM events GROUP BY 1, 2`,
        ),
      ),
    )
    // The same figures from the raw tables (`rollups: 'off'`).
    if (raw) {
      treeRaw.push(
        await time(() =>
          evaluateTree(db.driver, DEFAULT_TREE, { period, timezone, rollups: 'off' }),
        ),
      )
      byChannelRaw.push(
        await time(() => runMetrics(db.driver, { ...channelRequest, rollups: 'off' })),
      )
    }
  }
  const rows = await db.driver.first<
    Record<string, bigint>
  >(sql`SELECT (SELECT count(*) FROM members) AS members,
    (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM events) AS events,
    (SELECT count(*) FROM order_items) + (SELECT count(*) FROM feedback) + (SELECT count(*) FROM touches) AS other`)
  const rollupRows = Number(
    (await db.driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM member_day_activity`))?.n ??
      0,
  )
  const rollupCurrent = await rollupIsCurrent(db.driver, timezone)
  await db.close()
  process.stdout.write(
    `${JSON.stringify({ floor: median(floor), eventsFloor: median(eventsFloor), tree: median(tree), treeCold: tree[0], treeWarm: tree.length > 1 ? median(tree.slice(1)) : null, treeRuns: tree, byChannel: median(byChannel), treeRaw: raw ? median(treeRaw) : null, byChannelRaw: raw ? median(byChannelRaw) : null, rollupRows, rollupCurrent, period, rows: Object.fromEntries(Object.entries(rows ?? {}).map(([k, v]) => [k, Number(v)])), peakRssMb: peakRssMb(), memoryLimit, loadAverage: loadavg()[0] ?? 0 })}\n`,
  )
  process.exit(0)
}

if (given === undefined) await mkdir(dir, { recursive: true })
if (!existsSync(dbPath)) {
  process.stderr.write(
    `simulating ${members.toLocaleString('en-US')} members × ${months} months and loading them…\n`,
  )
  let t = performance.now()
  const sim = await simulate(join(dir, 'data'), { members, months, seed: 3 })
  process.stderr.write(`  simulated in ${((performance.now() - t) / 1000).toFixed(1)} s\n`)
  t = performance.now()
  const db = await openDatabase(dbPath, { memoryLimit: '8GB' })
  for (const table of INGEST_TABLES) {
    const file = (sim.files as Record<string, string>)[table]
    if (file !== undefined) await ingestFile(db.driver, file, { table, clock: systemClock })
  }
  await db.driver.execute(sql`CHECKPOINT`)
  await db.close()
  await rm(join(dir, 'data'), { recursive: true, force: true })
  process.stderr.write(`  loaded in ${((performance.now() - t) / 1000).toFixed(1)} s\n`)
}
const loadBefore = loadavg()[0] ?? 0
const out = execFileSync(
  process.execPath,
  [
    '--import',
    'tsx',
    'bench/tree.bench.ts',
    '--measure',
    '1',
    '--members',
    String(members),
    '--months',
    String(months),
    '--repeat',
    String(repeat),
    '--memory-limit',
    memoryLimit,
    ...(given === undefined ? [] : ['--db', given]),
    ...(raw ? [] : ['--no-raw']),
  ],
  {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  },
)
const r = JSON.parse(out.trim().split('\n').pop() as string) as {
  floor: number
  eventsFloor: number
  tree: number
  treeCold: number
  treeWarm: number | null
  treeRuns: number[]
  byChannel: number
  treeRaw: number | null
  byChannelRaw: number | null
  rollupRows: number
  rollupCurrent: boolean
  period: string
  rows: Record<string, number>
  peakRssMb: number
  memoryLimit: string
  loadAverage: number
}
const f = (n: number) => Math.round(n).toLocaleString('en-US')
const total = Object.values(r.rows).reduce((a, b) => a + b, 0) - (r.rows['members'] ?? 0)
const times = (label: string, seconds: number | null, extra = '') =>
  seconds === null
    ? `  ${label.padEnd(52)} not measured (--no-raw)`
    : `  ${label.padEnd(52)} ${seconds.toFixed(2).padStart(7)} s   ${(seconds / r.floor).toFixed(1)}× the orders floor, ${(seconds / r.eventsFloor).toFixed(1)}× the events floor${extra}`
const ratioTree = r.tree / r.floor
process.stdout.write(
  [
    `metric tree: ${given ?? dbPath}: ${f(r.rows['members'] ?? 0)} members, ${f(total)} fact rows (${f(r.rows['orders'] ?? 0)} orders, ${f(r.rows['events'] ?? 0)} events), period ${r.period.slice(0, 7)}, median of ${repeat}; load average ${loadBefore.toFixed(1)} before, ${r.loadAverage.toFixed(1)} after`,
    `  floor  one GROUP BY scan of orders                  ${r.floor.toFixed(2).padStart(7)} s`,
    `  floor' one GROUP BY scan of events (distinct members) ${r.eventsFloor.toFixed(2).padStart(7)} s`,
    `  rollup member × day rows ${f(r.rollupRows)}${r.rollupCurrent ? '' : ' (NOT current: the tree reads the raw tables)'}`,
    times('tree, cold (first run in the process)', r.treeCold),
    times('tree, warm (median of the later runs)', r.treeWarm),
    times(
      'tree, 12 months + trends, rollup (median)',
      r.tree,
      ` (target ≤ 3× the orders floor: ${ratioTree <= 3 ? 'met' : 'not met'})`,
    ),
    times('tree, 12 months + trends, raw tables (median)', r.treeRaw),
    times('same metrics by registration channel, rollup', r.byChannel),
    times('same metrics by registration channel, raw tables', r.byChannelRaw),
    `  peak RSS ${f(r.peakRssMb)} MB (DuckDB memory_limit ${r.memoryLimit})`,
    '',
  ].join('\n'),
)
process.stdout.write(
  `${JSON.stringify({ benchmark: 'metric tree', database: given ?? dbPath, ...r, loadAverageBefore: loadBefore, ratioTree, ratioByChannel: r.byChannel / r.floor, target: 3 })}\n`,
)
if (!values.keep && given === undefined) await rm(dir, { recursive: true, force: true })
