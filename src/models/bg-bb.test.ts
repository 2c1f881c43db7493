/**
 * BG/BB against its published check — the 1995 donor cohort of Fader, Hardie & Shang (2010): 11,104 donors,
 * six annual opportunities, α = 1.204, β = 0.750, γ = 0.657, δ = 2.783, LL = −33,225.6 — and its predictions
 * against a Monte Carlo simulation of the model (exact conditioning: histories are discrete).
 */
import { describe, expect, it } from 'vitest'
import { InputError } from '../core/errors.js'
import {
  bgBbConditionalExpectedTransactions,
  bgBbExpectedTransactionsPopulation,
  bgBbLogLikelihood,
  bgBbProbabilityAlive,
  fitBgBb,
  type BgBbParams,
} from './bg-bb.js'
import { beta, rng } from '../../test/helpers/random.js'

/**
 * The recency/frequency table of the donations data (Fader, Hardie & Shang 2010, the same table lifetimes
 * ships as its donations data set): x repeat donations, t_x the year of the last one, n = 6, donors.
 */
const DONATIONS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 3464],
  [1, 1, 1091],
  [1, 2, 277],
  [1, 3, 129],
  [1, 4, 78],
  [1, 5, 119],
  [1, 6, 129],
  [2, 2, 613],
  [2, 3, 255],
  [2, 4, 155],
  [2, 5, 173],
  [2, 6, 234],
  [3, 3, 322],
  [3, 4, 181],
  [3, 5, 225],
  [3, 6, 357],
  [4, 4, 240],
  [4, 5, 284],
  [4, 6, 512],
  [5, 5, 335],
  [5, 6, 728],
  [6, 6, 1203],
]
const x = DONATIONS.map((d) => d[0])
const tx = DONATIONS.map((d) => d[1])
const n = DONATIONS.map(() => 6)
const weights = DONATIONS.map((d) => d[2])

const PUBLISHED: BgBbParams = { alpha: 1.204, beta: 0.75, gamma: 0.657, delta: 2.783 }

/** |actual − published| ≤ half a unit in the last printed digit. */
function expectPrinted(actual: number, published: number, decimals: number): void {
  expect(Math.abs(actual - published)).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-12)
}

describe('BG/BB on the donations data (Fader, Hardie & Shang 2010)', () => {
  it('has 11,104 donors', () => {
    expect(weights.reduce((a, b) => a + b, 0)).toBe(11_104)
  })

  it('fits α = 1.204, β = 0.750, γ = 0.657, δ = 2.783 with LL = −33,225.6', () => {
    const fit = fitBgBb(x, tx, n, { weights })
    expectPrinted(fit.params.alpha, 1.204, 3)
    expectPrinted(fit.params.beta, 0.75, 3)
    expectPrinted(fit.params.gamma, 0.657, 3)
    expectPrinted(fit.params.delta, 2.783, 3)
    expectPrinted(fit.logLikelihood, -33225.6, 1)
    expect(fit.members).toBe(11_104)
  })

  it('the analytic gradient equals central differences of the log-likelihood', () => {
    const g = new Float64Array(4)
    bgBbLogLikelihood(PUBLISHED, x, tx, n, weights, g)
    const keys = ['alpha', 'beta', 'gamma', 'delta'] as const
    keys.forEach((k, j) => {
      const h = 1e-6 * PUBLISHED[k]
      const up = bgBbLogLikelihood({ ...PUBLISHED, [k]: PUBLISHED[k] + h }, x, tx, n, weights)
      const down = bgBbLogLikelihood({ ...PUBLISHED, [k]: PUBLISHED[k] - h }, x, tx, n, weights)
      expect(g[j]).toBeCloseTo((up - down) / (2 * h), 2)
    })
  })

  it('the model’s probabilities of the 22 patterns sum to 1 for a member with n = 6', () => {
    let total = 0
    for (let i = 0; i < x.length; i++)
      total += Math.exp(bgBbLogLikelihood(PUBLISHED, [x[i] as number], [tx[i] as number], [6]))
    // Each (x, t_x) pattern stands for C(t_x − 1, x − 1) orders of the earlier transactions.
    let weighted = 0
    for (let i = 0; i < x.length; i++) {
      const xi = x[i] as number
      const ti = tx[i] as number
      weighted += binomial(ti - 1, xi - 1) * Math.exp(bgBbLogLikelihood(PUBLISHED, [xi], [ti], [6]))
    }
    expect(total).toBeLessThan(1)
    expect(weighted).toBeCloseTo(1, 12)
  })

  it('rejects impossible summaries, naming the row', () => {
    expect(() => bgBbLogLikelihood(PUBLISHED, [2], [1], [6])).toThrow(InputError)
    expect(() => bgBbLogLikelihood(PUBLISHED, [1], [0], [6])).toThrow(/row 1/)
    expect(() => bgBbLogLikelihood(PUBLISHED, [1], [7], [6])).toThrow(InputError)
  })
})

