/**
 * Prediction intervals on a simulated member base with a calibration/holdout split: members drawn from
 * BG/NBD with known parameters, the model fitted on the calibration period, and the intervals of the
 * realised holdout purchases checked against the purchases the simulation made in the holdout — for
 * portfolios (disjoint groups of members, each a small "portfolio total") at their nominal rate ±3 points,
 * and for single members at least at their nominal rate (a count of 0, 1, 2… covers more than asked).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  predictionIntervals,
  purchaseParameterCovariance,
  spendParameterCovariance,
} from '../../src/analytics/clv/intervals.js'
import { fitBgNbd, groupSummaries } from '../../src/models/bg-nbd.js'
import { fitBgCnbdK } from '../../src/models/bg-cnbd-k.js'
import { fitGammaGamma } from '../../src/models/gamma-gamma.js'
import { Rng } from '../../src/core/random.js'
import { CDNOW_SUMMARY_WITH_TRANSACTIONS } from '../helpers/data.js'

const HOLDOUT = 26

/** BG/NBD (k = 1) or BG/CNBD-k members: calibration summaries to T (whole weeks, days as 1/7) and holdout purchases. */
function simulateBase(n: number, seed: number, k = 1) {
  const truth = { r: 0.8, alpha: 6, a: 0.7, b: 3 }
  const rng = new Rng(seed, 0, 11)
  const x = new Float64Array(n)
  const tx = new Float64Array(n)
  const T = new Float64Array(n)
  const litt = new Float64Array(n)
  const holdout = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const Ti = 26 + rng.int(27)
    T[i] = Ti
    const lambda = (k * rng.gamma(truth.r)) / truth.alpha
    const p = rng.beta(truth.a, truth.b)
    let t = 0
    for (;;) {
      let gap = 0
      for (let j = 0; j < k; j++) gap += rng.exp() / lambda
      // Purchases fall on days: at least a day apart.
      gap = Math.max(1, Math.round(gap * 7)) / 7
      t += gap
      if (t > Ti + HOLDOUT) break
      if (t <= Ti) {
        x[i] = (x[i] as number) + 1
        tx[i] = t
        litt[i] = (litt[i] as number) + Math.log(gap)
      } else holdout[i] = (holdout[i] as number) + 1
      if (rng.chance(p)) break
    }
  }
  return { x, tx, T, litt, holdout }
}

describe('prediction intervals of realised holdout purchases (simulated BG/NBD base)', () => {
  const n = 30_000
  const base = simulateBase(n, 2026)
  const fit = fitBgNbd(base.x, base.tx, base.T)
  const model = { kind: 'bg-nbd' as const, params: fit.params }
  const g = groupSummaries(base.x, base.tx, base.T)
  const cov = purchaseParameterCovariance(model, g)
  // 600 portfolios of 50 members: each total is close to continuous, and 600 of them measure coverage
  // to about ±1.2 points (one standard error at 90%).
  const groups = 600
  const labels = Int32Array.from({ length: n }, (_, i) => i % groups)
  const actual = new Float64Array(groups)
  for (let i = 0; i < n; i++)
    actual[i % groups] = (actual[i % groups] as number) + (base.holdout[i] as number)

  for (const level of [0.8, 0.9]) {
    it(`cover portfolio totals at their nominal rate ${level * 100}% ± 3 points`, () => {
      const r = predictionIntervals(model, cov, g, base.x, base.tx, base.T, {
        t: HOLDOUT,
        level,
        draws: 150,
        seed: 7,
        portfolios: labels,
      })
      let covered = 0
      let coveredByExpectation = 0
      r.portfolios.forEach((p, label) => {
        const a = actual[label] as number
        if (a >= p.realisedPurchases.lower && a <= p.realisedPurchases.upper) covered++
        if (a >= p.expectedPurchases.lower && a <= p.expectedPurchases.upper) coveredByExpectation++
      })
      const rate = covered / groups
      process.stdout.write(
        `level ${level}: realised-purchase intervals cover ${rate}, intervals of the expectation ${coveredByExpectation / groups}\n`,
      )
      expect(Math.abs(rate - level)).toBeLessThanOrEqual(0.03)
      // The interval of the expectation holds parameter uncertainty only: far too narrow for realised counts.
      expect(coveredByExpectation / groups).toBeLessThan(level - 0.2)
    })
  }

  it('cover the whole portfolio’s realised total, with the expectation’s interval inside it', () => {
    const r = predictionIntervals(model, cov, g, base.x, base.tx, base.T, {
      t: HOLDOUT,
      draws: 100,
      seed: 3,
    })
    const p = r.portfolios[0]!
    const total = base.holdout.reduce((s, v) => s + v, 0)
    expect(p.members).toBe(n)
    expect(total).toBeGreaterThanOrEqual(p.realisedPurchases.lower)
    expect(total).toBeLessThanOrEqual(p.realisedPurchases.upper)
    expect(p.expectedPurchases.lower).toBeLessThan(p.expectedPurchases.estimate)
    expect(p.expectedPurchases.upper).toBeGreaterThan(p.expectedPurchases.estimate)
    expect(p.realisedPurchases.lower).toBeLessThanOrEqual(p.expectedPurchases.lower)
    expect(p.realisedPurchases.upper).toBeGreaterThanOrEqual(p.expectedPurchases.upper)
  })

  it('cover single members’ realised purchases at least at the nominal rate', () => {
    const members = Array.from({ length: 400 }, (_, j) => j * 73)
    const r = predictionIntervals(model, cov, g, base.x, base.tx, base.T, {
      t: HOLDOUT,
      level: 0.8,
      draws: 100,
      seed: 5,
      members,
    })
    let covered = 0
    for (const m of r.members) {
      const a = base.holdout[m.index] as number
      if (a >= m.realisedPurchases.lower && a <= m.realisedPurchases.upper) covered++
      expect(Number.isInteger(m.realisedPurchases.lower)).toBe(true)
      expect(m.expectedPurchases.lower).toBeLessThanOrEqual(m.expectedPurchases.estimate)
      expect(m.expectedPurchases.upper).toBeGreaterThanOrEqual(m.expectedPurchases.estimate)
    }
    expect(covered / members.length).toBeGreaterThanOrEqual(0.8 - 0.03)
  })
})

