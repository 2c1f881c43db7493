/**
 * Smoke test of the sharded deployment on Debian's clickhouse-server 18.16: two server processes on 127.0.0.1
 * form the cluster `two_shards`; each holds the local ReplacingMergeTree tables and a Distributed table sharded
 * by intHash32(member_id). The simulated data is loaded through the Distributed tables (twice, to check that a
 * re-load is idempotent) and what that old server can compute (no CTEs, no window functions, no query
 * parameters) is checked against DuckDB. A server that cannot start fails the test with its log.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CLUSTER_NAME,
  startCluster,
  type RunningCluster,
} from '../../scripts/clickhouse-two-shards.js'
import { TABLES, TABLE_NAMES } from '../../src/core/schema.js'
import { copyToClickHouse } from '../../src/duckdb/clickhouse-copy.js'
import { buildClusterTables } from '../../src/engine/clickhouse/schema.js'
import { ClickHouseDriver } from '../../src/engine/drivers/clickhouse-driver.js'
import { runMetrics } from '../../src/engine/metrics/run.js'
import { ident, sql } from '../../src/engine/sql/fragment.js'
import type { Database } from '../../src/store/database.js'
import { simulatedDuckDb } from './engines.js'

/**
 * The catalog metrics whose SQL runs on 18.16 (docs/clickhouse.md): the core measures (members, active, buyers,
 * orders, net revenue, repurchase, period retention) and the others without window functions or EXISTS.
 */
const LEGACY_METRICS = [
  'members_total',
  'new_members',
  'active_members',
  'dau',
  'mau',
  'stickiness',
  'engagement_rate',
  'buyers',
  'orders',
  'net_revenue',
  'purchase_frequency',
  'aov',
  'revenue_per_buyer',
  'repurchase_rate',
  'arpu',
  'arppu',
  'purchase_conversion',
  'first_purchase_conversion',
  'period_retention',
  'subscription_churn_rate',
  'subscription_renewals_due',
  'historical_ltv',
  'nps',
  'csat',
  'negative_review_share',
  'support_requests_per_1000',
  'complaint_rate',
  'returned_amount',
  'return_rate_orders',
  'registration_conversion',
  'cost_per_new_member',
]

let cluster: RunningCluster
let nodes: ClickHouseDriver[] = []
let duck: Database
let dir: string

/** Loads every canonical table through the Distributed tables, then merges duplicates on each shard. */
async function load(): Promise<void> {
  const first = nodes[0] as ClickHouseDriver
  await copyToClickHouse(duck.driver, first, { optimize: false, blockRows: 50_000 })
  for (const node of nodes)
    for (const name of TABLE_NAMES)
      await node.execute(sql`OPTIMIZE TABLE ${ident(`${name}_local`)} FINAL`)
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-shards-'))
  cluster = await startCluster()
  nodes = await Promise.all(
    cluster.urls.map((url) =>
      ClickHouseDriver.open({ url, flavor: 'legacy', settings: { insert_distributed_sync: 1 } }),
    ),
  )
  for (const node of nodes) {
    for (const name of TABLE_NAMES) {
      const [local, distributed] = buildClusterTables(node.dialect, TABLES[name], {
        cluster: CLUSTER_NAME,
        database: 'default',
      })
      await node.execute(local)
      await node.execute(distributed)
    }
  }
  duck = await simulatedDuckDb(dir, 250, 12)
  await load()
})

