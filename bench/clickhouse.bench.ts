/**
 * DuckDB and ClickHouse side by side on the same data (`npm run bench -- --only clickhouse`): a simulated member
 * base is ingested into DuckDB, copied into ClickHouse (load rate), then the default metric tree and a
 * 36-month cohort retention matrix run on both engines. Prints seconds, rows per second and the
 * ClickHouse/DuckDB ratio (medians of --repeat runs).
 *
 * ClickHouse is chdb (in-process, the dev dependency) unless --url names a server:
 *
 *   npm run bench -- --only clickhouse [--members 200000] [--months 36] [--repeat 3] [--url http://127.0.0.1:8123]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
import { systemClock } from '../src/core/clock.js'
import { getCohortRetention } from '../src/engine/cohorts/cohort-retention.js'
import { copyToClickHouse, ensureClickHouseSchema } from '../src/engine/clickhouse/load.js'
import { ClickHouseDriver } from '../src/engine/drivers/clickhouse-driver.js'
import type { Driver } from '../src/engine/drivers/driver.js'
import { lastCompletePeriod } from '../src/engine/metrics/run.js'
import { DEFAULT_TREE, evaluateTree } from '../src/engine/metrics/tree.js'
import { ingestFile } from '../src/ingest/ingest.js'
import { simulate } from '../src/simulate/simulate.js'
import { openDatabase } from '../src/store/database.js'
import { median } from './measure.js'
import { DEMO_LOAD_ORDER as LOAD_ORDER } from '../src/cli/commands/demo.js'

const { values } = parseArgs({
  strict: false,
  options: {
    members: { type: 'string', default: '200000' },
    months: { type: 'string', default: '36' },
    repeat: { type: 'string', default: '3' },
    url: { type: 'string' },
  },
})
const members = Number(values.members as string)
const months = Number(values.months as string)
const repeat = Number(values.repeat as string)

const dir = await mkdtemp(join(tmpdir(), 'memberlens-bench-ch-'))
const seconds = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = performance.now()
  await fn()
  return (performance.now() - t) / 1000
}

try {
  const sim = await simulate(join(dir, 'data'), { members, months, seed: 5 })
  const duck = await openDatabase(join(dir, 'memberlens.duckdb'))
  const files = sim.files as Record<string, string>
  let rows = 0
  const ingestSeconds = await seconds(async () => {
    for (const t of LOAD_ORDER) {
      const f = files[t]
      if (f === undefined) continue
      await ingestFile(duck.driver, f, { table: t, clock: systemClock })
      rows += sim.rows[t] ?? 0
    }
  })

  type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection']
  const ch =
    values.url === undefined
      ? ClickHouseDriver.fromClient(
          createClient({
            connection: createChdbConnection({
              path: join(dir, 'chdb'),
            }) as unknown as ClientConnection,
          }),
        )
      : await ClickHouseDriver.open({ url: values.url as string })
  await ensureClickHouseSchema(ch)
  let copiedRows = 0
  const copySeconds = await seconds(async () => {
    const copied = await copyToClickHouse(duck.driver, ch)
    copiedRows = Object.values(copied).reduce((a, b) => a + b, 0)
  })

  const period = (await lastCompletePeriod(duck.driver, 'month')) as string
  const asOf = `${period.slice(0, 7)}-01`
  const work: Record<string, (d: Driver) => Promise<unknown>> = {
    'metric tree': (d) => evaluateTree(d, DEFAULT_TREE, { period }),
    [`cohort matrix (${months} months)`]: (d) =>
      getCohortRetention(d, { grain: 'month', periods: months - 1, asOf }),
  }
  const fmt = (n: number) => n.toFixed(2).padStart(8)
  const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en-US')} rows/s`
  process.stdout.write(
    `${members.toLocaleString('en-US')} members, ${months} months, ${rows.toLocaleString('en-US')} source rows; ClickHouse: ${values.url ?? 'chdb (in-process)'}\n` +
      `ingest into DuckDB        ${fmt(ingestSeconds)} s  ${rate(rows, ingestSeconds)}\n` +
      `copy DuckDB → ClickHouse  ${fmt(copySeconds)} s  ${rate(copiedRows, copySeconds)}\n\n` +
      `${'query'.padEnd(26)}${'DuckDB s'.padStart(10)}${'ClickHouse s'.padStart(14)}${'CH/DuckDB'.padStart(11)}\n`,
  )
  for (const [name, fn] of Object.entries(work)) {
    const a: number[] = []
    const b: number[] = []
    for (let i = 0; i < repeat; i++) {
      a.push(await seconds(() => fn(duck.driver)))
      b.push(await seconds(() => fn(ch)))
    }
    const [ma, mb] = [median(a), median(b)]
    process.stdout.write(
      `${name.padEnd(26)}${fmt(ma).padStart(10)}${fmt(mb).padStart(14)}${(mb / ma).toFixed(2).padStart(11)}\n`,
    )
  }
  await ch.close()
  await duck.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