describe('prediction intervals of a BG/CNBD-k fit and of CLV', () => {
  it('draw a BG/CNBD-k base’s realised purchases: the whole portfolio’s holdout total is covered', () => {
    const n = 5000
    const base = simulateBase(n, 77, 3)
    const fit = fitBgCnbdK(base.x, base.tx, base.T, {
      litt: base.litt.reduce((s, v) => s + v, 0),
    })
    expect(fit.params.k).toBe(3)
    const model = { kind: 'bg-cnbd-k' as const, params: fit.params }
    const g = groupSummaries(base.x, base.tx, base.T)
    const r = predictionIntervals(
      model,
      purchaseParameterCovariance(model, g),
      g,
      base.x,
      base.tx,
      base.T,
      { t: HOLDOUT, level: 0.9, draws: 40, seed: 9 },
    )
    const p = r.portfolios[0]!
    const total = base.holdout.reduce((s, v) => s + v, 0)
    expect(total).toBeGreaterThanOrEqual(p.realisedPurchases.lower)
    expect(total).toBeLessThanOrEqual(p.realisedPurchases.upper)
    // Process noise of 5000 members: the realised interval is wider than the expectation's.
    expect(p.realisedPurchases.upper - p.realisedPurchases.lower).toBeGreaterThan(
      p.expectedPurchases.upper - p.expectedPurchases.lower,
    )
  })

  it('puts the CLV point estimate inside its interval, member by member and in total', () => {
    const base = simulateBase(3000, 5)
    const rng = new Rng(5, 0, 12)
    const zbar = base.x.map((x) => (x > 0 ? (20 * rng.gamma(6)) / 6 : 0))
    const fit = fitBgNbd(base.x, base.tx, base.T)
    const spend = fitGammaGamma(base.x, zbar).params
    const model = { kind: 'bg-nbd' as const, params: fit.params }
    const g = groupSummaries(base.x, base.tx, base.T)
    const r = predictionIntervals(
      model,
      purchaseParameterCovariance(model, g),
      g,
      base.x,
      base.tx,
      base.T,
      {
        t: 52,
        draws: 50,
        members: [0, 1, 2, 3],
        clv: {
          spend,
          zbar,
          margin: 1,
          periods: 12,
          periodLength: 365.25 / 12 / 7,
          monthlyRate: 0.008,
        },
      },
      spendParameterCovariance(spend, base.x, zbar),
    )
    const total = r.portfolios[0]!.clv!
    expect(total.lower).toBeLessThan(total.estimate)
    expect(total.upper).toBeGreaterThan(total.estimate)
    for (const m of r.members) {
      expect(m.clv!.lower).toBeLessThanOrEqual(m.clv!.estimate)
      expect(m.clv!.upper).toBeGreaterThanOrEqual(m.clv!.estimate)
    }
  })
})

describe('the realised-purchase draws of every model agree with its expectation', () => {
  // CDNOW's published summaries (data/cdnow), forecast 39 weeks on: the median of the portfolio's realised
  // total must sit on the model's expected total (the total is nearly symmetric), for each model's sampler.
  const lines = readFileSync(CDNOW_SUMMARY_WITH_TRANSACTIONS, 'utf8').trim().split(/\r?\n/).slice(1)
  const column = (k: number) => Float64Array.from(lines, (l) => Number(l.split(',')[k]))
  const x = column(1)
  const tx = column(2)
  const T = column(3)
  const g = groupSummaries(x, tx, T)
  const models = [
    { kind: 'bg-nbd', params: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 } },
    { kind: 'mbg-nbd', params: { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 } },
    { kind: 'pareto-nbd', params: { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 } },
    { kind: 'bg-cnbd-k', params: { k: 2, r: 0.3, alpha: 3, a: 0.8, b: 2.4 } },
  ] as const
  for (const model of models) {
    it(`${model.kind}`, () => {
      const r = predictionIntervals(model, purchaseParameterCovariance(model, g), g, x, tx, T, {
        t: 39,
        level: 0.02,
        draws: 400,
        seed: 2,
      })
      const p = r.portfolios[0]!
      const median = (p.realisedPurchases.lower + p.realisedPurchases.upper) / 2
      expect(
        Math.abs(median - p.expectedPurchases.estimate),
        `${median} vs ${p.expectedPurchases.estimate}`,
      ).toBeLessThan(0.015 * p.expectedPurchases.estimate)
    })
  }
})
