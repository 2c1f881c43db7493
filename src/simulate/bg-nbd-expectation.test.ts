import { describe, expect, it } from 'vitest'
import {
  bgNbdExpectedPurchases,
  bgNbdExpectedPurchasesGiven,
  hypergeometric2F1,
} from './bg-nbd-expectation.js'
import { Rng } from '../core/random.js'

/**
 * E[X(t)] by direct quadrature of E_p[(1 − (α/(α + pt))^r) / p] over Beta(a, b), a different route from
 * the hypergeometric closed form. For a < 1, p = u^(1/a) removes the p^(a−1) singularity at 0; Simpson's
 * rule on a fine grid.
 */
function expectedByQuadrature(r: number, alpha: number, a: number, b: number, t: number): number {
  const steps = 20_000
  const c = Math.min(a, 1)
  let num = 0
  let den = 0
  for (let k = 0; k <= steps; k++) {
    const u = k / steps
    const p = Math.pow(u, 1 / c)
    // p^(a−1) dp = (1/c) u^(a/c − 1) du; the constant cancels in num/den.
    const density = (c === a ? 1 : Math.pow(u, a / c - 1)) * Math.pow(1 - p, b - 1)
    const w = (k === 0 || k === steps ? 1 : k % 2 === 1 ? 4 : 2) * density
    const g = p < 1e-9 ? (r * t) / alpha : (1 - Math.pow(alpha / (alpha + p * t), r)) / p
    num += w * g
    den += w
  }
  return num / den
}

describe('hypergeometric2F1', () => {
  it('matches closed forms', () => {
    // 2F1(1, 1; 2; z) = −ln(1 − z) / z
    for (const z of [0.1, 0.5, 0.9, 0.99]) {
      expect(hypergeometric2F1(1, 1, 2, z)).toBeCloseTo(-Math.log(1 - z) / z, 10)
    }
    // 2F1(a, b; b; z) = (1 − z)^(−a)
    expect(hypergeometric2F1(0.6, 2.5, 2.5, 0.8)).toBeCloseTo(Math.pow(0.2, -0.6), 10)
  })
})

describe('bgNbdExpectedPurchases', () => {
  it.each([
    ['memberlens defaults', 0.6, 4, 0.8, 2.5],
    ['CDNOW fit (Fader, Hardie & Lee 2005)', 0.243, 4.414, 0.793, 2.426],
    ['a > 1', 1.2, 10, 2.5, 4],
  ])('agrees with quadrature over Beta (%s)', (_name, r, alpha, a, b) => {
    for (const t of [1, 10, 39, 52, 104, 300]) {
      const closed = bgNbdExpectedPurchases(r, alpha, a, b, t)
      const quad = expectedByQuadrature(r, alpha, a, b, t)
      expect(Math.abs(closed - quad) / quad).toBeLessThan(1e-4)
    }
  })

  it('starts at rate r/α and is 0 at t = 0', () => {
    expect(bgNbdExpectedPurchases(0.6, 4, 0.8, 2.5, 0)).toBe(0)
    const h = 1e-4
    expect(bgNbdExpectedPurchases(0.6, 4, 0.8, 2.5, h) / h).toBeCloseTo(0.6 / 4, 4)
  })

  it('matches a Monte Carlo simulation of the BG/NBD story', () => {
    const [r, alpha, a, b, t] = [0.6, 4, 0.8, 2.5, 52]
    const rng = new Rng(2005)
    const n = 200_000
    let sum = 0
    let sumSq = 0
    for (let i = 0; i < n; i++) {
      const lambda = rng.gamma(r) / alpha
      const p = rng.beta(a, b)
      let time = 0
      let x = 0
      for (;;) {
        time += rng.exp() / lambda
        if (time > t) break
        x++
        if (rng.uniform() < p) break
      }
      sum += x
      sumSq += x * x
    }
    const mean = sum / n
    const se = Math.sqrt((sumSq / n - mean * mean) / n)
    expect(Math.abs(mean - bgNbdExpectedPurchases(r, alpha, a, b, t))).toBeLessThan(4 * se)
  })

  it('gives the individual expectation (1 − e^(−λpt)) / p', () => {
    expect(bgNbdExpectedPurchasesGiven(0.5, 0.2, 10)).toBeCloseTo((1 - Math.exp(-1)) / 0.2, 12)
    expect(bgNbdExpectedPurchasesGiven(1e-9, 0.2, 10)).toBeCloseTo(1e-8, 15)
  })
})
