import { describe, expect, it } from 'vitest'
import { InputError, ModelFitError } from '../core/errors.js'
import {
  fitParetoNbd,
  paretoNbdConditionalExpectedPurchases,
  paretoNbdConditionalExpectedPurchasesMany,
  paretoNbdExpectedPurchasesPopulation,
  paretoNbdLogLikelihood,
  paretoNbdProbabilityAlive,
  paretoNbdProbabilityAliveMany,
} from './pareto-nbd.js'
import type { ParetoNbdParams } from './pareto-nbd.js'

/** The published CDNOW estimates, as quoted in data/README.md. */
const PUBLISHED: ParetoNbdParams = { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 }

/** Composite Simpson on [lo, hi]. */
function simpson(f: (y: number) => number, lo: number, hi: number, intervals = 20_000): number {
  const h = (hi - lo) / intervals
  let sum = 0
  for (let i = 0; i <= intervals; i++) {
    const w = i === 0 || i === intervals ? 1 : i % 2 === 1 ? 4 : 2
    sum += w * f(lo + i * h)
  }
  return (sum * h) / 3
}

/**
 * The likelihood from the model's definition (Fader & Hardie 2005 note, §3, before the ₂F₁ step):
 * E[λ^x e^(−λT)] E[e^(−μT)] + ∫_{t_x}^{T} E[λ^x e^(−λy)] E[μ e^(−μy)] dy, with the gamma expectations in
 * closed form (Γ(r+x)/Γ(r) as a product) and the integral by Simpson. Returns [alive part, total].
 */
function likelihoodReference(
  p: ParetoNbdParams,
  x: number,
  tx: number,
  T: number,
): [number, number] {
  let gammaRatio = 1
  for (let j = 0; j < x; j++) gammaRatio *= p.r + j
  const purchases = (y: number): number => gammaRatio * p.alpha ** p.r * (p.alpha + y) ** -(p.r + x)
  const dropout = (y: number): number => p.s * p.beta ** p.s * (p.beta + y) ** -(p.s + 1)
  const alive = purchases(T) * (p.beta / (p.beta + T)) ** p.s
  const dead = T > tx ? simpson((y) => purchases(y) * dropout(y), tx, T) : 0
  return [alive, alive + dead]
}

const f64 = (v: number[]): Float64Array => Float64Array.from(v)

describe('Pareto/NBD likelihood (note §3)', () => {
  const cases: [ParetoNbdParams, number, number, number][] = [
    [PUBLISHED, 0, 0, 38.86], // α < β
    [PUBLISHED, 2, 30.43, 38.86],
    [PUBLISHED, 7, 12, 30],
    [PUBLISHED, 3, 20, 20], // t_x = T
    [{ r: 0.8, alpha: 15, s: 1.4, beta: 3 }, 0, 0, 20], // α > β
    [{ r: 0.8, alpha: 15, s: 1.4, beta: 3 }, 12, 18, 40],
    [{ r: 2, alpha: 5, s: 0.5, beta: 5 }, 4, 10, 30], // α = β
    // ₂F₁ argument near 1 (> 0.99): α ≫ β and β ≫ α with t_x = 0, the quadrature branch
    [{ r: 0.5, alpha: 2000, s: 0.7, beta: 1 }, 0, 0, 50],
    [{ r: 0.5, alpha: 1, s: 0.7, beta: 3000 }, 1, 0.5, 50],
  ]

  it('matches the definition integrated numerically, in both ₂F₁ branches and near z = 1', () => {
    for (const [p, x, tx, T] of cases) {
      const ll = paretoNbdLogLikelihood(p, f64([x]), f64([tx]), f64([T]))
      const [, total] = likelihoodReference(p, x, tx, T)
      expect(Math.abs(ll - Math.log(total))).toBeLessThan(1e-8)
    }
  })

  it('P(alive) (note §5) is the alive share of the likelihood', () => {
    for (const [p, x, tx, T] of cases) {
      const [alive, total] = likelihoodReference(p, x, tx, T)
      expect(paretoNbdProbabilityAlive(p, x, tx, T)).toBeCloseTo(alive / total, 8)
    }
    expect(paretoNbdProbabilityAlive(PUBLISHED, 3, 20, 20)).toBe(1)
  })

  it('analytic gradient matches central differences at random points, in both branches and near z = 1', () => {
    let seed = 99
    const rand = (): number => {
      seed = (seed * 16807) % 2147483647
      return seed / 2147483647
    }
    const x = f64([0, 0, 1, 2, 7, 3, 40, 5000])
    const tx = f64([0, 0, 0.5, 30.43, 20, 12, 36, 99])
    const T = f64([38.86, 5, 50, 38.86, 30, 12, 38, 100])
    const w = f64([10, 3, 2, 1, 4, 2, 1, 1])
    const logUniform = (lo: number, hi: number): number => lo * (hi / lo) ** rand()
    const points: number[][] = [
      [0.5, 2000, 0.7, 1], // α ≫ β: ₂F₁ argument up to 0.9995, quadrature branch
      [0.5, 1, 0.7, 3000], // β ≫ α
    ]
    for (let k = 0; k < 20; k++) {
      points.push([
        logUniform(0.05, 5),
        logUniform(0.5, 50),
        logUniform(0.05, 5),
        logUniform(0.5, 50),
      ])
    }
    for (const q of points) {
      const at = (v: number[]): ParetoNbdParams => ({
        r: v[0] as number,
        alpha: v[1] as number,
        s: v[2] as number,
        beta: v[3] as number,
      })
      const g = new Float64Array(4)
      const ll = paretoNbdLogLikelihood(at(q), x, tx, T, w, g)
      for (let j = 0; j < 4; j++) {
        const h = 1e-5 * (q[j] as number)
        const up = [...q]
        const down = [...q]
        up[j] = (q[j] as number) + h
        down[j] = (q[j] as number) - h
        const numeric =
          (paretoNbdLogLikelihood(at(up), x, tx, T, w) -
            paretoNbdLogLikelihood(at(down), x, tx, T, w)) /
          (2 * h)
        // Allowance: central-difference truncation (~1e-7 relative) plus rounding, |LL|·ε/h.
        const tolerance = 1e-6 * Math.max(1, Math.abs(numeric)) + (1e-15 * Math.abs(ll)) / h
        expect(Math.abs((g[j] as number) - numeric)).toBeLessThan(tolerance)
      }
    }
  })

  it('is finite for huge x (5000 purchases in T = 100)', () => {
    const ll = paretoNbdLogLikelihood(PUBLISHED, f64([5000]), f64([99]), f64([100]))
    expect(Number.isFinite(ll)).toBe(true)
    const pa = paretoNbdProbabilityAlive(PUBLISHED, 5000, 99, 100)
    expect(pa).toBeGreaterThan(0)
    expect(pa).toBeLessThan(1e-10)
    expect(paretoNbdProbabilityAlive(PUBLISHED, 5000, 100, 100)).toBe(1)
    expect(
      Number.isFinite(paretoNbdConditionalExpectedPurchases(PUBLISHED, 39, 5000, 50, 100)),
    ).toBe(true)
  })
})

