/**
 * Every statistic against a value derived by hand (derivation in the comment next to it) and checked
 * independently with scipy.stats 1.17.
 */
import { describe, expect, it } from 'vitest'
import { cupedAdjust, cupedAdjustByArm } from './cuped.js'
import { ratioDifference, ratioSummary } from './delta-method.js'
import { holmAdjust } from './holm.js'
import { netPromoterScore, npsClass } from './nps.js'
import {
  durationDays,
  mdeMeans,
  mdeProportions,
  sampleSizeMeans,
  sampleSizeProportions,
} from './power.js'
import { twoProportionZTest, wilsonInterval } from './proportions.js'
import { srmTest } from './srm.js'
import { summarize, summarizePairs } from './summary.js'
import { stratifiedDifference } from './stratified.js'
import { welchTTest } from './welch.js'

/** Seeded uniform (mulberry32) and standard normal (Box–Muller) for the simulation tests. */
function rng(seed: number): { u: () => number; n: () => number } {
  let a = seed >>> 0
  const u = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const n = (): number => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u())
  return { u, n }
}

describe('two-proportion z-test', () => {
  it('200/1000 vs 250/1000', () => {
    // p̄ = 450/2000 = 0.225; SE₀ = √(0.225·0.775·(1/1000 + 1/1000)) = √0.00034875 = 0.0186748
    // z = 0.05/0.0186748 = 2.677398; p = 2(1 − Φ(2.677398)) = 0.0074196
    // SE = √(0.2·0.8/1000 + 0.25·0.75/1000) = √0.0003475 = 0.0186414; CI = 0.05 ± 1.959964·SE
    const e = twoProportionZTest({ successes: 200, n: 1000 }, { successes: 250, n: 1000 })
    expect(e.difference).toBeCloseTo(0.05, 12)
    expect(e.statistic).toBeCloseTo(2.6773977630083294, 10)
    expect(e.pValue).toBeCloseTo(0.007419649261025672, 10)
    expect(e.ci[0]).toBeCloseTo(0.013463621687539853, 10)
    expect(e.ci[1]).toBeCloseTo(0.08653637831246015, 10)
    // relative lift 0.25/0.2 − 1 = 0.25
    expect(e.relativeLift).toBeCloseTo(0.25, 12)
    expect(e.relativeCi[0]).toBeLessThan(0.25)
  })

  it('Wilson interval of 0/10 and 5/10', () => {
    // z² = 3.841459; 0/10: centre = (z²/20)/(1 + z²/10) = 0.192073/1.384146 = 0.138767,
    // half = z/(1.384146)·√(z²/400) = 0.138767 → [0, 0.277535]
    const [lo, hi] = wilsonInterval(0, 10)
    expect(lo).toBe(0)
    expect(hi).toBeCloseTo(0.277535, 5)
    // 5/10: centre 0.5, half = 1.959964/1.384146·√(0.025 + 0.0096037) = 1.416008·0.186020 = 0.263407
    const [a, b] = wilsonInterval(5, 10)
    expect(a).toBeCloseTo(0.5 - 0.263407, 5)
    expect(b).toBeCloseTo(0.5 + 0.263407, 5)
    expect(wilsonInterval(0, 0)).toEqual([0, 1])
  })
})

describe('Welch t-test', () => {
  it('n=10, mean 5, s²=4 vs n=12, mean 7, s²=9', () => {
    // SE = √(4/10 + 9/12) = √1.15 = 1.0723805; t = 2/1.0723805 = 1.8650096
    // ν = 1.15²/(0.4²/9 + 0.75²/11) = 1.3225/0.0689141 = 19.190546; p = 2·P(T_ν > 1.865) = 0.0775464
    // (scipy ttest_ind_from_stats(7, 3, 12, 5, 2, 10, equal_var=False) gives t 1.86501, p 0.0775464)
    const e = welchTTest({ n: 10, mean: 5, variance: 4 }, { n: 12, mean: 7, variance: 9 })
    expect(e.standardError).toBeCloseTo(1.0723805294763609, 12)
    expect(e.statistic).toBeCloseTo(1.8650096164806276, 10)
    expect(e.df).toBeCloseTo(19.190545987541217, 9)
    expect(e.pValue).toBeCloseTo(0.07754643868205859, 9)
    // CI = 2 ± t_{0.975,19.19}·SE = 2 ± 2.0916184·1.0723805
    expect(e.ci[0]).toBeCloseTo(2 - 2.0916183607469203 * 1.0723805294763609, 8)
  })

  it('summarize matches the textbook mean and n−1 variance', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, Σ(x − 5)² = 32, s² = 32/7
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9])
    expect(s.mean).toBe(5)
    expect(s.variance).toBeCloseTo(32 / 7, 12)
  })
})

