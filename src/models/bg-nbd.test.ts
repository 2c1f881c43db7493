import { describe, expect, it } from 'vitest'
import { InputError, ModelFitError } from '../core/errors.js'
import {
  bgNbdLogLikelihood,
  conditionalExpectedPurchases,
  conditionalExpectedPurchasesMany,
  expectedPurchasesPopulation,
  fitBgNbd,
  groupSummaries,
  probabilityAlive,
  probabilityAliveMany,
  probabilityOfNPurchases,
} from './bg-nbd.js'
import type { BgNbdParams } from './bg-nbd.js'

/** The paper's CDNOW estimates (Fader, Hardie & Lee 2005), as quoted in data/README.md. */
const PUBLISHED: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }

/** A small seeded generator (mulberry32) so random test points are reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * E over p ~ Beta(a, b) of f(p), by composite Simpson on [0, ½] and [½, 1]. Where a < 1 (or b < 1) the
 * substitution p = u^(1/a) (or 1 − p = v^(1/b)) absorbs the end-point singularity of the density. The
 * numerator and the normaliser use the same rule, so no special function is involved: this integrates
 * the model's definition and is independent of the paper's closed forms.
 */
function betaExpectation(
  f: (p: number) => number,
  a: number,
  b: number,
  intervals = 20_000,
): number {
  // ∫ over one half, as ∫₀^end g(s) ds with p = map(s); returns [∫ f·density, ∫ density].
  const half = (
    end: number,
    map: (s: number) => number,
    density: (s: number, p: number) => number,
  ): [number, number] => {
    let num = 0
    let den = 0
    const h = end / intervals
    for (let i = 0; i <= intervals; i++) {
      const w = i === 0 || i === intervals ? 1 : i % 2 === 1 ? 4 : 2
      const sv = i * h
      const p = map(sv)
      const d = density(sv, p)
      den += w * d
      num += w * d * f(Math.min(Math.max(p, 1e-300), 1 - 1e-16))
    }
    return [(num * h) / 3, (den * h) / 3]
  }
  const left =
    a < 1
      ? half(
          0.5 ** a,
          (u) => u ** (1 / a),
          (_u, p) => (1 - p) ** (b - 1) / a,
        )
      : half(
          0.5,
          (p) => p,
          (_s, p) => p ** (a - 1) * (1 - p) ** (b - 1),
        )
  const right =
    b < 1
      ? half(
          0.5 ** b,
          (v) => 1 - v ** (1 / b),
          (v) => (1 - v ** (1 / b)) ** (a - 1) / b,
        )
      : half(
          0.5,
          (q) => 1 - q,
          (q) => (1 - q) ** (a - 1) * q ** (b - 1),
        )
  return (left[0] + right[0]) / (left[1] + right[1])
}

/** P(alive): gamma part in closed form (ratio of E[λ^x e^(−λy)] at y = T and t_x), beta part numerically. */
function pAliveReference(p: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return 1
  const survive = betaExpectation((q) => (1 - q) ** x, p.a, p.b)
  const dropAtLast = betaExpectation((q) => q * (1 - q) ** (x - 1), p.a, p.b)
  const ratio = ((p.alpha + T) / (p.alpha + tx)) ** (p.r + x) // E[λ^x e^(−λ t_x)] / E[λ^x e^(−λ T)]
  return survive / (survive + dropAtLast * ratio)
}

/**
 * E[Y(t) | x, t_x, T] from the model's definition: given alive at T, λ ~ Gamma(r+x, α+T) and
 * p ~ Beta(a, b+x), E[Y(t) | λ, p] = (1 − e^(−λpt))/p and E_λ[e^(−λpt)] = ((α+T)/(α+T+pt))^(r+x).
 */
function conditionalReference(p: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const whileAlive = betaExpectation(
    (q) => -Math.expm1(-(p.r + x) * Math.log1p((q * t) / (p.alpha + T))) / q,
    p.a,
    p.b + x,
  )
  return pAliveReference(p, x, tx, T) * whileAlive
}