describe('Pareto/NBD expectations', () => {
  it('conditional expectation (note §6) matches P(alive)·(r+x)/(α+T)·∫₀ᵗ ((β+T)/(β+T+u))^s du', () => {
    for (const [p, t, x, tx, T] of [
      [PUBLISHED, 39, 2, 30.43, 38.86],
      [PUBLISHED, 100, 0, 0, 10],
      [{ r: 0.8, alpha: 15, s: 1, beta: 3 }, 52, 12, 18, 40], // s = 1: the (s − 1) denominator vanishes
    ] as const) {
      const [alive, total] = likelihoodReference(p, x, tx, T)
      const whileAlive =
        ((p.r + x) / (p.alpha + T)) * simpson((u) => ((p.beta + T) / (p.beta + T + u)) ** p.s, 0, t)
      const value = paretoNbdConditionalExpectedPurchases(p, t, x, tx, T)
      expect(Math.abs(value - (alive / total) * whileAlive)).toBeLessThan(1e-8 * Math.max(1, value))
    }
  })

  it('population expectation (note §4) matches r/α·∫₀ᵗ (β/(β+u))^s du', () => {
    for (const t of [1, 39, 400]) {
      const ref =
        (PUBLISHED.r / PUBLISHED.alpha) *
        simpson((u) => (PUBLISHED.beta / (PUBLISHED.beta + u)) ** PUBLISHED.s, 0, t)
      expect(paretoNbdExpectedPurchasesPopulation(PUBLISHED, t)).toBeCloseTo(ref, 9)
    }
    expect(paretoNbdExpectedPurchasesPopulation(PUBLISHED, 0)).toBe(0)
  })

  it('T = 0 (a member acquired just now): likelihood 1 and E[Y(t)] = E[X(t)]', () => {
    expect(paretoNbdLogLikelihood(PUBLISHED, f64([0]), f64([0]), f64([0]))).toBeCloseTo(0, 14)
    expect(paretoNbdProbabilityAlive(PUBLISHED, 0, 0, 0)).toBe(1)
    expect(paretoNbdConditionalExpectedPurchases(PUBLISHED, 39, 0, 0, 0)).toBeCloseTo(
      paretoNbdExpectedPurchasesPopulation(PUBLISHED, 39),
      14,
    )
  })

  it('vectorised forms equal the scalar ones', () => {
    const x = f64([0, 2, 7])
    const tx = f64([0, 30.43, 12])
    const T = f64([38.86, 38.86, 30])
    const pa = paretoNbdProbabilityAliveMany(PUBLISHED, x, tx, T)
    const ce = paretoNbdConditionalExpectedPurchasesMany(PUBLISHED, 39, x, tx, T)
    for (let i = 0; i < 3; i++) {
      const [xi, txi, Ti] = [x[i] as number, tx[i] as number, T[i] as number]
      expect(pa[i]).toBe(paretoNbdProbabilityAlive(PUBLISHED, xi, txi, Ti))
      expect(ce[i]).toBe(paretoNbdConditionalExpectedPurchases(PUBLISHED, 39, xi, txi, Ti))
    }
  })
})

describe('fitParetoNbd degenerate input', () => {
  it('empty input is an InputError; a single member is a ModelFitError', () => {
    expect(() => fitParetoNbd(f64([]), f64([]), f64([]))).toThrow(InputError)
    expect(() => fitParetoNbd(f64([2]), f64([30.43]), f64([38.86]))).toThrow(ModelFitError)
  })

  it('rejects bad parameters', () => {
    expect(() => paretoNbdProbabilityAlive({ ...PUBLISHED, s: -1 }, 1, 1, 2)).toThrow(InputError)
  })
})
