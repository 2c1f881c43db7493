/**
 * The CLV pipeline end to end: CDNOW transactions → SQL summaries → fits (published parameters) → scores
 * in `member_scores` → validation report; degenerate inputs give clear errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  clvDistribution,
  clvValidationReport,
  fitClv,
  listMemberScores,
  runClv,
  scoreMembers,
  type ClvFit,
} from '../../src/analytics/clv/clv.js'
import { discountedExpectedPurchases, quantiles } from '../../src/analytics/clv/models.js'
import { fixedClock } from '../../src/core/clock.js'
import { InputError } from '../../src/core/errors.js'
import { cdnowPreset } from '../../src/duckdb/ingest/presets/cdnow.js'
import { customerLifetimeValue } from '../../src/models/clv.js'
import { CDNOW_SAMPLE as SAMPLE } from '../helpers/data.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

/** |actual − published| ≤ half a unit in the last of `figures` significant figures. */
function expectSignificant(actual: number, published: number, figures: number): void {
  const unit = 10 ** (Math.floor(Math.log10(Math.abs(published))) - figures + 1)
  expect(Math.abs(actual - published)).toBeLessThanOrEqual(unit / 2)
}

type Scratch = Awaited<ReturnType<typeof scratch>>

describe('CLV on the CDNOW sample through the whole pipeline', () => {
  let s: Scratch
  let fit: ClvFit
  const options = { calibrationEnd: '1997-09-30' } as const

  beforeAll(async () => {
    s = await scratch()
    await cdnowPreset.load(s.db.driver, SAMPLE, { clock: TEST_CLOCK })
    fit = await fitClv(s.db.driver, options)
  })
  afterAll(async () => {
    await s.cleanup()
  })

  it('fits BG/NBD r = 0.243, α = 4.414, a = 0.793, b = 2.426 (LL −9582.4) and Gamma–Gamma p = 6.25, q = 3.74, γ = 15.44', () => {
    const p = fit.purchase
    expect(p.kind).toBe('bg-nbd')
    if (p.kind !== 'bg-nbd') return
    expectSignificant(p.params.r, 0.243, 3)
    expectSignificant(p.params.alpha, 4.414, 3)
    expectSignificant(p.params.a, 0.793, 3)
    expectSignificant(p.params.b, 2.426, 3)
    expect(Math.abs(p.logLikelihood - -9582.4)).toBeLessThanOrEqual(0.05)
    expect(p.members).toBe(2357)
    expectSignificant(fit.spend.params.p, 6.25, 3)
    expectSignificant(fit.spend.params.q, 3.74, 3)
    expectSignificant(fit.spend.params.gamma, 15.44, 3)
    expect(fit.spend.members).toBe(946)
    expect(fit.spend.excludedZeroValue).toBe(0)
    // lifetimes reports ρ = 0.113884 on the published summary; ours is from SQL (z̄ unrounded).
    expect(fit.frequencySpendCorrelation).toBeCloseTo(0.1139, 3)
    expect(fit.correlationWarning).toBe(false)
    // Standard errors are positive and small relative to the estimates (2,357 members).
    const se = p.standardErrors as Record<string, number>
    for (const k of ['r', 'alpha', 'a', 'b']) expect(se[k]).toBeGreaterThan(0)
    expect((se['r'] as number) / p.params.r).toBeLessThan(0.2)
  })

  it('fits Pareto/NBD r = 0.553, α = 10.578, s = 0.606, β = 11.669 (LL −9595.0) on request', async () => {
    const pareto = await fitClv(s.db.driver, { ...options, model: 'pareto-nbd' })
    expect(pareto.purchase.kind).toBe('pareto-nbd')
    if (pareto.purchase.kind !== 'pareto-nbd') return
    expectSignificant(pareto.purchase.params.r, 0.553, 3)
    expectSignificant(pareto.purchase.params.alpha, 10.578, 3)
    expectSignificant(pareto.purchase.params.s, 0.606, 3)
    expectSignificant(pareto.purchase.params.beta, 11.669, 3)
    expect(Math.abs(pareto.purchase.logLikelihood - -9595.0)).toBeLessThanOrEqual(0.05)
  })

  it('scores every member with the CLV of models/clv.ts and stores the run', async () => {
    const scores = scoreMembers(fit)
    if (fit.purchase.kind !== 'bg-nbd') throw new Error('expected BG/NBD')
    // Same definition through the colleague's tested function: 12 months of 52/12 weeks, monthly rate.
    const reference = customerLifetimeValue(fit.purchase.params, fit.spend.params, fit.summaries, {
      periods: 12,
      periodLength: 365.25 / 12 / 7,
      discountRate: 1.1 ** (1 / 12) - 1,
    })
    for (let i = 0; i < reference.length; i += 97) {
      expect(scores.clv[i]).toBeCloseTo(reference[i] as number, 9)
    }
    // Undiscounted, the discounted sum telescopes to E[Y(12 months)].
    const plain = discountedExpectedPurchases(
      fit.purchase,
      fit.summaries.x,
      fit.summaries.tx,
      fit.summaries.T,
      12,
      365.25 / 12 / 7,
      0,
    )
    expect(plain[5]).toBeCloseTo(scores.expectedPurchases[5] as number, 12)

    const report = await runClv(s.db.driver, options, fixedClock('2026-11-02T10:00:00Z'))
    expect(report.runId).toBe('clv-20261102T100000Z')
    const again = await runClv(s.db.driver, options, fixedClock('2026-11-02T10:00:00Z'))
    expect(again.runId).toBe('clv-20261102T100000Z-2')
    const stored = await s.db.driver.first<{ n: bigint; total: number }>({
      sql: `SELECT count(*) AS n, sum(clv) AS total FROM member_scores WHERE run_id = 'clv-20261102T100000Z'`,
      parameters: [],
    })
    expect(Number(stored?.n)).toBe(2357)
    expect(stored?.total).toBeCloseTo(report.distribution.total, 6)
    const top = await listMemberScores(s.db.driver, { limit: 3 })
    expect(top.runId).toBe('clv-20261102T100000Z-2')
    expect(top.scores).toHaveLength(3)
    expect(top.scores[0]?.clv).toBeGreaterThanOrEqual(top.scores[1]?.clv as number)
    expect(top.scores[0]?.clv).toBeCloseTo(Math.max(...scores.clv), 6)
  })

  it('summarises the CLV distribution and the P(alive)-weighted value at risk', () => {
    const d = clvDistribution({
      memberId: Float64Array.of(1, 2, 3, 4),
      x: new Float64Array(4),
      tx: new Float64Array(4),
      T: new Float64Array(4),
      zbar: new Float64Array(4),
      pAlive: Float64Array.of(1, 0.5, 0.25, 0),
      expectedPurchases: Float64Array.of(1, 1, 1, 0),
      expectedSpend: Float64Array.of(10, 10, 10, 10),
      clv: Float64Array.of(100, 50, 10, 0),
    })
    // Hand-checked: value if active 100, 100, 40, 0; at risk 0·100 + 0.5·100 + 0.75·40 = 80.
    expect(d.total).toBe(160)
    expect(d.valueAtRisk).toBeCloseTo(80, 12)
    expect(d.likelyInactive).toEqual({ members: 2, valueIfActive: 40 })
    expect(d.quantiles.p50).toBe(30) // type 7: halfway between 10 and 50
    expect(d.top10Share).toBeCloseTo(100 / 160, 12)
    expect(quantiles(Float64Array.of(3, 1, 2), [0, 0.5, 1])).toEqual([1, 2, 3])
  })

  it('validates on the 39-week holdout: predicted vs actual by frequency, tracking, MAE/RMSE', async () => {
    const r = await clvValidationReport(s.db.driver, { ...options, holdoutEnd: '1998-06-30' })
    expect(r.members).toBe(2357)
    expect(r.holdoutLength).toBeCloseTo(39, 12)
    // 1,882 holdout purchase days (see summaries.test.ts). BG/NBD under-forecasts this holdout
    // (we get 1,653, −12 %; the members with x = 1, 2 buy more than expected); the bound keeps a
    // broken forecast from passing.
    expect(r.totals.actual).toBe(1882)
    expect(r.modelComparison).toBeNull()
    expect(r.totals.predicted).toBeGreaterThan(0.85 * 1882)
    expect(r.totals.predicted).toBeLessThan(1882)
    // The per-member mean error equals (predicted − actual) / members.
    expect(r.errors.bias).toBeCloseTo((r.totals.predicted - 1882) / 2357, 12)
    expect(r.byFrequency.map((b) => b.x)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+'])
    expect(r.byFrequency.reduce((a, b) => a + b.members, 0)).toBe(2357)
    // Fader, Hardie & Lee 2005 (Figure 4): members with x = 0 average about 0.23 predicted holdout
    // purchases; the conditional expectation rises with x.
    const zero = r.byFrequency[0] as { predicted: number; actual: number }
    expect(zero.predicted).toBeGreaterThan(0.2)
    expect(zero.predicted).toBeLessThan(0.26)
    for (let k = 1; k < 7; k++) {
      expect(r.byFrequency[k]?.predicted).toBeGreaterThan(r.byFrequency[k - 1]?.predicted as number)
    }
    expect(r.errors.rmse).toBeGreaterThanOrEqual(r.errors.mae)
    expect(r.errors.mae).toBeGreaterThan(0)
    // Tracking: 78 weeks from 1997-01-01 to 1998-06-30 (546 days → periods 0…77).
    expect(r.tracking.start).toBe('1997-01-01')
    expect(r.tracking.actual).toHaveLength(78)
    expect(r.tracking.calibrationPeriods).toBeCloseTo(272 / 7, 12)
    const last = r.tracking.actual.at(-1) as number
    // Cumulative repeat purchase days of the sample up to the holdout end, from the raw log: 6,696
    // distinct (customer, day) pairs (`awk '{print $1,$3}' CDNOW_sample.txt | sort -u | wc -l`) minus
    // the 2,357 first days.
    expect(last).toBe(TOTAL_REPEAT_DAYS)
    expect(Math.abs((r.tracking.predicted.at(-1) as number) / last - 1)).toBeLessThan(0.05)
  })

  it('compares BG/NBD, Pareto/NBD and MBG/NBD on the same calibration summaries: LL as published, AIC, BIC, holdout', async () => {
    const r = await clvValidationReport(s.db.driver, {
      ...options,
      holdoutEnd: '1998-06-30',
      compareModels: true,
    })
    const [bg, pareto, mbg] = r.modelComparison?.models ?? []
    expect(mbg?.kind).toBe('mbg-nbd')
    expect(bg?.kind).toBe('bg-nbd')
    expect(pareto?.kind).toBe('pareto-nbd')
    // Published log-likelihoods: BG/NBD −9582.4, Pareto/NBD −9595.0 (to one decimal).
    expect(Math.abs((bg?.logLikelihood as number) - -9582.4)).toBeLessThanOrEqual(0.05)
    expect(Math.abs((pareto?.logLikelihood as number) - -9595.0)).toBeLessThanOrEqual(0.05)
    for (const m of [bg, pareto, mbg]) {
      expect(m?.aic).toBeCloseTo(8 - 2 * (m?.logLikelihood as number), 9)
      expect(m?.bic).toBeCloseTo(4 * Math.log(2357) - 2 * (m?.logLikelihood as number), 9)
    }
    // The lowest AIC is preferred; on CDNOW that is MBG/NBD (its x = 0 members may be inactive).
    const lowest = [bg, pareto, mbg].reduce((best, m) =>
      (m?.aic as number) < (best?.aic as number) ? m : best,
    )
    expect(r.modelComparison?.preferred).toBe(lowest?.kind)
    expect(r.modelComparison?.preferred).toBe('mbg-nbd')
    expect(mbg?.logLikelihood).toBeGreaterThan(bg?.logLikelihood as number)
    process.stdout.write(
      `MBG/NBD on CDNOW: LL ${mbg?.logLikelihood}, holdout ${mbg?.holdout?.predicted}\n`,
    )
    // The chosen model's row carries the report's own holdout figures.
    expect(bg?.holdout?.predicted).toBeCloseTo(r.totals.predicted, 9)
    expect(bg?.holdout?.mae).toBeCloseTo(r.errors.mae, 12)
    expect(pareto?.holdout?.predicted).toBeGreaterThan(0.85 * 1882)
    expect(pareto?.holdout?.predicted).not.toBeCloseTo(r.totals.predicted, 3)
  })
})

const TOTAL_REPEAT_DAYS = 6696 - 2357

describe('degenerate inputs', () => {
  let s: Scratch
  beforeAll(async () => {
    s = await scratch()
  })
  afterAll(async () => {
    await s.cleanup()
  })

  it('an empty database gives a clear error', async () => {
    await expect(fitClv(s.db.driver)).rejects.toThrow(/no purchases in the database/)
    await expect(fitClv(s.db.driver, { calibrationEnd: '2026-01-01' })).rejects.toThrow(
      /no purchases on or before 2026-01-01/,
    )
  })

  it('bad options are refused before any query', async () => {
    await expect(fitClv(s.db.driver, { calibrationEnd: '2026-02-30' })).rejects.toThrow(InputError)
    await expect(
      fitClv(s.db.driver, { calibrationEnd: '2026-01-01', holdoutEnd: '2025-12-31' }),
    ).rejects.toThrow(/must be after the calibration end/)
    await expect(
      fitClv(s.db.driver, { calibrationEnd: '2026-01-01', horizonMonths: 0 }),
    ).rejects.toThrow(/horizon/)
  })

  it('one member, or no repeat buyers, is refused with the reason', async () => {
    const members = await s.file(
      'members.csv',
      'customer_id,registered_at\nc1,2026-01-01T00:00:00Z\nc2,2026-01-01T00:00:00Z\n',
    )
    await s.ingest('members', members)
    const orders = await s.file(
      'orders.csv',
      'order_id,customer_id,ordered_at,channel,net_amount\n' +
        'o1,c1,2026-01-02T10:00:00Z,app,10\no2,c1,2026-01-02T11:00:00Z,app,5\no3,c2,2026-01-05T10:00:00Z,app,7\n',
    )
    await s.ingest('orders', orders)
    // Two orders on one day are one transaction: nobody has a repeat purchase.
    await expect(fitClv(s.db.driver, { calibrationEnd: '2026-03-01' })).rejects.toThrow(
      /only 0 member\(s\) with repeat purchases up to 2026-03-01/,
    )
  })
})
