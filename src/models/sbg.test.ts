import { describe, expect, it } from 'vitest'
import { InputError, ModelFitError } from '../core/errors.js'
import {
  fitSbg,
  sbgChurnProbability,
  sbgExpectedResidualLifetime,
  sbgLogLikelihood,
  sbgRetentionCurve,
  sbgRetentionRate,
  sbgSurvival,
  sbgSurvivalCurve,
} from './sbg.js'
import type { SbgParams } from './sbg.js'

/** Fader & Hardie 2007, "How to Project Customer Retention": survivors of 1000 over 7 renewal years. */
const REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
const HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]

/**
 * |actual − published| ≤ half a unit in the last of `figures` significant figures of the published
 * number, i.e. both round to the same `figures` significant figures up to the published rounding.
 */
function expectSignificant(actual: number, published: number, figures: number): void {
  const unit = 10 ** (Math.floor(Math.log10(Math.abs(published))) - figures + 1)
  expect(Math.abs(actual - published)).toBeLessThanOrEqual(unit / 2)
}

/**
 * S(t) = E[(1 − θ)^t], θ ~ Beta(α, β), integrated numerically (θ = u^(1/α) removes the θ^(α−1)
 * singularity; the normaliser uses the same rule), independent of the Beta-function closed form.
 */
function survivalReference(p: SbgParams, t: number): number {
  const n = 200_000
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    const theta = ((i + 0.5) / n) ** (1 / p.alpha)
    const kernel = (1 - theta) ** (p.beta - 1)
    num += kernel * (1 - theta) ** t
    den += kernel
  }
  return num / den
}

describe('sBG fit (Fader & Hardie 2007)', () => {
  it('reproduces the published estimates: regular α ≈ 0.704, β ≈ 1.182; high end α ≈ 0.668, β ≈ 3.806', () => {
    // Tolerance: agreement to the 3 decimals the paper prints.
    const regular = fitSbg(REGULAR)
    expectSignificant(regular.params.alpha, 0.704, 3)
    expectSignificant(regular.params.beta, 1.182, 4)
    const high = fitSbg(HIGH_END)
    expectSignificant(high.params.alpha, 0.668, 3)
    expectSignificant(high.params.beta, 3.806, 4)
    expect(high.converged).toBe(true)
    expect(high.periods).toBe(7)
  })

  it('is scale-free: percentages give the same estimates', () => {
    const counts = fitSbg(REGULAR).params
    const shares = fitSbg(REGULAR.map((v) => v / 10)).params
    expect(shares.alpha).toBeCloseTo(counts.alpha, 6)
    expect(shares.beta).toBeCloseTo(counts.beta, 6)
  })

  it('log-likelihood matches Σ lost·log P(T=t) + left·log S(N) from the integrated survival', () => {
    const p = { alpha: 0.704, beta: 1.182 }
    let ref = 0
    for (let t = 1; t < REGULAR.length; t++) {
      const churn = survivalReference(p, t - 1) - survivalReference(p, t)
      ref += ((REGULAR[t - 1] as number) - (REGULAR[t] as number)) * Math.log(churn)
    }
    ref += (REGULAR[7] as number) * Math.log(survivalReference(p, 7))
    expect(Math.abs(sbgLogLikelihood(p, REGULAR) - ref)).toBeLessThan(1e-4)
  })

  it('analytic gradient matches central differences', () => {
    for (const p of [
      { alpha: 0.704, beta: 1.182 },
      { alpha: 3, beta: 0.2 },
      { alpha: 0.05, beta: 20 },
    ]) {
      const g = new Float64Array(2)
      sbgLogLikelihood(p, HIGH_END, g)
      const h = 1e-6
      const da =
        (sbgLogLikelihood({ ...p, alpha: p.alpha * (1 + h) }, HIGH_END) -
          sbgLogLikelihood({ ...p, alpha: p.alpha * (1 - h) }, HIGH_END)) /
        (2 * h * p.alpha)
      const db =
        (sbgLogLikelihood({ ...p, beta: p.beta * (1 + h) }, HIGH_END) -
          sbgLogLikelihood({ ...p, beta: p.beta * (1 - h) }, HIGH_END)) /
        (2 * h * p.beta)
      expect(Math.abs((g[0] as number) - da)).toBeLessThan(1e-5 * Math.max(1, Math.abs(da)))
      expect(Math.abs((g[1] as number) - db)).toBeLessThan(1e-5 * Math.max(1, Math.abs(db)))
    }
  })
})