/** Per-member likelihood (paper eq. 6) with products instead of gamma functions (integer x). */
function likelihoodReference(p: BgNbdParams, x: number, tx: number, T: number): number {
  let gammaRatio = 1 // Γ(r+x)/Γ(r)
  let betaRatio = 1 // B(a, b+x)/B(a, b)
  for (let j = 0; j < x; j++) {
    gammaRatio *= p.r + j
    betaRatio *= (p.b + j) / (p.a + p.b + j)
  }
  const common = gammaRatio * p.alpha ** p.r
  let L = betaRatio * common * (p.alpha + T) ** -(p.r + x)
  if (x > 0) {
    // B(a+1, b+x−1)/B(a, b) = a/(a+b) · Π_{j<x−1} (b+j)/(a+b+1+j)
    let dropRatio = p.a / (p.a + p.b)
    for (let j = 0; j < x - 1; j++) dropRatio *= (p.b + j) / (p.a + p.b + 1 + j)
    L += dropRatio * common * (p.alpha + tx) ** -(p.r + x)
  }
  return L
}

const f64 = (v: number[]): Float64Array => Float64Array.from(v)

describe('BG/NBD log-likelihood (eq. 6)', () => {
  const x = f64([0, 0, 1, 2, 7, 3, 40])
  const tx = f64([0, 0, 5.5, 30.43, 20, 12, 36])
  const T = f64([38.86, 12, 20, 38.86, 30, 12, 38])

  it('matches the likelihood written with plain products, member by member', () => {
    for (const p of [PUBLISHED, { r: 2.5, alpha: 0.7, a: 3.1, b: 0.4 }]) {
      for (let i = 0; i < x.length; i++) {
        const one = (v: Float64Array): Float64Array => v.subarray(i, i + 1)
        const ll = bgNbdLogLikelihood(p, one(x), one(tx), one(T))
        const ref = Math.log(
          likelihoodReference(p, x[i] as number, tx[i] as number, T[i] as number),
        )
        expect(Math.abs(ll - ref)).toBeLessThan(1e-11 * Math.max(1, Math.abs(ref)))
      }
    }
  })

  it('weights multiply the per-summary terms', () => {
    const w = f64([3, 1, 2, 5, 1, 4, 2])
    let expected = 0
    for (let i = 0; i < x.length; i++) {
      expected +=
        (w[i] as number) *
        Math.log(likelihoodReference(PUBLISHED, x[i] as number, tx[i] as number, T[i] as number))
    }
    expect(bgNbdLogLikelihood(PUBLISHED, x, tx, T, w)).toBeCloseTo(expected, 9)
  })

  it('analytic gradient matches central differences at random parameter points', () => {
    const rand = rng(20240601)
    const xs = f64([0, 0, 1, 2, 7, 3, 5000])
    const txs = f64([0, 0, 5.5, 30.43, 20, 12, 99])
    const Ts = f64([38.86, 0, 20, 38.86, 30, 12, 100])
    const ws = f64([10, 2, 3, 1, 4, 2, 1])
    const logUniform = (lo: number, hi: number): number => lo * (hi / lo) ** rand()
    for (let k = 0; k < 25; k++) {
      const p = [logUniform(0.05, 5), logUniform(0.5, 50), logUniform(0.1, 5), logUniform(0.1, 10)]
      const at = (q: number[]): BgNbdParams => ({
        r: q[0] as number,
        alpha: q[1] as number,
        a: q[2] as number,
        b: q[3] as number,
      })
      const g = new Float64Array(4)
      const ll = bgNbdLogLikelihood(at(p), xs, txs, Ts, ws, g)
      for (let j = 0; j < 4; j++) {
        const h = 1e-5 * (p[j] as number)
        const up = [...p]
        const down = [...p]
        up[j] = (p[j] as number) + h
        down[j] = (p[j] as number) - h
        const numeric =
          (bgNbdLogLikelihood(at(up), xs, txs, Ts, ws) -
            bgNbdLogLikelihood(at(down), xs, txs, Ts, ws)) /
          (2 * h)
        // Allowance: truncation of the central difference (~1e-7 relative at h = 1e-5 θ) plus its
        // rounding error, |LL|·ε/h.
        const tolerance = 1e-6 * Math.max(1, Math.abs(numeric)) + (1e-15 * Math.abs(ll)) / h
        expect(Math.abs((g[j] as number) - numeric)).toBeLessThan(tolerance)
      }
    }
  })
})

