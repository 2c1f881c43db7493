/**
 * The fast BG/NBD fit: the analytic Hessian, Newton's method, the coarser time grid with its automatic
 * check on the exact summaries, and the time limit.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ModelFitError } from '../core/errors.js'
import { bgNbdLogLikelihood, fitBgNbd } from './bg-nbd.js'
import type { BgNbdParams } from './bg-nbd.js'
import { groupSummaries, roundSummariesToGrid } from './group-summaries.js'
import { fitGammaGamma } from './gamma-gamma.js'
import { minimizeNewton } from './optimize.js'
import {
  bgNbdStandardErrors,
  covarianceFromInformation,
  gammaGammaStandardErrors,
} from './standard-errors.js'
import { trigamma } from './special-functions.js'

function readCdnow(): { x: Float64Array; tx: Float64Array; T: Float64Array; zbar: Float64Array } {
  const url = new URL(
    '../../data/cdnow/cdnow_customers_summary_with_transactions.csv',
    import.meta.url,
  )
  const lines = readFileSync(url, 'utf8').trim().split(/\r?\n/).slice(1)
  const cols = lines.map((l) => l.split(',').map(Number))
  return {
    x: Float64Array.from(cols, (c) => c[1] as number),
    tx: Float64Array.from(cols, (c) => c[2] as number),
    T: Float64Array.from(cols, (c) => c[3] as number),
    zbar: Float64Array.from(cols, (c) => c[4] as number),
  }
}

const cdnow = readCdnow()
const NAMES = ['r', 'alpha', 'a', 'b'] as const

describe('BG/NBD analytic Hessian', () => {
  it('matches central differences of the analytic gradient, with and without weights', () => {
    const g = groupSummaries(cdnow.x, cdnow.tx, cdnow.T)
    for (const p of [
      { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
      { r: 1.7, alpha: 0.6, a: 2.2, b: 0.4 },
    ] satisfies BgNbdParams[]) {
      for (const w of [undefined, g.weights]) {
        const data = w === undefined ? cdnow : g
        const H = new Float64Array(16)
        const grad = new Float64Array(4)
        const ll = bgNbdLogLikelihood(p, data.x, data.tx, data.T, w, grad, H)
        // The value and gradient do not depend on whether the Hessian is asked for.
        const grad2 = new Float64Array(4)
        expect(bgNbdLogLikelihood(p, data.x, data.tx, data.T, w, grad2)).toBe(ll)
        expect(Array.from(grad2)).toEqual(Array.from(grad))
        for (let j = 0; j < 4; j++) {
          const name = NAMES[j] as (typeof NAMES)[number]
          const h = 1e-6 * p[name]
          const up = new Float64Array(4)
          const down = new Float64Array(4)
          bgNbdLogLikelihood({ ...p, [name]: p[name] + h }, data.x, data.tx, data.T, w, up)
          bgNbdLogLikelihood({ ...p, [name]: p[name] - h }, data.x, data.tx, data.T, w, down)
          for (let i = 0; i < 4; i++) {
            const fd = ((up[i] as number) - (down[i] as number)) / (2 * h)
            const exact = H[i * 4 + j] as number
            expect(Math.abs(exact - fd)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)))
            expect(H[j * 4 + i]).toBe(exact)
          }
        }
      }
    }
  })

  it('trigamma: ψ′(1) = π²/6, ψ′(1/2) = π²/2 and the recurrence ψ′(x) = ψ′(x + 1) + 1/x²', () => {
    expect(trigamma(1)).toBeCloseTo(Math.PI ** 2 / 6, 14)
    expect(trigamma(0.5)).toBeCloseTo(Math.PI ** 2 / 2, 14)
    for (const x of [0.03, 0.7, 3.2, 9.5, 10, 44]) {
      expect(Math.abs(trigamma(x) - trigamma(x + 1) - 1 / (x * x))).toBeLessThan(
        1e-13 * trigamma(x),
      )
    }
    expect(trigamma(0)).toBeNaN()
    expect(trigamma(-1.5)).toBeNaN()
  })
})

describe('Newton minimisation', () => {
  it('finds the minimum of a convex quartic in a few steps and reports the Hessian there', () => {
    // f = Σ (xᵢ − cᵢ)⁴/4 + (xᵢ − cᵢ)²/2 + x₀x₁/4
    const c = [1, -2]
    const run = minimizeNewton(
      {
        valueGradientHessian: (x, g, H) => {
          const d0 = (x[0] as number) - (c[0] as number)
          const d1 = (x[1] as number) - (c[1] as number)
          g[0] = d0 ** 3 + d0 + (x[1] as number) / 4
          g[1] = d1 ** 3 + d1 + (x[0] as number) / 4
          H[0] = 3 * d0 ** 2 + 1
          H[1] = 0.25
          H[2] = 0.25
          H[3] = 3 * d1 ** 2 + 1
          return (
            d0 ** 4 / 4 +
            d0 ** 2 / 2 +
            d1 ** 4 / 4 +
            d1 ** 2 / 2 +
            ((x[0] as number) * (x[1] as number)) / 4
          )
        },
      },
      Float64Array.of(8, 8),
      { gradientTolerance: 1e-12 },
    )
    expect(run.converged).toBe(true)
    expect(run.iterations).toBeLessThan(20)
    expect(run.gradientNorm).toBeLessThanOrEqual(1e-12)
    expect(run.hessian[1]).toBe(0.25)
  })

  it('stops with converged: false and the reason when the time limit runs out', () => {
    const run = minimizeNewton(
      {
        valueGradientHessian: (x, g, H) => {
          g[0] = 2 * ((x[0] as number) - 3)
          H[0] = 2
          return ((x[0] as number) - 3) ** 2
        },
      },
      Float64Array.of(0),
      { timeLimitMs: 0 },
    )
    expect(run.converged).toBe(false)
    expect(run.message).toMatch(/time limit/)
  })
})

describe('fast BG/NBD fit', () => {
  it('gives CDNOW’s maximum-likelihood estimate from the default starts and returns the observed information', () => {
    const fit = fitBgNbd(cdnow.x, cdnow.tx, cdnow.T)
    // The published estimates (Fader, Hardie & Lee 2005) to their printed digits.
    expect(fit.params.r).toBeCloseTo(0.243, 3)
    expect(fit.params.alpha).toBeCloseTo(4.414, 3)
    expect(fit.params.a).toBeCloseTo(0.793, 3)
    expect(fit.params.b).toBeCloseTo(2.426, 3)
    const info = fit.logInformation as Float64Array
    expect(info).toBeInstanceOf(Float64Array)
    // Information = −∂² log L/∂log θᵢ∂log θⱼ; its diagonal is positive at a maximum.
    for (let i = 0; i < 4; i++) expect(info[i * 5]).toBeGreaterThan(0)
  })

  it('on a grid that barely moves the estimate, the grid fit is kept and is within 1e-4 of the exact fit', () => {
    // CDNOW's T and t_x are in weeks, printed to two decimals: a grid of one day moves them a little.
    const exact = fitBgNbd(cdnow.x, cdnow.tx, cdnow.T)
    const onGrid = fitBgNbd(cdnow.x, cdnow.tx, cdnow.T, { timeGrid: 1 / 7 })
    expect(onGrid.timeGrid?.refitOnExact).toBe(false)
    expect(onGrid.timeGrid?.estimatedShift).toBeLessThan(1e-4)
    const shift = onGrid.timeGrid?.estimatedShift as number
    for (const k of NAMES) {
      const moved = Math.abs(onGrid.params[k] / exact.params[k] - 1)
      expect(moved).toBeLessThan(1e-4)
      // The check's estimate is the real distance to first order.
      expect(moved).toBeLessThan(1.1 * shift)
    }
    expect(onGrid.logLikelihood).toBeCloseTo(exact.logLikelihood, 3)
  })

  it('a coarse grid that moves the estimate is detected and refitted on the exact summaries', () => {
    const exact = fitBgNbd(cdnow.x, cdnow.tx, cdnow.T)
    const coarse = fitBgNbd(cdnow.x, cdnow.tx, cdnow.T, { timeGrid: 1 })
    const report = coarse.timeGrid
    expect(report?.refitOnExact).toBe(true)
    expect(report?.estimatedShift).toBeGreaterThan(1e-4)
    expect(report?.distinctSummaries).toBeLessThan(exact.distinctSummaries)
    // The refit lands on the exact estimate, not on the grid's.
    for (const k of NAMES)
      expect(Math.abs(coarse.params[k] / exact.params[k] - 1)).toBeLessThan(1e-6)
    // The estimated shift is the real one to first order: compare with the grid-only fit.
    const g = roundSummariesToGrid(
      { x: cdnow.x, tx: cdnow.tx, T: cdnow.T, weights: new Float64Array(cdnow.x.length).fill(1) },
      1,
    )
    const gridOnly = fitBgNbd(g.x, g.tx, g.T, { weights: g.weights })
    const realShift = Math.max(
      ...NAMES.map((k) => Math.abs(Math.log(exact.params[k] / gridOnly.params[k]))),
    )
    expect(Math.abs((report?.estimatedShift as number) / realShift - 1)).toBeLessThan(0.05)
  })

  it('rounding to a grid keeps t_x ≤ T, adds the weights and rejects a bad step', () => {
    const g = roundSummariesToGrid(
      {
        x: Float64Array.of(1, 1, 0),
        tx: Float64Array.of(2.9, 3.2, 0),
        T: Float64Array.of(3.05, 3.4, 5.2),
        weights: Float64Array.of(2, 3, 1),
      },
      1,
    )
    expect(Array.from(g.x)).toEqual([1, 0])
    expect(Array.from(g.tx)).toEqual([3, 0])
    expect(Array.from(g.T)).toEqual([3, 5])
    expect(Array.from(g.weights)).toEqual([5, 1])
    expect(() => fitBgNbd(cdnow.x, cdnow.tx, cdnow.T, { timeGrid: 0 })).toThrow(/timeGrid/)
  })

  it('a fit whose time limit runs out throws ModelFitError naming the limit', () => {
    expect(() => fitBgNbd(cdnow.x, cdnow.tx, cdnow.T, { timeLimitMs: 0 })).toThrow(ModelFitError)
    expect(() => fitBgNbd(cdnow.x, cdnow.tx, cdnow.T, { timeLimitMs: 0 })).toThrow(/time limit/)
  })
})

describe('standard errors from the fits’ information', () => {
  it('BG/NBD: the analytic information gives the standard errors of the numerical observed information', () => {
    const fit = fitBgNbd(cdnow.x, cdnow.tx, cdnow.T)
    const cov = covarianceFromInformation(fit.logInformation as Float64Array, 4)
    const numerical = bgNbdStandardErrors(fit.params, cdnow.x, cdnow.tx, cdnow.T).standardErrors
    NAMES.forEach((k, i) => {
      const se = fit.params[k] * Math.sqrt(cov[i * 5] as number)
      expect(Math.abs(se / numerical[k] - 1)).toBeLessThan(1e-5)
    })
  })

  it('Gamma–Gamma: the fit’s information gives the standard errors computed on their own', () => {
    const fit = fitGammaGamma(cdnow.x, cdnow.zbar)
    const cov = covarianceFromInformation(fit.logInformation as Float64Array, 3)
    const own = gammaGammaStandardErrors(fit.params, cdnow.x, cdnow.zbar).standardErrors
    ;(['p', 'q', 'gamma'] as const).forEach((k, i) => {
      const se = fit.params[k] * Math.sqrt(cov[i * 4] as number)
      expect(Math.abs(se / own[k] - 1)).toBeLessThan(1e-5)
    })
  })
})