describe('delta method for ratio metrics', () => {
  it('AOV of four members', () => {
    // y (revenue) = 10, 0, 30, 20; x (orders) = 1, 0, 2, 1: ȳ = 15, x̄ = 1, R = 15
    // s_y² = (25 + 225 + 225 + 25)/3 = 166.667; s_x² = (0 + 1 + 1 + 0)/3 = 0.6667
    // s_xy = (0 + 15 + 15 + 0)/3 = 10
    // Var R = (166.667/1 − 2·15·10/1 + 225·0.6667/1)/4 = 16.667/4 = 4.16667
    const r = ratioSummary([10, 0, 30, 20], [1, 0, 2, 1])
    expect(r.ratio).toBe(15)
    expect(r.variance).toBeCloseTo(25 / 6, 10)
    // Difference against an arm with R = 12 and Var 2: Δ = 3 − … computed on a second sample
    // y = 12, 12, 24, 0; x = 1, 1, 2, 0: ȳ = 12, x̄ = 1, s_y² = 96, s_x² = 2/3, s_xy = 8 → Var = (96 − 192 + 96)/4 = 0
    const c = ratioSummary([12, 12, 24, 0], [1, 1, 2, 0])
    expect(c.ratio).toBe(12)
    expect(c.variance).toBeCloseTo(0, 10)
    const e = ratioDifference(c, r)
    // Δ = 3, SE = √(25/6) = 2.0412415, z = 1.4696938, p = 0.1416
    expect(e.difference).toBe(3)
    expect(e.standardError).toBeCloseTo(Math.sqrt(25 / 6), 10)
    expect(e.statistic).toBeCloseTo(1.4696938456699067, 10)
    expect(e.pValue).toBeCloseTo(0.1416446902951334, 8)
  })

  it('covers the true ratio in about 95 % of simulated experiments', () => {
    // Per member: orders ~ 1 + Bernoulli(0.5); revenue per order ~ 20 + 5·N(0,1). True AOV = 20.
    const g = rng(3)
    let covered = 0
    const runs = 400
    for (let k = 0; k < runs; k++) {
      const n = 300
      const y = new Float64Array(n)
      const x = new Float64Array(n)
      for (let i = 0; i < n; i++) {
        const orders = g.u() < 0.5 ? 1 : 2
        x[i] = orders
        for (let j = 0; j < orders; j++) y[i] = (y[i] as number) + 20 + 5 * g.n()
      }
      const r = ratioSummary(y, x)
      if (Math.abs(r.ratio - 20) <= 1.959964 * Math.sqrt(r.variance)) covered++
    }
    // Binomial(400, 0.95): sd 4.4 members; 4 sd either side.
    expect(covered / runs).toBeGreaterThan(0.905)
    expect(covered / runs).toBeLessThan(0.995)
  })
})