describe('sBG projections', () => {
  const p: SbgParams = { alpha: 0.704, beta: 1.182 }

  it('survival matches E[(1 − θ)^t] integrated over the beta mixing distribution', () => {
    const curve = sbgSurvivalCurve(p, 12)
    for (const t of [0, 1, 7, 12]) {
      expect(curve[t]).toBeCloseTo(survivalReference(p, t), 6)
      expect(sbgSurvival(p, t)).toBeCloseTo(survivalReference(p, t), 6)
    }
  })

  it('retention r_t = (β+t−1)/(α+β+t−1) rises with tenure; P(T=t) = S(t−1) − S(t)', () => {
    const r = sbgRetentionCurve(p, 5)
    expect(r[0]).toBeCloseTo(1.182 / 1.886, 14)
    expect(sbgRetentionRate(p, 5)).toBeCloseTo(5.182 / 5.886, 14)
    for (let i = 1; i < 5; i++) expect(r[i] as number).toBeGreaterThan(r[i - 1] as number)
    for (const t of [1, 2, 9]) {
      expect(sbgChurnProbability(p, t)).toBeCloseTo(sbgSurvival(p, t - 1) - sbgSurvival(p, t), 14)
    }
  })

  it('expected residual lifetime: (β+n)/(α−1) undiscounted for α > 1, Infinity for α ≤ 1', () => {
    expect(sbgExpectedResidualLifetime({ alpha: 3, beta: 2 }, 4)).toBeCloseTo(3, 14)
    expect(sbgExpectedResidualLifetime(p, 0)).toBe(Infinity)
  })

  it('discounted residual lifetime equals Σ S(n+k)/S(n)/(1+d)^k summed by brute force', () => {
    // d = 0.1 and 0.02 use the direct sum, d = 0.001 the ₂F₁ closed form.
    for (const [params, n, d] of [
      [p, 0, 0.1],
      [p, 5, 0.1],
      [{ alpha: 3, beta: 2 }, 2, 0.02],
      [p, 3, 0.001],
      [{ alpha: 1.5, beta: 0.8 }, 0, 0.001],
    ] as const) {
      let brute = 0
      const sn = sbgSurvival(params, n)
      for (let k = 1; k <= 60_000; k++) brute += sbgSurvival(params, n + k) / sn / (1 + d) ** k
      const value = sbgExpectedResidualLifetime(params, n, d)
      expect(Math.abs(value - brute)).toBeLessThan(1e-9 * value)
    }
  })
})

describe('sBG degenerate input', () => {
  it('fewer than two counts, increasing counts or an empty cohort is an InputError', () => {
    expect(() => fitSbg([1000])).toThrow(InputError)
    expect(() => fitSbg([])).toThrow(InputError)
    expect(() => fitSbg([100, 120, 90])).toThrow(/non-increasing/)
    expect(() => fitSbg([0, 0])).toThrow(InputError)
  })

  it('nobody churns (or everybody churns at once): no interior maximum, ModelFitError', () => {
    expect(() => fitSbg([100, 100, 100, 100])).toThrow(ModelFitError)
    expect(() => fitSbg([100, 0, 0])).toThrow(ModelFitError)
  })

  it('rejects bad arguments', () => {
    expect(() => sbgSurvival(p0(), -1)).toThrow(InputError)
    expect(() => sbgRetentionRate(p0(), 0)).toThrow(InputError)
    expect(() => sbgExpectedResidualLifetime(p0(), 1, -0.5)).toThrow(InputError)
  })
})

function p0(): SbgParams {
  return { alpha: 1, beta: 1 }
}
