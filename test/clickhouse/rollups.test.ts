/**
 * The member × day rollup on ClickHouse (chdb): copied with the raw tables, it gives every catalog metric and the
 * metric tree the same values as the raw tables on ClickHouse and as DuckDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyRollupTables } from '../../src/duckdb/rollups/member-days.js'
import { getCohortRetention } from '../../src/engine/cohorts/cohort-retention.js'
import { CATALOG, type Unit } from '../../src/engine/metrics/catalog.js'
import { monthRollupServes, rollupIsCurrent } from '../../src/engine/metrics/rollups.js'
import { DEFAULT_SETTINGS } from '../../src/engine/metrics/context.js'
import { purchaseSummaryCovers } from '../../src/engine/lifecycle/purchase-summary.js'
import { getMemberStages, getStageCounts } from '../../src/engine/lifecycle/lifecycle-stages.js'
import { getRfmScores, getRfmSummary } from '../../src/engine/rfm/rfm-scores.js'
import { runMetrics, type MetricRequest, type MetricResult } from '../../src/engine/metrics/run.js'
import { DEFAULT_TREE, evaluateTree } from '../../src/engine/metrics/tree.js'
import { alignmentCalendar } from '../../src/calendar/index.js'
import type { Driver } from '../../src/engine/drivers/driver.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { close, expectSame } from './compare.js'
import { openEngines, type Engines } from './engines.js'

const TZ = 'Asia/Shanghai'
let e: Engines

beforeAll(async () => {
  e = await openEngines(300, 13)
  Object.assign(e.copied, await copyRollupTables(e.duck.driver, e.ch, { fileAccess: 'local' }))
})
afterAll(async () => {
  await e?.close()
})

const EXACT_UNITS: ReadonlySet<Unit> = new Set(['members', 'orders', 'count'])

function expectSameSeries(a: MetricResult, b: MetricResult, what: string): void {
  expect(b.rows.map((r) => [r.period, r.dims])).toEqual(a.rows.map((r) => [r.period, r.dims]))
  for (const col of a.columns) {
    const exact = EXACT_UNITS.has(col.metric.unit) && col.trend === undefined
    a.rows.forEach((r, i) => {
      const x = r.values[col.key] ?? null
      const y = b.rows[i]?.values[col.key] ?? null
      if (!close(x, y, exact))
        throw new Error(
          `${what}: ${col.key} ${r.period} ${JSON.stringify(r.dims)}: ${String(x)} vs ${String(y)}`,
        )
    })
  }
}

/** ClickHouse from the raw tables, ClickHouse from the rollup and DuckDB from the rollup agree. */
async function expectSameEverywhere(request: MetricRequest): Promise<void> {
  const chRaw = await runMetrics(e.ch, { ...request, rollups: 'off' })
  const chRolled = await runMetrics(e.ch, request)
  const duckRolled = await runMetrics(e.duck.driver, request)
  expect(chRaw.rows.some((r) => (r.values['active_members'] ?? 0) > 0)).toBe(true)
  expectSameSeries(chRaw, chRolled, 'ClickHouse raw vs rollup')
  expectSameSeries(duckRolled, chRolled, 'DuckDB vs ClickHouse, rollup')
}

/**
 * Catalog metrics readable at the grain (those over tables no command filled are left out), found on DuckDB:
 * the differential test shows that ClickHouse refuses the same ones.
 */
async function readable(driver: Driver, grain: 'month'): Promise<string[]> {
  const ok: string[] = []
  for (const m of CATALOG) {
    if (m.grains !== undefined && !m.grains.includes(grain)) continue
    const one = {
      metrics: [m.id],
      from: '2026-10',
      to: '2026-10',
      timezone: TZ,
      rollups: 'off' as const,
    }
    if (
      await runMetrics(driver, one).then(
        () => true,
        () => false,
      )
    )
      ok.push(m.id)
  }
  return ok
}