describe('Holm correction', () => {
  it('step-down adjusted p-values', () => {
    // sorted 0.01, 0.03, 0.04 (m = 3): 3·0.01 = 0.03; max(0.03, 2·0.03) = 0.06; max(0.06, 1·0.04) = 0.06
    expect(holmAdjust([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06])
    expect(holmAdjust([0.5])).toEqual([0.5])
    expect(holmAdjust([0.6, 0.7])).toEqual([1, 1])
  })
})

describe('sample-ratio mismatch', () => {
  it('chi-square of arm counts', () => {
    // 5000 vs 5200, E = 5100: χ² = (100² + 100²)/5100 = 3.921569, p = 0.04767 (no alarm at 0.001)
    const ok = srmTest([5000, 5200])
    expect(ok.chiSquare).toBeCloseTo(3.9215686274509802, 10)
    expect(ok.pValue).toBeCloseTo(0.0476703806561615, 10)
    expect(ok.mismatch).toBe(false)
    // 5000 vs 5400: χ² = 2·200²/5200 = 15.384615, p = 8.77e-5 → mismatch
    const bad = srmTest([5000, 5400])
    expect(bad.pValue).toBeCloseTo(8.769942375590228e-5, 12)
    expect(bad.mismatch).toBe(true)
    // three arms, E = 2966.67: χ² = 15.730337, df 2, p = 0.000384
    expect(srmTest([3000, 3100, 2800]).pValue).toBeCloseTo(0.0003838846123032989, 10)
    // unequal intended split 1:3 observed exactly
    expect(srmTest([250, 750], [1, 3]).chiSquare).toBe(0)
  })

  it('detects a deliberately skewed 52/48 split of 20,000 members and passes a fair one', () => {
    const g = rng(11)
    const count = (share: number): number[] => {
      let first = 0
      for (let i = 0; i < 20_000; i++) if (g.u() < share) first++
      return [first, 20_000 - first]
    }
    // Expected χ² for a 52/48 split: N·(0.02² + 0.02²)/0.5 = 20000·0.0016 = 32 (p ≈ 1.5e-8).
    expect(srmTest(count(0.52)).mismatch).toBe(true)
    expect(srmTest(count(0.5)).mismatch).toBe(false)
  })
})

describe('CUPED', () => {
  it('removes ρ² of the variance on data with a known correlation', () => {
    // X ~ N(10, 2²), Y = 5 + ρ·(σ_Y/σ_X)(X − 10) + σ_Y√(1 − ρ²)·ε with σ_Y = 3: corr(X, Y) = ρ.
    const g = rng(5)
    for (const rho of [0.3, 0.6, 0.9]) {
      const n = 40_000
      const x = new Float64Array(n)
      const y = new Float64Array(n)
      for (let i = 0; i < n; i++) {
        x[i] = 10 + 2 * g.n()
        y[i] = 5 + rho * 1.5 * ((x[i] as number) - 10) + 3 * Math.sqrt(1 - rho * rho) * g.n()
      }
      const c = cupedAdjust(y, x)
      // sampling sd of r² at n = 40,000 is ≈ 2ρ(1 − ρ²)/√n < 0.004; tolerance 0.015
      expect(Math.abs(c.varianceReduction - rho * rho)).toBeLessThan(0.015)
      expect(c.theta).toBeCloseTo(rho * 1.5, 1)
      // The variance of the adjusted values is (1 − ρ²) of the original's.
      const before = summarize(y).variance
      const after = summarize(c.adjusted).variance
      expect(after / before).toBeCloseTo(1 - c.varianceReduction, 10)
      expect(summarize(c.adjusted).mean).toBeCloseTo(summarize(y).mean, 10)
    }
  })

  it('per arm (Lin 2013): never widens an arm, where a pooled θ set by the large arm does', () => {
    // A 1 : 9 holdout. In the large arm Y follows X closely (slope 1); in the small arm hardly (slope 0.2)
    // and X varies more there, so a pooled θ ≈ 1 adds variance to the small arm.
    const g = rng(9)
    const arm = (n: number, slope: number, sdX: number) => {
      const x = Float64Array.from({ length: n }, () => 10 + sdX * g.n())
      const y = x.map((v) => 3 + slope * (v - 10) + g.n())
      return { x, y }
    }
    const small = arm(2_000, 0.2, 3)
    const large = arm(18_000, 1, 1.5)
    const byArm = cupedAdjustByArm([small, large])
    expect(byArm.theta[0]).toBeCloseTo(0.2, 1)
    expect(byArm.theta[1]).toBeCloseTo(1, 1)
    for (const [k, a] of [small, large].entries()) {
      const adjusted = summarize(byArm.adjusted[k] as Float64Array).variance
      expect(adjusted).toBeLessThanOrEqual(summarize(a.y).variance)
    }
    // The pooled adjustment makes the small arm's variance larger than it was.
    const pooled = cupedAdjust(
      Float64Array.of(...small.y, ...large.y),
      Float64Array.of(...small.x, ...large.x),
    )
    const smallPooled = summarize(pooled.adjusted.subarray(0, small.y.length)).variance
    expect(smallPooled).toBeGreaterThan(1.5 * summarize(small.y).variance)
    // Centred on the covariate's mean over both arms: each arm's adjusted mean is ȳ_a − θ_a(x̄_a − x̄).
    const xbar = byArm.covariateMean
    const s0 = summarizePairs(small.y, small.x)
    expect(summarize(byArm.adjusted[0] as Float64Array).mean).toBeCloseTo(
      s0.x.mean - (byArm.theta[0] as number) * (s0.y.mean - xbar),
      10,
    )
  })

  it('per arm with one common slope agrees with the pooled adjustment', () => {
    const g = rng(4)
    const x = Float64Array.from({ length: 20_000 }, () => 5 + 2 * g.n())
    const y = x.map((v) => 1 + 0.7 * v + g.n())
    const byArm = cupedAdjustByArm([
      { y: y.subarray(0, 10_000), x: x.subarray(0, 10_000) },
      { y: y.subarray(10_000), x: x.subarray(10_000) },
    ])
    const pooled = cupedAdjust(y, x)
    for (const t of byArm.theta) expect(t).toBeCloseTo(pooled.theta, 1)
    expect(byArm.varianceReduction).toBeCloseTo(pooled.varianceReduction, 2)
  })

  it('leaves the outcome alone when the covariate is constant (new members have no pre-period)', () => {
    const c = cupedAdjust([1, 0, 1, 1], [0, 0, 0, 0])
    expect(c.theta).toBe(0)
    expect(c.varianceReduction).toBe(0)
    expect([...c.adjusted]).toEqual([1, 0, 1, 1])
  })
})

describe('power', () => {
  it('sample size, MDE and duration', () => {
    // n = 2(1.959964 + 0.841621)²·1²/0.2² = 2·7.848879/0.04 = 392.44 → 393
    expect(sampleSizeMeans(1, 0.2)).toBe(393)
    // with CUPED removing half the variance: 196.22 → 197
    expect(sampleSizeMeans(1, 0.2, { varianceReduction: 0.5 })).toBe(197)
    // MDE is the inverse: δ = 2.801585·1·√(2/392.44) = 0.2
    expect(mdeMeans(1, 392.44398671745444)).toBeCloseTo(0.2, 8)
    // p 0.10 → 0.12: (1.959964·√(2·0.11·0.89) + 0.841621·√(0.09 + 0.1056))²/0.02² = 3840.85 → 3841
    expect(sampleSizeProportions(0.1, 0.12)).toBe(3841)
    expect(mdeProportions(0.1, 3840.847482436272)).toBeCloseTo(0.02, 7)
    // 2 arms × 3841 members at 500 eligible a day: 7682/500 = 15.4 → 16 days
    expect(durationDays(3841, 2, 500)).toBe(16)
  })
})

describe('NPS', () => {
  it('classes and adjusted-Wald interval', () => {
    expect([npsClass(10), npsClass(9), npsClass(8), npsClass(7), npsClass(6), npsClass(0)]).toEqual(
      ['promoter', 'promoter', 'passive', 'passive', 'detractor', 'detractor'],
    )
    // 6 promoters, 2 passives, 2 detractors: NPS = 100·(6 − 2)/10 = 40.
    // Adjusted: n + 3 = 13, p̃₊ = 6.75/13 = 0.519231, p̃₋ = 2.75/13 = 0.211538, centre 0.307692,
    // Ṽ = 0.730769 − 0.094675 = 0.636095, half = 1.959964·√(0.636095/13) = 0.433551 → [−12.59, 74.12]
    const r = netPromoterScore({ promoters: 6, passives: 2, detractors: 2 })
    expect(r.nps).toBe(40)
    expect(r.ci[0]).toBeCloseTo(-12.585579968808114, 8)
    expect(r.ci[1]).toBeCloseTo(74.12404150726965, 8)
    // All promoters: the plain Wald interval would be [100, 100]; the adjusted one is not degenerate.
    const all = netPromoterScore({ promoters: 5, passives: 0, detractors: 0 })
    expect(all.nps).toBe(100)
    expect(all.ci[0]).toBeLessThan(80)
    expect(all.ci[1]).toBeLessThanOrEqual(100)
  })
})

describe('stratified (matched) difference', () => {
  it('weights strata by the treated', () => {
    // stratum 0: treated y = 1, 1 (mean 1), comparison 0, 0, 1, 1 (mean 0.5)
    // stratum 1: treated y = 0, 0, 1, 1 (mean 0.5), comparison 0, 0 (mean 0)
    // stratum 2: treated only (dropped). w = 2/6, 4/6: ATT = (2/6)(0.5) + (4/6)(0.5) = 0.5
    // Var = (1/9)(0/2 + (1/3)/4) + (4/9)((1/3)/4 + 0/2) = (1/9 + 4/9)·(1/12) = 5/108
    const strata = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2]
    const treated = [1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1]
    const y = [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1]
    const r = stratifiedDifference(strata, treated, y)
    expect(r.treatedMatched).toBe(6)
    expect(r.treatedUnmatched).toBe(1)
    expect(r.difference).toBeCloseTo(0.5, 12)
    expect(r.treatedMean).toBeCloseTo(2 / 3, 12)
    expect(r.standardError).toBeCloseTo(Math.sqrt(5 / 108), 12)
  })
})