afterAll(async () => {
  for (const n of nodes) await n.close()
  await duck?.close()
  await cluster?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const count = async (d: ClickHouseDriver, table: string): Promise<number> =>
  Number((await d.first<{ n: number }>(sql`SELECT count() AS n FROM ${ident(table)}`))?.n)

describe('two shards of clickhouse-server 18.16', () => {
  it('run the old server', async () => {
    const v = await nodes[0]?.first<{ v: string }>(sql`SELECT version() AS v`)
    expect(v?.v).toMatch(/^18\./)
  })

  it('hold every row once, split by member, with no member on both shards', async () => {
    for (const name of TABLE_NAMES) {
      const n = Number(
        (await duck.driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM ${ident(name)}`))?.n,
      )
      expect(await count(nodes[0] as ClickHouseDriver, name), name).toBe(n)
      expect(await count(nodes[1] as ClickHouseDriver, name), name).toBe(n)
    }
    const perShard = await Promise.all(nodes.map((n) => count(n, 'orders_local')))
    expect(Math.min(...perShard)).toBeGreaterThan(0.3 * (perShard[0]! + perShard[1]!))
    const members = await Promise.all(
      nodes.map(async (n) =>
        Number(
          (await n.first<{ m: number }>(sql`SELECT uniqExact(member_id) AS m FROM orders_local`))
            ?.m,
        ),
      ),
    )
    const all = Number(
      (await nodes[0]?.first<{ m: number }>(sql`SELECT uniqExact(member_id) AS m FROM orders`))?.m,
    )
    expect(members[0]! + members[1]!).toBe(all)
  })

  it('keep one row per key when the same data is loaded again', async () => {
    await load()
    for (const name of ['orders', 'events', 'members'] as const) {
      const n = Number(
        (await duck.driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM ${ident(name)}`))?.n,
      )
      expect(await count(nodes[1] as ClickHouseDriver, name), name).toBe(n)
    }
  })

  it('give DuckDB’s monthly buyers, orders and purchase amount (old SQL, through the Distributed table)', async () => {
    const duckSeries = await runMetrics(duck.driver, {
      metrics: ['buyers', 'orders'],
      from: '2025-11',
      to: '2026-10',
      grain: 'month',
    })
    const ch = await nodes[1]!.all<{
      month: string
      buyers: number
      orders: number
      amount: string
    }>(
      sql`SELECT toString(toStartOfMonth(ordered_at)) AS month, uniqExact(member_id) AS buyers, count() AS orders,
          toString(sum(net_amount)) AS amount
        FROM orders WHERE status != 'cancelled' AND ordered_at >= toDateTime(${'2025-11-01 00:00:00'})
        GROUP BY month ORDER BY month`,
    )
    const byMonth = new Map(ch.map((r) => [r.month, r]))
    for (const row of duckSeries.rows) {
      const c = byMonth.get(row.period)
      expect(Number(c?.buyers ?? 0), row.period).toBe(row.values['buyers'])
      expect(Number(c?.orders ?? 0), row.period).toBe(row.values['orders'])
    }
    const amounts = await duck.driver.all<{ month: string; amount: string }>(
      sql`SELECT strftime(date_trunc('month', ordered_at), '%Y-%m-%d') AS month, CAST(sum(net_amount) AS VARCHAR) AS amount
        FROM orders WHERE status <> 'cancelled' AND ordered_at >= TIMESTAMP '2025-11-01' GROUP BY 1 ORDER BY 1`,
    )
    expect(amounts.length).toBe(ch.length)
    for (const a of amounts) expect(Number(byMonth.get(a.month)?.amount)).toBe(Number(a.amount))
  })

  it('give DuckDB’s catalog measures that 18.16 can run, through the metric compiler (no CTEs, one join per SELECT)', async () => {
    const request = {
      metrics: LEGACY_METRICS,
      from: '2025-11',
      to: '2026-10',
      grain: 'month' as const,
      timezone: 'UTC',
    }
    const expected = await runMetrics(duck.driver, request)
    const actual = await runMetrics(nodes[0] as ClickHouseDriver, request)
    expect(actual.rows.map((r) => r.period)).toEqual(expected.rows.map((r) => r.period))
    expected.rows.forEach((row, i) => {
      const got = actual.rows[i]?.values ?? {}
      for (const [metric, value] of Object.entries(row.values)) {
        if (value === null) expect(got[metric], `${metric} ${row.period}`).toBeNull()
        else expect(got[metric], `${metric} ${row.period}`).toBeCloseTo(value, 9)
      }
    })
    // The comparison means something only when the series are not empty.
    for (const metric of [
      'members_total',
      'active_members',
      'net_revenue',
      'period_retention',
      'nps',
    ])
      expect(
        expected.rows.some((r) => (r.values[metric] ?? 0) > 0),
        metric,
      ).toBe(true)
  })
})
