import { describe, expect, it } from 'vitest'
import { InputError } from '../core/errors.js'
import { paretoNbdLogLikelihood } from './pareto-nbd.js'
import type { CovariateSummaries } from './bg-nbd-covariates.js'
import { fitParetoNbdCovariates } from './pareto-nbd-covariates.js'

/** mulberry32 with Marsaglia–Tsang gamma draws: the same members on every run. */
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
  return { uniform, gamma }
}

/** Pareto/NBD members with two dummies: λ scaled by e^{β_p z}, the drop-out rate μ by e^{β_d z}. */
function simulate(
  n: number,
  seed: number,
  truth: { purchase: [number, number]; dropout: [number, number] },
): CovariateSummaries {
  const g = rng(seed)
  const base = { r: 0.6, alpha: 4, s: 0.8, beta: 12 }
  const x = new Float64Array(n)
  const tx = new Float64Array(n)
  const T = new Float64Array(n)
  const z = new Float64Array(2 * n)
  for (let i = 0; i < n; i++) {
    const z0 = g.uniform() < 0.4 ? 1 : 0
    const z1 = g.uniform() < 0.5 ? 1 : 0
    z[2 * i] = z0
    z[2 * i + 1] = z1
    const lambda =
      (g.gamma(base.r) / base.alpha) * Math.exp(truth.purchase[0] * z0 + truth.purchase[1] * z1)
    const mu = (g.gamma(base.s) / base.beta) * Math.exp(truth.dropout[0] * z0 + truth.dropout[1] * z1)
    const length = 40 + g.uniform() * 40
    const alive = Math.min(length, -Math.log(1 - g.uniform()) / mu)
    let t = 0
    let count = 0
    let last = 0
    for (;;) {
      t += -Math.log(1 - g.uniform()) / lambda
      if (t >= alive) break
      count++
      last = t
    }
    x[i] = count
    tx[i] = last
    T[i] = length
  }
  return { x, tx, T, z, covariateNames: ['channel=store', 'region=north'] }
}

describe('Pareto/NBD with covariates', () => {
  it('recovers planted purchase and drop-out effects within their 95% intervals, and no effect where none was planted', () => {
    const data = simulate(5000, 3, { purchase: [0.5, 0], dropout: [0.7, 0] })
    const fit = fitParetoNbdCovariates(data)
    const truth: Record<string, number> = {
      'purchase:channel=store': 0.5,
      'purchase:region=north': 0,
      'dropout:channel=store': 0.7,
      'dropout:region=north': 0,
    }
    for (const [key, value] of Object.entries(truth)) {
      const e = fit.effects.find((x) => `${x.process}:${x.name}` === key)
      expect(e, key).toBeDefined()
      expect(e?.lower, key).toBeLessThan(value)
      expect(e?.upper, key).toBeGreaterThan(value)
    }
    for (const key of ['purchase:channel=store', 'dropout:channel=store']) {
      const e = fit.effects.find((x) => `${x.process}:${x.name}` === key)
      expect(e?.lower, key).toBeGreaterThan(0)
    }
    expect(fit.lrt.df).toBe(4)
    expect(fit.lrt.pValue).toBeLessThan(1e-6)
  })

  it('is Pareto/NBD at the pattern’s own α and β, and stops where the numerical derivative vanishes', () => {
    const data = simulate(800, 9, { purchase: [0.3, 0], dropout: [0, 0] })
    const fit = fitParetoNbdCovariates(data)
    const e = (process: string, name: string) =>
      fit.effects.find((x) => x.process === process && x.name === name)?.estimate ?? NaN
    const estimates = [
      e('purchase', 'channel=store'),
      e('purchase', 'region=north'),
      e('dropout', 'channel=store'),
      e('dropout', 'region=north'),
    ]
    // Σ over the four covariate patterns of Pareto/NBD at α·e^(−β_pᵀz), β·e^(−β_dᵀz).
    const total = (b: number[]) => {
      let sum = 0
      for (const [z0, z1] of [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ] as const) {
        const idx = [...data.x.keys()].filter((i) => data.z[2 * i] === z0 && data.z[2 * i + 1] === z1)
        const pick = (a: Float64Array) => Float64Array.from(idx, (i) => a[i] as number)
        const etaP = (b[0] as number) * z0 + (b[1] as number) * z1
        const etaD = (b[2] as number) * z0 + (b[3] as number) * z1
        sum += paretoNbdLogLikelihood(
          {
            ...fit.params,
            alpha: fit.params.alpha * Math.exp(-etaP),
            beta: fit.params.beta * Math.exp(-etaD),
          },
          pick(data.x),
          pick(data.tx),
          pick(data.T),
        )
      }
      return sum
    }
    expect(total(estimates)).toBeCloseTo(fit.logLikelihood, 6)
    for (let j = 0; j < 4; j++) {
      const h = 1e-4
      const up = estimates.map((v, i) => (i === j ? v + h : v))
      const down = estimates.map((v, i) => (i === j ? v - h : v))
      expect(Math.abs((total(up) - total(down)) / (2 * h)) / 800, String(j)).toBeLessThan(1e-5)
    }
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(fit.baseline.logLikelihood)
  })

  it('refuses season data and constant covariates', () => {
    const data = simulate(200, 1, { purchase: [0, 0], dropout: [0, 0] })
    const zeros = new Float64Array(200)
    expect(() =>
      fitParetoNbdCovariates({ ...data, season: { xIn: zeros, TIn: zeros, txIn: zeros } }),
    ).toThrow(/BG\/NBD only/)
    expect(() => fitParetoNbdCovariates({ ...data, z: new Float64Array(400) })).toThrow(InputError)
  })
})