describe('BG/NBD predictions', () => {
  it('E[Y(39) | x=2, t_x=30.43, T=38.86] ≈ 1.226 at the published CDNOW parameters', () => {
    // 1.226 is the value lifetimes checks against Hardie's spreadsheet (tests/test_estimation.py,
    // to 0.001); conditionalReference derives it independently by integrating over p.
    const value = conditionalExpectedPurchases(PUBLISHED, 39, 2, 30.43, 38.86)
    expect(Math.abs(value - 1.226)).toBeLessThan(0.001)
    expect(value).toBeCloseTo(conditionalReference(PUBLISHED, 39, 2, 30.43, 38.86), 7)
  })

  it('eq. 10 matches numerical integration of the model definition', () => {
    const cases: [BgNbdParams, number, number, number, number][] = [
      [PUBLISHED, 39, 0, 0, 38.86],
      [PUBLISHED, 10, 1, 2, 30],
      [PUBLISHED, 52, 7, 35, 36],
      [PUBLISHED, 500, 3, 1, 3],
      // a = 1 exactly, and a + b + x − 1 = 0 (x = 0, a + b = 1): the removable singularities of eq. 10
      [{ r: 0.5, alpha: 3, a: 1, b: 2 }, 20, 2, 10, 25],
      [{ r: 0.5, alpha: 3, a: 0.4, b: 0.6 }, 20, 0, 0, 5],
      [{ r: 3, alpha: 20, a: 2.5, b: 7 }, 30, 12, 40, 41],
    ]
    for (const [p, t, x, tx, T] of cases) {
      const value = conditionalExpectedPurchases(p, t, x, tx, T)
      const ref = conditionalReference(p, t, x, tx, T)
      expect(Math.abs(value - ref)).toBeLessThan(1e-6 * Math.max(1, ref))
    }
  })

  it('P(alive) matches the posterior computed by integration; 1 for x = 0; 1/(1 + a/(b+x−1)) at t_x = T', () => {
    for (const [x, tx, T] of [
      [2, 30.43, 38.86],
      [1, 1.71, 38.86],
      [10, 20, 38],
    ] as const) {
      expect(probabilityAlive(PUBLISHED, x, tx, T)).toBeCloseTo(
        pAliveReference(PUBLISHED, x, tx, T),
        7,
      )
    }
    expect(probabilityAlive(PUBLISHED, 0, 0, 38.86)).toBe(1)
    const { a, b } = PUBLISHED
    expect(probabilityAlive(PUBLISHED, 4, 30, 30)).toBeCloseTo(1 / (1 + a / (b + 3)), 14)
  })

  it('E[X(t)] (eq. 7) matches integration, and lifetimes’ spreadsheet values to 3 decimals', () => {
    // E[X(t)] = E_p[(1 − (α/(α+pt))^r)/p], p ~ Beta(a, b)
    for (const t of [0.5, 39, 78, 520]) {
      const ref = betaExpectation(
        (q) => -Math.expm1(-PUBLISHED.r * Math.log1p((q * t) / PUBLISHED.alpha)) / q,
        PUBLISHED.a,
        PUBLISHED.b,
      )
      expect(expectedPurchasesPopulation(PUBLISHED, t)).toBeCloseTo(ref, 7)
    }
    // lifetimes tests/test_estimation.py (BetaGeoFitter fitted to CDNOW), compared there to 3 decimals.
    const fitted = { r: 0.242593, alpha: 4.413532, a: 0.792951, b: 2.425896 }
    const times = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0]
    const expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    times.forEach((t, i) => {
      expect(
        Math.abs(expectedPurchasesPopulation(fitted, t) - (expected[i] as number)),
      ).toBeLessThan(1.5e-3)
    })
    expect(expectedPurchasesPopulation(PUBLISHED, 0)).toBe(0)
  })

  it('P(X(t) = n) (eq. 8) sums to 1, has mean E[X(t)], and P(X(t) = 0) = (α/(α+t))^r', () => {
    for (const t of [1, 39, 200]) {
      let total = 0
      let mean = 0
      for (let n = 0; n < 2000; n++) {
        const p = probabilityOfNPurchases(PUBLISHED, t, n)
        expect(p).toBeGreaterThanOrEqual(0)
        total += p
        mean += n * p
      }
      expect(total).toBeCloseTo(1, 10)
      expect(mean).toBeCloseTo(expectedPurchasesPopulation(PUBLISHED, t), 8)
      expect(probabilityOfNPurchases(PUBLISHED, t, 0)).toBeCloseTo(
        (PUBLISHED.alpha / (PUBLISHED.alpha + t)) ** PUBLISHED.r,
        14,
      )
    }
    expect(probabilityOfNPurchases(PUBLISHED, 0, 0)).toBe(1)
    expect(probabilityOfNPurchases(PUBLISHED, 0, 3)).toBe(0)
    expect(() => probabilityOfNPurchases(PUBLISHED, 1, 1.5)).toThrow(InputError)
  })

  it('huge x (5000 purchases in T = 100) gives finite results', () => {
    const pa = probabilityAlive(PUBLISHED, 5000, 99, 100)
    expect(Number.isFinite(pa)).toBe(true)
    expect(pa).toBeGreaterThan(0)
    expect(pa).toBeLessThan(1e-10)
    // A member whose last purchase is at T is alive with 1/(1 + a/(b+x−1)) and buys at rate about
    // (r+x)/(α+T) until a dropout that is unlikely within 10 weeks (p ≈ a/(a+b+x) per purchase).
    const e = conditionalExpectedPurchases(PUBLISHED, 10, 5000, 100, 100)
    const alive = 1 / (1 + PUBLISHED.a / (PUBLISHED.b + 4999))
    const noDropout = (alive * 10 * (PUBLISHED.r + 5000)) / (PUBLISHED.alpha + 100)
    expect(e).toBeLessThan(noDropout)
    expect(e).toBeGreaterThan(0.8 * noDropout)
    expect(Number.isFinite(conditionalExpectedPurchases(PUBLISHED, 39, 5000, 50, 100))).toBe(true)
    const ll = bgNbdLogLikelihood(
      PUBLISHED,
      f64([5000]),
      f64([99]),
      f64([100]),
      undefined,
      new Float64Array(4),
    )
    expect(Number.isFinite(ll)).toBe(true)
  })

  it('T = 0 (a member acquired just now): likelihood 1, alive, and E[Y(t)] = E[X(t)] (eq. 10 → eq. 7)', () => {
    expect(bgNbdLogLikelihood(PUBLISHED, f64([0]), f64([0]), f64([0]))).toBe(0)
    expect(probabilityAlive(PUBLISHED, 0, 0, 0)).toBe(1)
    for (const t of [1, 39, 300]) {
      expect(conditionalExpectedPurchases(PUBLISHED, t, 0, 0, 0)).toBeCloseTo(
        expectedPurchasesPopulation(PUBLISHED, t),
        14,
      )
    }
  })

  it('vectorised forms equal the scalar ones', () => {
    const x = f64([0, 1, 2, 7, 5000])
    const tx = f64([0, 1.71, 30.43, 20, 99])
    const T = f64([38.86, 38.86, 38.86, 30, 100])
    const pa = probabilityAliveMany(PUBLISHED, x, tx, T)
    const out = new Float64Array(5)
    const ce = conditionalExpectedPurchasesMany(PUBLISHED, 39, x, tx, T, out)
    expect(ce).toBe(out)
    for (let i = 0; i < 5; i++) {
      const [xi, txi, Ti] = [x[i] as number, tx[i] as number, T[i] as number]
      expect(pa[i]).toBe(probabilityAlive(PUBLISHED, xi, txi, Ti))
      expect(ce[i]).toBe(conditionalExpectedPurchases(PUBLISHED, 39, xi, txi, Ti))
    }
    expect(() => probabilityAliveMany(PUBLISHED, x, tx, f64([1]))).toThrow(InputError)
  })

  it('rejects bad parameters and horizons', () => {
    expect(() => probabilityAlive({ ...PUBLISHED, a: 0 }, 1, 1, 2)).toThrow(InputError)
    expect(() => conditionalExpectedPurchases(PUBLISHED, -1, 1, 1, 2)).toThrow(InputError)
    expect(() => expectedPurchasesPopulation(PUBLISHED, NaN)).toThrow(InputError)
  })
})