function binomial(nn: number, k: number): number {
  if (k < 0 || k > nn) return nn === -1 && k === -1 ? 1 : 0
  let c = 1
  for (let i = 1; i <= k; i++) c = (c * (nn - k + i)) / i
  return c
}

describe('BG/BB predictions against a simulation of the model', () => {
  it('P(alive at n + 1) and expected transactions in the next 5 opportunities match, per (x, t_x) pattern', () => {
    const u = rng(3)
    const members = 200_000
    const m = 5
    // Per pattern: members, alive at opportunity 7, transactions in 7…11.
    const stats = new Map<string, { count: number; alive: number; future: number }>()
    for (let i = 0; i < members; i++) {
      const p = beta(u, PUBLISHED.alpha, PUBLISHED.beta)
      const theta = beta(u, PUBLISHED.gamma, PUBLISHED.delta)
      let alive = true
      let xi = 0
      let ti = 0
      let future = 0
      let aliveAt7 = false
      for (let t = 1; t <= 6 + m; t++) {
        if (alive && u() < theta) alive = false
        if (t === 7) aliveAt7 = alive
        if (alive && u() < p) {
          if (t <= 6) {
            xi++
            ti = t
          } else future++
        }
      }
      const key = `${xi},${ti}`
      const s = stats.get(key) ?? { count: 0, alive: 0, future: 0 }
      s.count++
      s.alive += aliveAt7 ? 1 : 0
      s.future += future
      stats.set(key, s)
    }
    let checked = 0
    for (const [key, s] of stats) {
      if (s.count < 2000) continue
      const [xi, ti] = key.split(',').map(Number) as [number, number]
      const pa = bgBbProbabilityAlive(PUBLISHED, xi, ti, 6)
      expect(Math.abs(s.alive / s.count - pa)).toBeLessThan(
        4 * Math.sqrt((pa * (1 - pa)) / s.count),
      )
      const e = bgBbConditionalExpectedTransactions(PUBLISHED, m, xi, ti, 6)
      // Future transactions are at most m per member: variance ≤ m²/4.
      expect(Math.abs(s.future / s.count - e)).toBeLessThan(4 * Math.sqrt((m * m) / 4 / s.count))
      checked++
    }
    expect(checked).toBeGreaterThan(10)
  })

  it('E[X(n)] of a new member is the sum of E[p] · E[(1 − θ)^k]', () => {
    expect(bgBbExpectedTransactionsPopulation(PUBLISHED, 0)).toBe(0)
    const one = bgBbExpectedTransactionsPopulation(PUBLISHED, 1)
    const a = PUBLISHED
    expect(one).toBeCloseTo((a.alpha / (a.alpha + a.beta)) * (a.delta / (a.gamma + a.delta)), 12)
    expect(bgBbConditionalExpectedTransactions(PUBLISHED, 0, 3, 5, 6)).toBe(0)
  })
})
