/**
 * DuckDB and ClickHouse side by side on the same data (`npm run bench -- --only clickhouse`, or
 * `npm run bench -- --engine clickhouse`):
 *
 * 1. a memberlens DuckDB database: an existing one (--db, opened read-only; e.g. the 1,000,000-member database
 *    the tree benchmark keeps under bench/out) or a simulated member base ingested here (--members, --months);
 * 2. the bulk copy into ClickHouse (DuckDB writes each table to a Parquet file, ClickHouse inserts the file),
 *    then `OPTIMIZE … FINAL`: seconds and rows/s;
 * 3. the default metric tree and a cohort retention matrix (--cohort-months, default 36) on both engines:
 *    medians of --repeat runs and the ClickHouse/DuckDB ratio;
 * 4. with --cluster: two local clickhouse-server 18.x processes (scripts/clickhouse-two-shards.ts) sharded by
 *    member: the load rate through the Distributed tables (CSV, 18.x reads no Parquet), and per-member and
 *    per-month aggregations on each shard's local table against the Distributed table (both shards). The
 *    servers are stopped at the end. 18.x cannot run the metric SQL (no CTEs, no window functions).
 *
 * ClickHouse is chdb (in-process, the dev dependency) unless --url names a server:
 *
 *   npm run bench -- --only clickhouse [--db bench/out/tree-1000000-24/memberlens.duckdb]
 *     [--members 200000] [--months 36] [--cohort-months 36] [--repeat 3] [--url http://127.0.0.1:8123]
 *     [--method file|stream] [--cluster] [--cluster-only] [--cluster-repeat 3]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ClickHouseLogLevel, createClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
import { CLUSTER_NAME, startCluster } from '../scripts/clickhouse-two-shards.js'
import { systemClock } from '../src/core/clock.js'
import {
  TABLES,
  TABLE_NAMES,
  type TableName,
  INGEST_TABLES as LOAD_ORDER,
} from '../src/core/schema.js'
import { getCohortRetention } from '../src/engine/cohorts/cohort-retention.js'
import { copyToClickHouse, ensureClickHouseSchema } from '../src/duckdb/clickhouse-copy.js'
import { buildClusterTables } from '../src/engine/clickhouse/schema.js'
import { ClickHouseDriver } from '../src/engine/drivers/clickhouse-driver.js'
import type { Driver } from '../src/engine/drivers/driver.js'
import { lastCompletePeriod } from '../src/engine/metrics/run.js'
import { DEFAULT_TREE, evaluateTree } from '../src/engine/metrics/tree.js'
import { ident, sql, unsafeRaw } from '../src/engine/sql/fragment.js'
import { ingestFile } from '../src/duckdb/ingest/ingest.js'
import { simulate } from '../src/simulate/simulate.js'
import { openDatabase, type Database } from '../src/store/database.js'
import { median } from './measure.js'

const { values } = parseArgs({
  strict: false,
  options: {
    db: { type: 'string' },
    members: { type: 'string', default: '200000' },
    months: { type: 'string', default: '36' },
    'cohort-months': { type: 'string', default: '36' },
    repeat: { type: 'string', default: '3' },
    url: { type: 'string' },
    method: { type: 'string', default: 'file' },
    cluster: { type: 'boolean', default: false },
    'cluster-only': { type: 'boolean', default: false },
    'cluster-repeat': { type: 'string', default: '3' },
    engine: { type: 'string' },
  },
})
const repeat = Number(values.repeat as string)
const cohortMonths = Number(values['cohort-months'] as string)
const method = values.method === 'stream' ? 'stream' : 'file'

const dir = await mkdtemp(join(tmpdir(), 'memberlens-bench-ch-'))
const seconds = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = performance.now()
  await fn()
  return (performance.now() - t) / 1000
}
const f0 = (n: number) => Math.round(n).toLocaleString('en-US')
const fmt = (n: number) => n.toFixed(2).padStart(8)
const rate = (n: number, s: number) => `${f0(n / s)} rows/s`
const out = (s: string) => process.stdout.write(s)
const load = () =>
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`

async function countRows(
  duck: Database,
  names: readonly string[],
): Promise<Record<string, number>> {
  const rows: Record<string, number> = {}
  for (const t of names) {
    const r = await duck.driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM ${ident(t)}`)
    rows[t] = Number(r?.n ?? 0)
  }
  return rows
}

try {
  // 1. The DuckDB database.
  let duck: Database
  let ingest = ''
  if (values.db !== undefined) {
    duck = await openDatabase(values.db as string, { readOnly: true })
  } else {
    const members = Number(values.members as string)
    const months = Number(values.months as string)
    const sim = await simulate(join(dir, 'data'), { members, months, seed: 5 })
    duck = await openDatabase(join(dir, 'memberlens.duckdb'))
    const files = sim.files as Record<string, string>
    let rows = 0
    const s = await seconds(async () => {
      for (const t of LOAD_ORDER) {
        const f = files[t]
        if (f === undefined) continue
        await ingestFile(duck.driver, f, { table: t, clock: systemClock })
        rows += sim.rows[t] ?? 0
      }
    })
    ingest = `ingest into DuckDB        ${fmt(s)} s  ${rate(rows, s)}\n`
  }
  const rows = await countRows(duck, TABLE_NAMES)
  const total = Object.values(rows).reduce((a, b) => a + b, 0)
  const span = await duck.driver.first<{ a: string; b: string; m: bigint }>(
    sql`SELECT CAST(min(ordered_at) AS VARCHAR) AS a, CAST(max(ordered_at) AS VARCHAR) AS b,
        datediff('month', min(ordered_at), max(ordered_at)) + 1 AS m FROM orders`,
  )
  const months = Number(span?.m ?? 0)

  out(
    `${f0(rows['members'] ?? 0)} members, ${months} months of orders (${span?.a?.slice(0, 10)} – ${span?.b?.slice(0, 10)}), ` +
      `${f0(total)} rows in all: ${f0(rows['orders'] ?? 0)} orders + ${f0(rows['events'] ?? 0)} events = ` +
      `${f0((rows['orders'] ?? 0) + (rows['events'] ?? 0))} order and event rows\n` +
      ingest,
  )
  let last = performance.now()
  if (values['cluster-only'] !== true) {
    // 2. The copy into ClickHouse.
    type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection']
    const chdb = values.url === undefined
    const ch = chdb
      ? ClickHouseDriver.fromClient(
          createClient({
            connection: createChdbConnection({
              path: join(dir, 'chdb'),
            }) as unknown as ClientConnection,
          }),
        )
      : await ClickHouseDriver.open({ url: values.url as string })
    await ensureClickHouseSchema(ch)
    out(`ClickHouse: ${values.url ?? 'chdb (in-process)'}; copy method ${method}; ${load()}\n`)
    const perTable = new Map<string, number>()
    last = performance.now()
    const copySeconds = await seconds(() =>
      copyToClickHouse(duck.driver, ch, {
        method,
        fileAccess: chdb ? 'local' : 'upload',
        workDir: method === 'file' ? dir : undefined,
        optimize: false,
        onProgress: (t) => {
          const now = performance.now()
          perTable.set(t, (perTable.get(t) ?? 0) + (now - last) / 1000)
          last = now
        },
      }),
    )
    const optimizeSeconds = await seconds(async () => {
      for (const t of TABLE_NAMES) await ch.execute(sql`OPTIMIZE TABLE ${ident(t)} FINAL`)
    })
    out(
      `copy DuckDB → ClickHouse  ${fmt(copySeconds)} s  ${rate(total, copySeconds)}\n` +
        `  orders                  ${fmt(perTable.get('orders') ?? 0)} s  ${rate(rows['orders'] ?? 0, perTable.get('orders') ?? 1)}\n` +
        `  events                  ${fmt(perTable.get('events') ?? 0)} s  ${rate(rows['events'] ?? 0, perTable.get('events') ?? 1)}\n` +
        `OPTIMIZE … FINAL (all)    ${fmt(optimizeSeconds)} s\n` +
        `copy + optimize           ${fmt(copySeconds + optimizeSeconds)} s  ${rate(total, copySeconds + optimizeSeconds)}\n\n`,
    )

    // 3. The metric tree and the cohort matrix on both engines.
    const period = (await lastCompletePeriod(duck.driver, 'month')) as string
    const asOf = `${period.slice(0, 7)}-01`
    const work: Record<string, (d: Driver) => Promise<unknown>> = {
      'metric tree': (d) => evaluateTree(d, DEFAULT_TREE, { period }),
      [`cohort matrix (${cohortMonths} months)`]: (d) =>
        getCohortRetention(d, { grain: 'month', periods: cohortMonths - 1, asOf }),
    }
    out(
      `${'query'.padEnd(28)}${'DuckDB s'.padStart(10)}${'ClickHouse s'.padStart(14)}${'CH/DuckDB'.padStart(11)}   (median of ${repeat})\n`,
    )
    for (const [name, fn] of Object.entries(work)) {
      const a: number[] = []
      const b: number[] = []
      for (let i = 0; i < repeat; i++) {
        a.push(await seconds(() => fn(duck.driver)))
        b.push(await seconds(() => fn(ch)))
      }
      const [ma, mb] = [median(a), median(b)]
      out(
        `${name.padEnd(28)}${fmt(ma).padStart(10)}${fmt(mb).padStart(14)}${(mb / ma).toFixed(2).padStart(11)}   ` +
          `DuckDB ${a.map((x) => x.toFixed(2)).join('/')}, ClickHouse ${b.map((x) => x.toFixed(2)).join('/')}\n`,
      )
    }
    out(`${load()}\n`)
    await ch.close()
  }

  // 4. Two shards of clickhouse-server 18.x.
  if (values.cluster === true || values['cluster-only'] === true) {
    const clusterRepeat = Number(values['cluster-repeat'] as string)
    const tables: TableName[] = ['members', 'orders', 'events']
    const cluster = await startCluster(undefined, join(dir, 'cluster'))
    const nodes: ClickHouseDriver[] = []
    try {
      // OPTIMIZE … FINAL of a large table answers only when the merge is done: a long request timeout.
      for (const url of cluster.urls)
        nodes.push(
          ClickHouseDriver.fromClient(
            createClient({
              url,
              request_timeout: 3_600_000,
              log: { level: ClickHouseLogLevel.OFF },
            }),
            {
              flavor: 'legacy',
              settings: { insert_distributed_sync: 1 },
            },
          ),
        )
      for (const node of nodes)
        for (const name of tables) {
          const [local, distributed] = buildClusterTables(node.dialect, TABLES[name], {
            cluster: CLUSTER_NAME,
            database: 'default',
          })
          await node.execute(local)
          await node.execute(distributed)
        }
      const [n1, n2] = nodes as [ClickHouseDriver, ClickHouseDriver]
      const version = await n1.first<{ v: string }>(sql`SELECT version() AS v`)
      const loaded = tables.reduce((a, t) => a + (rows[t] ?? 0), 0)
      const shardTimes = new Map<string, number>()
      last = performance.now()
      const loadSeconds = await seconds(() =>
        copyToClickHouse(duck.driver, n1, {
          tables,
          optimize: false,
          workDir: dir,
          onProgress: (t) => {
            const now = performance.now()
            shardTimes.set(t, (now - last) / 1000)
            last = now
          },
        }),
      )
      const optimizeShards = await seconds(() =>
        Promise.all(
          nodes.map(async (n) => {
            for (const t of tables)
              await n.execute(sql`OPTIMIZE TABLE ${ident(`${t}_local`)} FINAL`)
          }),
        ),
      )
      const split = await Promise.all(
        nodes.map(async (n) => {
          const r = await n.first<{ o: number; e: number; m: number }>(
            sql`SELECT (SELECT count() FROM orders_local) AS o, (SELECT count() FROM events_local) AS e,
                (SELECT count() FROM members_local) AS m`,
          )
          return r as { o: number; e: number; m: number }
        }),
      )
      out(
        `\ntwo shards of clickhouse-server ${version?.v} on 127.0.0.1 (sharded by intHash32(member_id)); ${load()}\n` +
          `load through the Distributed tables (CSV over HTTP, insert_distributed_sync=1): ${tables.join(', ')}\n` +
          `  all three                ${fmt(loadSeconds)} s  ${rate(loaded, loadSeconds)}\n` +
          `  orders                   ${fmt(shardTimes.get('orders') ?? 0)} s  ${rate(rows['orders'] ?? 0, shardTimes.get('orders') ?? 1)}\n` +
          `  events                   ${fmt(shardTimes.get('events') ?? 0)} s  ${rate(rows['events'] ?? 0, shardTimes.get('events') ?? 1)}\n` +
          `  OPTIMIZE … FINAL, both shards in parallel ${fmt(optimizeShards)} s\n` +
          `  split: shard 1 ${f0(split[0]?.m ?? 0)} members / ${f0(split[0]?.o ?? 0)} orders / ${f0(split[0]?.e ?? 0)} events; ` +
          `shard 2 ${f0(split[1]?.m ?? 0)} / ${f0(split[1]?.o ?? 0)} / ${f0(split[1]?.e ?? 0)}\n\n`,
      )
      const queries: Record<string, (t: string) => string> = {
        'orders, revenue per member': (t) =>
          `SELECT count() AS n, sum(c) AS c FROM (SELECT member_id, count() AS c, sum(net_amount) AS s FROM ${t} WHERE status != 'cancelled' GROUP BY member_id)`,
        'events per member': (t) =>
          `SELECT count() AS n, sum(c) AS c FROM (SELECT member_id, count() AS c, uniq(toDate(ts)) AS d FROM ${t} GROUP BY member_id)`,
        'revenue per month': (t) =>
          `SELECT count() AS n, sum(s) AS c FROM (SELECT toStartOfMonth(ordered_at) AS m, sum(net_amount) AS s FROM ${t} WHERE status != 'cancelled' GROUP BY m)`,
      }
      out(
        `${'query (median of ' + clusterRepeat + ')'.padEnd(10)}`.padEnd(30) +
          `${'shard 1 local'.padStart(14)}${'shard 2 local'.padStart(14)}${'both in parallel'.padStart(18)}${'Distributed'.padStart(13)}${'Distr. no merge'.padStart(17)}\n`,
      )
      for (const [name, q] of Object.entries(queries)) {
        const table = name.startsWith('events') ? 'events' : 'orders'
        const times: number[][] = [[], [], [], [], []]
        for (let i = 0; i < clusterRepeat; i++) {
          times[0]!.push(await seconds(() => n1.all(sql`${unsafeRaw(q(`${table}_local`))}`)))
          times[1]!.push(await seconds(() => n2.all(sql`${unsafeRaw(q(`${table}_local`))}`)))
          times[2]!.push(
            await seconds(() =>
              Promise.all(nodes.map((n) => n.all(sql`${unsafeRaw(q(`${table}_local`))}`))),
            ),
          )
          times[3]!.push(await seconds(() => n1.all(sql`${unsafeRaw(q(table))}`)))
          // Every member lives on one shard, so each shard's per-member groups are final: the initiator only
          // concatenates them (the outer count/sum runs per shard here and is not merged, so only timed).
          times[4]!.push(
            await seconds(() =>
              n1.all(sql`${unsafeRaw(`${q(table)} SETTINGS distributed_group_by_no_merge = 1`)}`),
            ),
          )
        }
        out(
          `${name.padEnd(30)}${times
            .map((t, i) => fmt(median(t)).padStart([14, 14, 18, 13, 17][i] as number))
            .join('')}\n`,
        )
      }
      out(`${load()}\n`)
    } finally {
      for (const n of nodes) await n.close()
      await cluster.stop()
    }
  }
  await duck.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