describe('groupSummaries', () => {
  it('counts identical triples in order of first appearance and maps members to groups', () => {
    const g = groupSummaries(
      f64([0, 2, 0, 2, 2, 0]),
      f64([0, 5, 0, 5, 6, -0]),
      f64([10, 9, 10, 9, 9, 10]),
    )
    expect(Array.from(g.x)).toEqual([0, 2, 2])
    expect(Array.from(g.tx)).toEqual([0, 5, 6])
    expect(Array.from(g.T)).toEqual([10, 9, 9])
    expect(Array.from(g.weights)).toEqual([3, 2, 1])
    expect(Array.from(g.groupOf)).toEqual([0, 1, 0, 1, 2, 0])
  })

  it('rejects empty, ragged and inconsistent input with InputError', () => {
    expect(() => groupSummaries(f64([]), f64([]), f64([]))).toThrow(InputError)
    expect(() => groupSummaries(f64([1]), f64([1, 2]), f64([3]))).toThrow(InputError)
    expect(() => groupSummaries(f64([1.5]), f64([1]), f64([3]))).toThrow(/non-negative integer/)
    expect(() => groupSummaries(f64([1]), f64([4]), f64([3]))).toThrow(/≥ tx/)
    expect(() => groupSummaries(f64([NaN]), f64([0]), f64([3]))).toThrow(InputError)
  })
})

describe('fitBgNbd degenerate input', () => {
  it('empty input is an InputError', () => {
    expect(() => fitBgNbd(f64([]), f64([]), f64([]))).toThrow(InputError)
    expect(() => fitBgNbd(f64([]), f64([]), f64([]))).toThrow(/no members/)
  })

  it('a single member has no interior maximum: ModelFitError, not made-up parameters', () => {
    expect(() => fitBgNbd(f64([2]), f64([30.43]), f64([38.86]))).toThrow(ModelFitError)
    expect(() => fitBgNbd(f64([0]), f64([0]), f64([38.86]))).toThrow(ModelFitError)
  })

  it('nobody ever repeat-buys: ModelFitError', () => {
    expect(() => fitBgNbd(f64([0, 0, 0, 0]), f64([0, 0, 0, 0]), f64([10, 20, 30, 40]))).toThrow(
      ModelFitError,
    )
  })

  it('zero weights are allowed but not an all-zero total', () => {
    expect(() => fitBgNbd(f64([1]), f64([1]), f64([2]), { weights: f64([0]) })).toThrow(
      /sum to zero/,
    )
  })
})