describe('the rollup on ClickHouse', () => {
  it('is copied and current on both engines', async () => {
    expect(e.copied['member_day_activity']).toBeGreaterThan(1000)
    expect(await rollupIsCurrent(e.duck.driver, TZ)).toBe(true)
    expect(await rollupIsCurrent(e.ch, TZ)).toBe(true)
    expect(await rollupIsCurrent(e.ch, 'UTC')).toBe(false)
    // The member × month table with it, so that month queries there read it too.
    expect(e.copied['member_month_activity']).toBeGreaterThan(100)
    expect(await monthRollupServes(e.duck.driver, DEFAULT_SETTINGS)).toBe(true)
    expect(await monthRollupServes(e.ch, DEFAULT_SETTINGS)).toBe(true)
  })

  it("gives every catalog metric the raw tables' values (month, by registration channel)", async () => {
    const metrics = await readable(e.duck.driver, 'month')
    expect(metrics.length).toBeGreaterThan(30)
    await expectSameEverywhere({
      metrics: [...metrics, 'active_members:pop', 'dau:yoy'],
      grain: 'month',
      from: '2025-10',
      to: '2026-10',
      by: ['registration_channel'],
      timezone: TZ,
    })
  })

  it("gives the metrics that read the rollup the raw tables' values by day", async () => {
    // The day grain for the measures the rollup serves (the whole catalog is compared by month above).
    await expectSameEverywhere({
      metrics: [
        'active_members',
        'dau',
        'engagement_rate',
        'period_retention',
        'churn_rate',
        'churned_members',
        'reactivation_rate',
        'active_rate',
        'feedback_rate',
        'cohort_retention_rate',
      ],
      grain: 'day',
      from: '2026-10-18',
      to: '2026-10-31',
      by: ['registration_channel'],
      timezone: TZ,
    })
  })

  it('gives the event-aligned 同比 (windows moved by whole days) the same values', async () => {
    const request: MetricRequest = {
      metrics: ['active_members:yoy_event', 'engagement_rate:yoy_event', 'churn_rate'],
      from: '2026-10-15',
      to: '2026-10-31',
      grain: 'day',
      timezone: TZ,
      alignment: alignmentCalendar(),
    }
    const chRaw = await runMetrics(e.ch, { ...request, rollups: 'off' })
    expectSameSeries(chRaw, await runMetrics(e.ch, request), 'ClickHouse raw vs rollup')
    expectSameSeries(
      chRaw,
      await runMetrics(e.duck.driver, request),
      'ClickHouse raw vs DuckDB rollup',
    )
  })

  it('is replaced whole when copied again: a member-day gone from DuckDB is gone from ClickHouse', async () => {
    const count = sql`SELECT count() AS n FROM member_day_activity`
    const before = Number((await e.ch.first<{ n: number }>(count))?.n)
    await e.duck.driver.execute(sql`CREATE TABLE kept AS SELECT * FROM member_day_activity`)
    try {
      await e.duck.driver.execute(
        sql`DELETE FROM member_day_activity WHERE member_id = (SELECT min(member_id) FROM member_day_activity)`,
      )
      const copied = await copyRollupTables(e.duck.driver, e.ch, { fileAccess: 'local' })
      expect(copied['member_day_activity']).toBeLessThan(before)
      expect(Number((await e.ch.first<{ n: number }>(count))?.n)).toBe(
        copied['member_day_activity'],
      )
    } finally {
      await e.duck.driver.execute(sql`DELETE FROM member_day_activity`)
      await e.duck.driver.execute(sql`INSERT INTO member_day_activity SELECT * FROM kept`)
      await e.duck.driver.execute(sql`DROP TABLE kept`)
      await copyRollupTables(e.duck.driver, e.ch, { fileAccess: 'local' })
    }
    expect(Number((await e.ch.first<{ n: number }>(count))?.n)).toBe(before)
  })

  it('gives the cohort retention matrix the same cells', async () => {
    for (const activity of ['any', 'event:login'] as const) {
      const spec = { activity, periods: 12, asOf: '2026-10-01', timezone: TZ }
      const raw = await getCohortRetention(e.ch, spec, 'n-period', 'off')
      expect(raw.cohorts.some((c) => c.cells.some((x) => x.period > 0 && x.active > 0))).toBe(true)
      expectSame(raw, await getCohortRetention(e.ch, spec), new Set(['active', 'eligible', 'size']))
      expectSame(
        raw,
        await getCohortRetention(e.duck.driver, spec),
        new Set(['active', 'eligible', 'size']),
      )
    }
  })

  it('gives the metric tree the same nodes', async () => {
    const options = { timezone: TZ, period: '2026-09' }
    const raw = await evaluateTree(e.ch, DEFAULT_TREE, { ...options, rollups: 'off' })
    expect(raw.nodes.length).toBeGreaterThan(0)
    expectSame(raw, await evaluateTree(e.ch, DEFAULT_TREE, options), new Set())
    expectSame(raw, await evaluateTree(e.duck.driver, DEFAULT_TREE, options), new Set())
  })
})

describe('the per-member purchase summary on ClickHouse', () => {
  const AS_OF = '2026-11-01'

  it('is copied with the rollup and covers the default instant on both engines', async () => {
    expect(e.copied['member_purchase_summary']).toBeGreaterThan(100)
    expect(await purchaseSummaryCovers(e.duck.driver, `${AS_OF} 00:00:00`, 365)).toBe(true)
    expect(await purchaseSummaryCovers(e.ch, `${AS_OF} 00:00:00`, 365)).toBe(true)
    expect(await purchaseSummaryCovers(e.ch, '2026-10-01 00:00:00', 365)).toBe(false)
  })

  it("gives lifecycle stages the raw tables' values, and DuckDB's", async () => {
    const raw = await getMemberStages(e.ch, AS_OF, {}, 'off')
    expect(new Set(raw.map((m) => m.stage)).size).toBeGreaterThanOrEqual(6)
    expectSame(raw, await getMemberStages(e.ch, AS_OF), new Set(['memberId', 'purchases']))
    expectSame(raw, await getMemberStages(e.duck.driver, AS_OF), new Set(['memberId', 'purchases']))
    expectSame(
      await getStageCounts(e.ch, AS_OF, {}, 'off'),
      await getStageCounts(e.ch, AS_OF),
      new Set(['members']),
    )
  })

  it("gives RFM scores and segments the raw tables' values, and DuckDB's", async () => {
    const exact = new Set(['memberId', 'frequency', 'r', 'f', 'm', 'fm', 'members'])
    const raw = await getRfmScores(e.ch, AS_OF, {}, 'off')
    expect(raw.length).toBeGreaterThan(100)
    expectSame(raw, await getRfmScores(e.ch, AS_OF), exact)
    expectSame(raw, await getRfmScores(e.duck.driver, AS_OF), exact)
    expectSame(await getRfmSummary(e.ch, AS_OF, {}, 'off'), await getRfmSummary(e.ch, AS_OF), exact)
  })
})
