import { describe, expect, it } from 'vitest'
import { InputError } from '../core/errors.js'
import { bgNbdLogLikelihood } from './bg-nbd.js'
import {
  bgNbdCovariatesLogLikelihood,
  fitBgNbdCovariates,
  type CovariateSummaries,
} from './bg-nbd-covariates.js'

/** A small deterministic generator (mulberry32) so the simulated data are the same on every run. */
function rng(seed: number) {
  let s = seed >>> 0
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform())
  // Marsaglia & Tsang for shape ≥ 1, boosted for shape < 1.
  const gamma = (shape: number): number => {
    if (shape < 1) return gamma(shape + 1) * uniform() ** (1 / shape)
    const d = shape - 1 / 3
    const c = 1 / Math.sqrt(9 * d)
    for (;;) {
      const x = normal()
      const v = (1 + c * x) ** 3
      if (v > 0 && Math.log(1 - uniform()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v
    }
  }
  const beta = (a: number, b: number) => {
    const x = gamma(a)
    return x / (x + gamma(b))
  }
  return { uniform, gamma, beta }
}

/** Windows of 4 weeks every 26 weeks on the calendar (weeks from the start of the data). */
const WINDOW_START = (j: number) => 8 + 26 * j
const WINDOW_WEEKS = 4
/** Time inside windows between calendar weeks s and e. */
function inside(s: number, e: number): number {
  let t = 0
  for (let j = 0; WINDOW_START(j) < e; j++) {
    const w0 = WINDOW_START(j)
    t += Math.max(0, Math.min(e, w0 + WINDOW_WEEKS) - Math.max(s, w0))
  }
  return t
}
function isInside(t: number): boolean {
  return inside(t, t + 1e-9) > 0
}

/**
 * Members of a covariate BG/NBD: two dummies (channel=store, region=north), purchase rate λ·e^{β_p z}
 * times e^γ inside windows, drop-out p ~ Beta(a e^{β_d z}, b) after each purchase.
 */
function simulate(
  n: number,
  seed: number,
  truth: { purchase: [number, number]; dropout: [number, number]; season: number },
): CovariateSummaries {
  const g = rng(seed)
  const base = { r: 0.8, alpha: 6, a: 0.7, b: 3 }
  const x = new Float64Array(n)
  const tx = new Float64Array(n)
  const T = new Float64Array(n)
  const z = new Float64Array(n * 2)
  const xIn = new Float64Array(n)
  const TIn = new Float64Array(n)
  const txIn = new Float64Array(n)
  const c = Math.exp(truth.season)
  for (let i = 0; i < n; i++) {
    const z0 = g.uniform() < 0.4 ? 1 : 0
    const z1 = g.uniform() < 0.5 ? 1 : 0
    z[2 * i] = z0
    z[2 * i + 1] = z1
    const origin = g.uniform() * 52
    const end = 104
    const lambda =
      (g.gamma(base.r) / base.alpha) * Math.exp(truth.purchase[0] * z0 + truth.purchase[1] * z1)
    const p = g.beta(base.a * Math.exp(truth.dropout[0] * z0 + truth.dropout[1] * z1), base.b)
    // Arrivals by thinning a rate λ·max(1, c) process.
    const top = lambda * Math.max(1, c)
    let t = origin
    let last = origin
    let count = 0
    let countIn = 0
    for (;;) {
      t += -Math.log(1 - g.uniform()) / top
      if (t >= end) break
      const rate = isInside(t) ? lambda * c : lambda
      if (g.uniform() * top >= rate) continue
      count++
      if (isInside(t)) countIn++
      last = t
      if (g.uniform() < p) break
    }
    x[i] = count
    tx[i] = last - origin
    T[i] = end - origin
    xIn[i] = countIn
    TIn[i] = inside(origin, end)
    txIn[i] = inside(origin, last)
  }
  return {
    x,
    tx,
    T,
    z,
    covariateNames: ['channel=store', 'region=north'],
    season: { xIn, TIn, txIn },
  }
}

describe('BG/NBD with covariates', () => {
  const data = simulate(300, 7, { purchase: [0.5, 0], dropout: [0.6, 0], season: 0.7 })

  it('is BG/NBD when every effect is 0', () => {
    const p = { r: 0.8, alpha: 6, a: 0.7, b: 3 }
    const ll = bgNbdCovariatesLogLikelihood(data, p, { purchase: [0, 0], dropout: [0, 0], season: 0 })
    expect(ll).toBeCloseTo(bgNbdLogLikelihood(p, data.x, data.tx, data.T), 8)
  })

  it('scales α by exp(−β_p) for a member with z = 1', () => {
    const one: CovariateSummaries = {
      x: Float64Array.of(3),
      tx: Float64Array.of(20),
      T: Float64Array.of(40),
      z: Float64Array.of(1),
      covariateNames: ['channel=store'],
    }
    const p = { r: 0.8, alpha: 6, a: 0.7, b: 3 }
    const withEffect = bgNbdCovariatesLogLikelihood(one, p, { purchase: [0.4], dropout: [0.3] })
    const direct = bgNbdLogLikelihood(
      { ...p, alpha: 6 * Math.exp(-0.4), a: 0.7 * Math.exp(0.3) },
      one.x,
      one.tx,
      one.T,
    )
    expect(withEffect).toBeCloseTo(direct, 10)
  })

  it('prices the season as extra exposure e^γ inside windows', () => {
    const one: CovariateSummaries = {
      x: Float64Array.of(2),
      tx: Float64Array.of(10),
      T: Float64Array.of(30),
      z: new Float64Array(0),
      covariateNames: [],
      season: { xIn: Float64Array.of(1), TIn: Float64Array.of(8), txIn: Float64Array.of(4) },
    }
    const p = { r: 0.8, alpha: 6, a: 0.7, b: 3 }
    const g = 0.5
    const c = Math.exp(g)
    const ll = bgNbdCovariatesLogLikelihood(one, p, { purchase: [], season: g })
    const plain = bgNbdLogLikelihood(p, one.x, Float64Array.of(10 + (c - 1) * 4), Float64Array.of(30 + (c - 1) * 8))
    expect(ll).toBeCloseTo(plain + g * 1, 10)
  })

  it('recovers planted effects within their 95% intervals and finds no effect where none was planted', () => {
    const big = simulate(6000, 11, { purchase: [0.5, 0], dropout: [0.6, 0], season: 0.7 })
    const fit = fitBgNbdCovariates(big)
    const byKey = new Map(fit.effects.map((e) => [`${e.process}:${e.name}`, e]))
    const truth: Record<string, number> = {
      'purchase:channel=store': 0.5,
      'purchase:region=north': 0,
      'dropout:channel=store': 0.6,
      'dropout:region=north': 0,
      'purchase:season': 0.7,
    }
    for (const [key, value] of Object.entries(truth)) {
      const e = byKey.get(key)
      expect(e, key).toBeDefined()
      expect(e?.lower, key).toBeLessThan(value)
      expect(e?.upper, key).toBeGreaterThan(value)
      expect(e?.standardError, key).toBeLessThan(0.25)
    }
    // Planted effects are found (interval excludes 0); the zero effects are not.
    for (const key of ['purchase:channel=store', 'dropout:channel=store', 'purchase:season'])
      expect(byKey.get(key)?.lower, key).toBeGreaterThan(0)
    expect(fit.lrt.df).toBe(5)
    expect(fit.lrt.pValue).toBeLessThan(1e-6)
    expect(fit.logLikelihood).toBeGreaterThan(fit.baseline.logLikelihood)
    expect(fit.members).toBe(6000)
  })

  it('stops where the numerical derivative of log L vanishes (the analytic gradient is right)', () => {
    // No effect in truth: the LRT does not reject at 1 %.
    const nullData = simulate(3000, 5, { purchase: [0, 0], dropout: [0, 0], season: 0 })
    const fit = fitBgNbdCovariates(nullData)
    expect(fit.lrt.pValue).toBeGreaterThan(0.01)
    const effects = fit.effects.map((e) => e.estimate)
    const at = (v: number[]) =>
      bgNbdCovariatesLogLikelihood(nullData, fit.params, {
        purchase: v.slice(0, 2),
        dropout: v.slice(2, 4),
        season: v[4] as number,
      })
    expect(at(effects)).toBeCloseTo(fit.logLikelihood, 6)
    for (let j = 0; j < effects.length; j++) {
      const h = 1e-4
      const up = effects.map((v, i) => (i === j ? v + h : v))
      const down = effects.map((v, i) => (i === j ? v - h : v))
      // |∂ log L/∂β| per member is far below what a wrong gradient leaves (order 1e-2 and more).
      expect(Math.abs((at(up) - at(down)) / (2 * h)) / 3000).toBeLessThan(1e-5)
    }
    const base = (k: 'r' | 'alpha' | 'a' | 'b') => {
      const h = 1e-5 * fit.params[k]
      const f = (d: number) =>
        bgNbdCovariatesLogLikelihood(nullData, { ...fit.params, [k]: fit.params[k] + d }, {
          purchase: effects.slice(0, 2),
          dropout: effects.slice(2, 4),
          season: effects[4] as number,
        })
      return (fit.params[k] * (f(h) - f(-h))) / (2 * h) / 3000
    }
    for (const k of ['r', 'alpha', 'a', 'b'] as const) expect(Math.abs(base(k)), k).toBeLessThan(1e-5)
    for (const e of fit.effects) expect(Number.isFinite(e.standardError)).toBe(true)
  })

  it('rejects a constant covariate and mismatched arrays, naming them', () => {
    const constant: CovariateSummaries = { ...data, z: new Float64Array(600).fill(1) }
    expect(() => fitBgNbdCovariates(constant)).toThrow(/channel=store.*same for every member/)
    expect(() => fitBgNbdCovariates({ ...data, z: new Float64Array(5) })).toThrow(InputError)
    const badSeason: CovariateSummaries = {
      ...data,
      season: { ...(data.season as NonNullable<CovariateSummaries['season']>), xIn: new Float64Array(300).fill(1e6) },
    }
    expect(() => fitBgNbdCovariates(badSeason)).toThrow(/season xIn\[0\]/)
  })
})
