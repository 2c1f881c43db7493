/**
 * Metric-tree benchmark (`npm run bench -- --only tree`): the default metric tree for the last 12 months at the
 * month grain, overall and by registration channel, on a simulated database, against one hand-written
 * `GROUP BY` scan of the orders table measured in the same run (the floor). Medians of --repeat runs; the
 * measurement runs in its own process so its peak memory is its own.
 *
 *   npm run bench -- --only tree [--members 1000000] [--months 24] [--repeat 3] [--keep]
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
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
    measure: { type: 'string' },
  },
})
const members = Number(values.members as string)
const months = Number(values.months as string)
const repeat = Number(values.repeat as string)
const dir = join('bench', 'out', `tree-${members}-${months}`)
const dbPath = join(dir, 'memberlens.duckdb')

if (values.measure !== undefined) {
  // Child process: the measurement itself.
  const db = await openDatabase(dbPath, { readOnly: true })
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
    // The same figures from the raw tables (`rollups: 'off'`), then from the rollup, alternately.
    treeRaw.push(
      await time(() => evaluateTree(db.driver, DEFAULT_TREE, { period, timezone, rollups: 'off' })),
    )
    tree.push(await time(() => evaluateTree(db.driver, DEFAULT_TREE, { period, timezone })))
    byChannelRaw.push(
      await time(() => runMetrics(db.driver, { ...channelRequest, rollups: 'off' })),
    )
    byChannel.push(await time(() => runMetrics(db.driver, channelRequest)))
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
    `${JSON.stringify({ floor: median(floor), eventsFloor: median(eventsFloor), tree: median(tree), byChannel: median(byChannel), treeRaw: median(treeRaw), byChannelRaw: median(byChannelRaw), rollupRows, rollupCurrent, period, rows: Object.fromEntries(Object.entries(rows ?? {}).map(([k, v]) => [k, Number(v)])), peakRssMb: peakRssMb() })}\n`,
  )
  process.exit(0)
}

await mkdir(dir, { recursive: true })
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
  byChannel: number
  treeRaw: number
  byChannelRaw: number
  rollupRows: number
  rollupCurrent: boolean
  period: string
  rows: Record<string, number>
  peakRssMb: number
}
const f = (n: number) => Math.round(n).toLocaleString('en-US')
const total = Object.values(r.rows).reduce((a, b) => a + b, 0) - (r.rows['members'] ?? 0)
process.stdout.write(
  [
    `metric tree: ${f(r.rows['members'] ?? 0)} members, ${f(total)} fact rows (${f(r.rows['orders'] ?? 0)} orders, ${f(r.rows['events'] ?? 0)} events), period ${r.period.slice(0, 7)}, median of ${repeat}`,
    `  floor  one GROUP BY scan of orders             ${r.floor.toFixed(2)} s`,
    `  floor' one GROUP BY scan of events (distinct members) ${r.eventsFloor.toFixed(2)} s`,
    `  rollup member × day rows ${f(r.rollupRows)}${r.rollupCurrent ? '' : ' (NOT current: the tree reads the raw tables)'}`,
    `  tree   default tree, 12 months + trends, raw tables  ${r.treeRaw.toFixed(2)} s   ${(r.treeRaw / r.floor).toFixed(1)}× the floor, ${(r.treeRaw / r.eventsFloor).toFixed(1)}× the events scan`,
    `  tree   default tree, 12 months + trends, rollup      ${r.tree.toFixed(2)} s   ${(r.tree / r.floor).toFixed(1)}× the floor, ${(r.tree / r.eventsFloor).toFixed(1)}× the events scan`,
    `  tree   same metrics by registration channel, raw     ${r.byChannelRaw.toFixed(2)} s   ${(r.byChannelRaw / r.floor).toFixed(1)}× the floor`,
    `  tree   same metrics by registration channel, rollup  ${r.byChannel.toFixed(2)} s   ${(r.byChannel / r.floor).toFixed(1)}× the floor (target ≤ 5×), ${(r.byChannel / r.eventsFloor).toFixed(1)}× the events scan`,
    `  peak RSS ${f(r.peakRssMb)} MB`,
    '',
  ].join('\n'),
)
process.stdout.write(
  `${JSON.stringify({ benchmark: 'metric tree', ...r, ratioTree: r.tree / r.floor, ratioByChannel: r.byChannel / r.floor, target: 5 })}\n`,
)
if (!values.keep) await rm(dir, { recursive: true, force: true })
