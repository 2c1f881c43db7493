/**
 * The same analyses on DuckDB and on ClickHouse (chdb, in-process ClickHouse 26.x) over one simulated member
 * base: ingested into DuckDB through the ordinary path, copied to ClickHouse by the block loader, then read by
 * the unchanged metric, cohort, lifecycle, RFM, funnel and summary code on both engines. Counts must be equal;
 * sums, ratios and averages equal to 1e-9 relative (the engines add in different orders).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CATALOG, type Unit } from '../../src/engine/metrics/catalog.js'
import { runMetrics, type MetricResult } from '../../src/engine/metrics/run.js'
import { LOYALTY_SOURCES } from '../../src/engine/metrics/sources.js'
import { MEASURES } from '../../src/engine/metrics/measures.js'
import { ident, sql } from '../../src/engine/sql/fragment.js'
import { close } from './compare.js'
import { openEngines, type Engines } from './engines.js'

let e: Engines

beforeAll(async () => {
  e = await openEngines()
})
afterAll(async () => {
  await e?.close()
})

const EXACT_UNITS: ReadonlySet<Unit> = new Set(['members', 'orders', 'count'])

/** Metrics that read only the canonical tables (the loyalty ones read the ledger sync's tables). */
const catalogMetrics = CATALOG.filter(
  (m) =>
    (m.grains === undefined || m.grains.includes('month')) &&
    !m.measures.some((id) => MEASURES[id]?.sources.some((s) => LOYALTY_SOURCES.has(s))),
)

function expectSameSeries(a: MetricResult, b: MetricResult): void {
  expect(b.rows.map((r) => [r.period, r.label, r.dims])).toEqual(
    a.rows.map((r) => [r.period, r.label, r.dims]),
  )
  for (const col of a.columns) {
    const exact = EXACT_UNITS.has(col.metric.unit) && col.trend === undefined
    a.rows.forEach((r, i) => {
      const x = r.values[col.key] ?? null
      const y = b.rows[i]?.values[col.key] ?? null
      if (!close(x, y, exact)) {
        throw new Error(
          `${col.key} ${r.period} ${JSON.stringify(r.dims)}: DuckDB ${String(x)} ClickHouse ${String(y)}`,
        )
      }
    })
  }
}

describe('the data arrives whole', () => {
  it('every canonical table has the same rows and money totals on both engines', async () => {
    expect(e.copied['orders']).toBeGreaterThan(500)
    for (const [table, n] of Object.entries(e.copied)) {
      const row = await e.ch.first<{ n: number }>(sql`SELECT count() AS n FROM ${ident(table)}`)
      expect(row?.n, table).toBe(n)
    }
    const q = sql`SELECT sum(net_amount) AS s, count(DISTINCT member_id) AS m FROM orders`
    const [d, c] = [await e.duck.driver.first(q), await e.ch.first(q)]
    expect(c?.['s']).toBe(d?.['s'])
    expect(Number(c?.['m'])).toBe(Number(d?.['m']))
  })
})

describe('the metric catalog', () => {
  it('covers the catalog', () => {
    expect(catalogMetrics.length).toBeGreaterThan(30)
  })

  it('gives the same series for every metric, monthly by registration channel', async () => {
    const request = {
      metrics: catalogMetrics.map((m) => m.id),
      from: '2025-10',
      to: '2026-10',
      grain: 'month' as const,
      by: ['registration_channel'],
    }
    const [a, b] = [await runMetrics(e.duck.driver, request), await runMetrics(e.ch, request)]
    expect(a.rows.length).toBeGreaterThan(12)
    // The comparison means something only when the series are not empty.
    const filled = a.columns.filter((c) => a.rows.some((r) => (r.values[c.key] ?? 0) !== 0))
    expect(filled.length).toBeGreaterThan(0.8 * a.columns.length)
    expectSameSeries(a, b)
  })

  it('gives the same trends and totals at the quarter grain with a member filter', async () => {
    const request = {
      metrics: ['net_revenue', 'net_revenue:pop', 'buyers', 'aov:avg2', 'active_members'],
      from: '2025-10',
      to: '2026-09',
      grain: 'quarter' as const,
      where: ['registration_channel=app'],
    }
    const [a, b] = [await runMetrics(e.duck.driver, request), await runMetrics(e.ch, request)]
    expect(a.rows.length).toBe(4)
    expectSameSeries(a, b)
  })
})
