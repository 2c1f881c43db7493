/**
 * The same analyses on DuckDB and on ClickHouse (chdb, in-process ClickHouse 26.x) over one simulated member
 * base: ingested into DuckDB through the ordinary path, copied to ClickHouse by the block loader, then read by
 * the unchanged metric, cohort, lifecycle, RFM, funnel and summary code on both engines. Counts must be equal;
 * sums, ratios and averages equal to 1e-9 relative (the engines add in different orders).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InputError } from '../../src/core/errors.js'
import { CATALOG, type Unit } from '../../src/engine/metrics/catalog.js'
import { runMetrics, type MetricResult } from '../../src/engine/metrics/run.js'
import { ident, sql } from '../../src/engine/sql/fragment.js'
import { getBracketRetention, parseBrackets } from '../../src/engine/cohorts/bracket-retention.js'
import { getCohortRetention } from '../../src/engine/cohorts/cohort-retention.js'
import type { Driver } from '../../src/engine/drivers/driver.js'
import { getFunnel } from '../../src/engine/funnels/funnel-query.js'
import { getMemberStages, getStageCounts } from '../../src/engine/lifecycle/lifecycle-stages.js'
import { getRfmScores, getRfmSummary } from '../../src/engine/rfm/rfm-scores.js'
import {
  repeatBuyingSummariesQuery,
  resolveSummaryOptions,
} from '../../src/engine/summaries/repeat-buying.js'
import { clvValidationReport } from '../../src/analytics/clv/clv.js'
import { analyzeDrivers } from '../../src/analytics/reporting/driver-analysis.js'
import { getSurvival } from '../../src/analytics/lifetime/survival.js'
import { getCohortPayback } from '../../src/engine/cohorts/cohort-ltv.js'
import { getChurnFlows } from '../../src/engine/lifecycle/churn-flows.js'
import { lifecycleConfigSchema } from '../../src/engine/lifecycle/lifecycle-config.js'
import {
  getStageSizesOverTime,
  getStageTransitions,
} from '../../src/engine/lifecycle/lifecycle-transitions.js'
import { findDefaultAsOf } from '../../src/engine/lifecycle/default-as-of.js'
import { getOverview } from '../../src/engine/metrics/overview.js'
import { DEFAULT_TREE, evaluateTree } from '../../src/engine/metrics/tree.js'
import { getRfmMovement } from '../../src/engine/rfm/rfm-scores.js'
import { getSegmentExportRows } from '../../src/engine/segments/segment-export.js'
import { getCohortLtv } from '../../src/engine/cohorts/cohort-ltv.js'
import { alignmentCalendar } from '../../src/calendar/index.js'
import { close, expectSame } from './compare.js'
import { openEngines, type Engines } from './engines.js'

let e: Engines

beforeAll(async () => {
  e = await openEngines()
})
afterAll(async () => {
  await e?.close()
})

const EXACT_UNITS: ReadonlySet<Unit> = new Set(['members', 'orders', 'count'])

/** Every catalog metric that can be read at the month grain (the loyalty ones read the copied ledger tables). */
const catalogMetrics = CATALOG.filter((m) => m.grains === undefined || m.grains.includes('month'))

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
  it('covers the catalog, loyalty metrics included', () => {
    expect(catalogMetrics.length).toBeGreaterThan(30)
    const ids = catalogMetrics.map((m) => m.id)
    expect(ids).toEqual(
      expect.arrayContaining(['points_issued', 'points_liability_amount', 'tier_upgrade_rate']),
    )
  })

  it('gives the same series for every metric, monthly by registration channel', async () => {
    // A metric over tables the simulated data does not have (e.g. labels written by another command) is refused
    // on DuckDB with the command to run; ClickHouse must refuse it with the same message.
    const readable: string[] = []
    for (const m of catalogMetrics) {
      const one = { metrics: [m.id], from: '2026-10', to: '2026-10' }
      const refusal = await runMetrics(e.duck.driver, one).then(
        () => undefined,
        (err: unknown) => {
          if (!(err instanceof InputError)) throw err
          return err.message
        },
      )
      if (refusal === undefined) readable.push(m.id)
      else await expect(runMetrics(e.ch, one), m.id).rejects.toThrow(refusal)
    }
    expect(readable.length).toBeGreaterThan(0.9 * catalogMetrics.length)
    const request = {
      metrics: readable,
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

  it('gives the same series in the business’s time zone (Asia/Shanghai), by day and by month', async () => {
    // Wall-clock days and months of the zone: an order at 01:00 Beijing time on the 1st belongs to the 1st.
    const metrics = ['orders', 'buyers', 'net_revenue', 'active_members', 'new_members', 'dau']
    for (const grain of ['day', 'month'] as const) {
      const request = {
        metrics,
        from: grain === 'day' ? '2026-10-01' : '2025-11',
        to: grain === 'day' ? '2026-10-31' : '2026-10',
        grain,
        timezone: 'Asia/Shanghai',
      }
      const [a, b] = [await runMetrics(e.duck.driver, request), await runMetrics(e.ch, request)]
      expect(a.rows.some((r) => (r.values['orders'] ?? 0) > 0)).toBe(true)
      expectSameSeries(a, b)
    }
  })

  it('gives the same campaign metrics against the holdout, by campaign and by member field', async () => {
    const metrics = [
      'campaign_incremental_orders',
      'campaign_incremental_revenue',
      'campaign_cost',
      'campaign_roi',
    ]
    for (const by of [['campaign'], ['registration_channel']]) {
      const request = { metrics, from: '2025-10', to: '2026-10', grain: 'month' as const, by }
      const [a, b] = [await runMetrics(e.duck.driver, request), await runMetrics(e.ch, request)]
      // The simulated win-back campaign has a holdout: its figures are there, not only empty values.
      for (const m of metrics)
        expect(
          a.rows.some((r) => (r.values[m] ?? null) !== null),
          `${m} by ${by[0]}`,
        ).toBe(true)
      expectSameSeries(a, b)
    }
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

  it('gives the same event-aligned 同比 (:yoy_event reads windows moved by whole days)', async () => {
    const request = {
      metrics: ['orders', 'net_revenue:yoy_event', 'buyers:yoy_event', 'orders:yoy'],
      from: '2026-10-15',
      to: '2026-10-31',
      grain: 'day' as const,
      by: ['registration_channel'],
      alignment: alignmentCalendar(),
    }
    const [a, b] = [await runMetrics(e.duck.driver, request), await runMetrics(e.ch, request)]
    // From 20 October the days lie in 双11's window and are compared with the same dates of 2025.
    const aligned = a.rows.filter((r) => r.alignments?.['buyers:yoy_event']?.event !== null)
    expect(aligned.length).toBeGreaterThan(10)
    expect(aligned.some((r) => (r.values['buyers:yoy_event'] ?? null) !== null)).toBe(true)
    expect(b.rows.map((r) => r.alignments)).toEqual(a.rows.map((r) => r.alignments))
    expectSameSeries(a, b)
  })
})

/** Runs one analysis on both engines and compares the results (counts under `countKeys` exactly). */
async function onBoth<T>(
  run: (driver: Driver) => Promise<T>,
  countKeys: readonly string[],
): Promise<T> {
  const a = await run(e.duck.driver)
  const b = await run(e.ch)
  expectSame(a, b, new Set(countKeys))
  return a
}

const AS_OF = '2026-11-01'
const CELL_COUNTS = ['active', 'eligible', 'size', 'members', 'cohorts', 'period']

describe('retention, lifecycle, RFM, funnels and CLV summaries', () => {
  it('cohort retention matrices: registration × any activity by channel, first purchase × purchases unbounded', async () => {
    const t = await onBoth(
      (d) =>
        getCohortRetention(d, {
          grain: 'month',
          periods: 6,
          asOf: AS_OF,
          dimension: 'registration_channel',
        }),
      CELL_COUNTS,
    )
    expect(t.cohorts.length).toBeGreaterThan(10)
    expect(t.cohorts.some((c) => c.cells.some((x) => x.period > 0 && x.active > 0))).toBe(true)
    await onBoth(
      (d) =>
        getCohortRetention(
          d,
          {
            anchor: 'first-purchase',
            activity: 'purchase',
            grain: 'quarter',
            periods: 3,
            asOf: AS_OF,
          },
          'unbounded',
        ),
      CELL_COUNTS,
    )
    await onBoth(
      (d) =>
        getCohortRetention(d, {
          grain: 'week',
          periods: 4,
          activity: 'event:check_in',
          from: '2026-06-01',
          asOf: AS_OF,
          dimension: 'first_order_channel',
        }),
      CELL_COUNTS,
    )
  })

  it('bracket retention and cohort LTV curves', async () => {
    const brackets = parseBrackets('1-7,8-30,31-90')
    const b = await onBoth(
      (d) => getBracketRetention(d, { grain: 'month', asOf: AS_OF }, brackets),
      CELL_COUNTS,
    )
    expect(b.length).toBeGreaterThan(10)
    const ltv = await onBoth(
      (d) => getCohortLtv(d, { grain: 'month', periods: 6, asOf: AS_OF }),
      CELL_COUNTS,
    )
    expect(ltv.some((c) => c.points.some((p) => (p.ltv ?? 0) > 0))).toBe(true)
  })

  it('lifecycle stages: counts and the stage of every member', async () => {
    const counts = await onBoth((d) => getStageCounts(d, AS_OF), ['members'])
    expect(counts.filter((c) => c.members > 0).length).toBeGreaterThan(4)
    await onBoth((d) => getMemberStages(d, AS_OF), ['memberId', 'purchases'])
  })

  it('RFM: the scores of every member and the segment summary', async () => {
    const scores = await onBoth(
      (d) => getRfmScores(d, AS_OF),
      ['memberId', 'frequency', 'r', 'f', 'm', 'fm'],
    )
    expect(new Set(scores.map((s) => s.segment)).size).toBeGreaterThan(4)
    await onBoth((d) => getRfmSummary(d, AS_OF), ['members'])
  })

  it('funnels: steps with a property filter, by registration channel', async () => {
    const f = await onBoth(
      (d) =>
        getFunnel(d, {
          steps: [
            { eventType: 'page_view' },
            { eventType: 'page_view', where: { page: 'product' } },
            { eventType: 'add_to_cart' },
          ],
          windowDays: 14,
          from: '2026-01-01',
          to: '2026-10-01',
          dimension: 'registration_channel',
        }),
      ['members'],
    )
    expect(f.some((r) => r.steps.every((s) => s.members > 0))).toBe(true)
  })

  it('CLV summaries per member (x, t_x, T, mean value, holdout)', async () => {
    const options = resolveSummaryOptions({
      calibrationEnd: '2026-06-30',
      holdoutEnd: '2026-10-31',
    })
    const rows = await onBoth(
      (d) => d.all(repeatBuyingSummariesQuery(options)),
      ['memberId', 'x', 'holdoutPurchases'],
    )
    expect(rows.filter((r) => Number(r['x']) > 0).length).toBeGreaterThan(50)
  })
})

describe('what the CLI commands read (overview, tree, drivers, survival, lifecycle, RFM, cohorts, segments)', () => {
  /** A shorter churn window than the default, so that the simulated months hold churns and returns. */
  const config = lifecycleConfigSchema.parse({ churnDays: 60 })

  it('the overview (month figures and all-time totals with first and last activity days)', async () => {
    const o = await onBoth(
      (d) => getOverview(d),
      [
        'membersAtMonthEnd',
        'newMembers',
        'activeMembers',
        'buyers',
        'orders',
        'members',
        'identities',
        'mergedMembers',
      ],
    )
    expect(o?.month).toBe('2026-10-01')
    expect(o?.allTime.firstActivity).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    await onBoth((d) => getOverview(d, '2026-06'), ['buyers', 'orders'])
    expect(await findDefaultAsOf(e.ch)).toBe(await findDefaultAsOf(e.duck.driver))
  })

  it('the metric tree of the worked example and the driver ranking (by registration cohort)', async () => {
    const t = await onBoth((d) => evaluateTree(d, DEFAULT_TREE, {}), [])
    expect(t.nodes.length).toBeGreaterThan(0)
    const r = await onBoth(
      (d) =>
        analyzeDrivers(d, {
          core: 'period_retention',
          from: '2026-01-01',
          to: '2026-09-30',
          grain: 'month',
        }),
      ['groups'],
    )
    expect(r.drivers.length).toBeGreaterThan(2)
    const byCohort = await onBoth(
      (d) =>
        runMetrics(d, {
          metrics: ['buyers', 'net_revenue'],
          from: '2026-01',
          to: '2026-06',
          by: ['cohort'],
        }),
      [],
    )
    expect(byCohort.rows.some((row) => /^\d{4}-\d{2}$/.test(String(row.dims['cohort'])))).toBe(true)
  })

  it('survival, churn flows, stage history and stage transitions', async () => {
    const groups = await onBoth(
      (d) =>
        getSurvival(d, {
          asOf: AS_OF,
          origin: 'first-purchase',
          config,
          confidence: 0.95,
          dimension: 'registration_channel',
        }),
      ['members', 'churned', 'atRisk', 'events', 'censored', 'subjects', 'time', 'days'],
    )
    expect(groups.some((g) => g.churned > 0)).toBe(true)
    const flows = await onBoth(
      (d) => getChurnFlows(d, { from: '2026-01-01', to: '2026-08-31', grain: 'month', config }),
      ['notChurnedAtStart', 'churned', 'reactivated'],
    )
    expect(flows.some((f) => f.churned > 0)).toBe(true)
    expect(flows.some((f) => f.reactivated > 0)).toBe(true)
    await onBoth(
      (d) =>
        getStageSizesOverTime(d, { from: '2026-01-01', to: '2026-09-30', grain: 'month', config }),
      [
        'sizes',
        'registered_not_purchased',
        'new',
        'active',
        'loyal',
        'at_risk',
        'dormant',
        'churned',
      ],
    )
    await onBoth((d) => getStageTransitions(d, '2026-04-01', '2026-07-01', config), ['members'])
  })

  it('RFM movement, acquisition payback and a segment export', async () => {
    await onBoth((d) => getRfmMovement(d, '2026-04-01', AS_OF), ['members'])
    await onBoth(
      (d) => getCohortPayback(d, { grain: 'month', periods: 6, asOf: AS_OF }),
      ['members', 'paybackPeriod'],
    )
    const rows = await onBoth(
      (d) => getSegmentExportRows(d, { registrationChannel: ['app'] }, AS_OF),
      ['member_id'],
    )
    expect(rows.length).toBeGreaterThan(10)
  })

  it('the CLV validation report (fit on the calibration period, compared with the holdout)', async () => {
    // Gross spend: the simulator draws it from Gamma–Gamma, so the spend fit has its maximum inside (on net
    // amounts this small base's maximum lies on the boundary p → ∞, where no fit is defined).
    const options = {
      calibrationEnd: '2026-06-30',
      holdoutEnd: '2026-10-31',
      spend: 'gross' as const,
    }
    const a = await clvValidationReport(e.duck.driver, options)
    const b = await clvValidationReport(e.ch, options)
    // The data side is equal: members, actual holdout transactions and value, the tracking counts.
    const data = (r: typeof a) => ({
      members: r.members,
      actual: r.totals.actual,
      value: r.value.actual,
      start: r.tracking.start,
      tracking: r.tracking.actual,
      byFrequency: r.byFrequency.map((f) => ({ x: f.x, members: f.members, actual: f.actual })),
    })
    expectSame(data(a), data(b), new Set(['members']))
    // The fitted side comes from an optimiser that stops at its gradient tolerance: the inputs agree to
    // 1e-9 but are summed in another order, so the estimates agree to that tolerance, not to 1e-9.
    const fitted = (r: typeof a): [string, number][] => [
      ...Object.entries(r.purchase.params as object),
      ...Object.entries(r.spend.params as object).map(([k, v]): [string, number] => [
        `spend ${k}`,
        v,
      ]),
      ['predicted', r.totals.predicted],
      ['value predicted', r.value.predicted],
    ]
    const fb = new Map(fitted(b))
    for (const [k, x] of fitted(a)) {
      const y = fb.get(k) ?? Number.NaN
      expect(Math.abs(x - y), k).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(x), Math.abs(y)))
    }
    expect(a.byFrequency.length).toBeGreaterThan(2)
  })
})
