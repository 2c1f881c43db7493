/**
 * The three repeat-buying models fitted to the CDNOW sample (2,357 customers, 39-week calibration period)
 * against the published estimates quoted in data/README.md.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fitBgNbd, groupSummaries, probabilityAliveMany } from './bg-nbd.js'
import {
  conditionalExpectedAverageSpendMany,
  fitGammaGamma,
  frequencySpendCorrelation,
} from './gamma-gamma.js'
import { fitParetoNbd } from './pareto-nbd.js'

interface Cdnow {
  readonly x: Float64Array
  readonly tx: Float64Array
  readonly T: Float64Array
  readonly zbar: Float64Array
}

/** ID,x,t_x,T,zbar — parsed by hand (four numeric columns after the id). */
function readCdnow(): Cdnow {
  const url = new URL(
    '../../data/cdnow/cdnow_customers_summary_with_transactions.csv',
    import.meta.url,
  )
  const lines = readFileSync(url, 'utf8').trim().split(/\r?\n/)
  expect(lines[0]).toBe('ID,x,t_x,T,zbar')
  const n = lines.length - 1
  const data = {
    x: new Float64Array(n),
    tx: new Float64Array(n),
    T: new Float64Array(n),
    zbar: new Float64Array(n),
  }
  for (let i = 0; i < n; i++) {
    const cells = (lines[i + 1] as string).split(',').map(Number)
    data.x[i] = cells[1] as number
    data.tx[i] = cells[2] as number
    data.T[i] = cells[3] as number
    data.zbar[i] = cells[4] as number
  }
  return data
}

/**
 * Agreement to `figures` significant figures: |actual − published| ≤ half a unit in the last of those
 * figures of the published number (so 0.243 at 3 figures allows ±0.0005).
 */
function expectSignificant(actual: number, published: number, figures: number): void {
  const unit = 10 ** (Math.floor(Math.log10(Math.abs(published))) - figures + 1)
  expect(Math.abs(actual - published)).toBeLessThanOrEqual(unit / 2)
}

const cdnow = readCdnow()

describe('CDNOW sample', () => {
  it('has 2,357 customers, 946 of them repeat buyers', () => {
    expect(cdnow.x.length).toBe(2357)
    expect(cdnow.x.filter((v) => v > 0).length).toBe(946)
  })

  it('BG/NBD matches r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4', () => {
    const fit = fitBgNbd(cdnow.x, cdnow.tx, cdnow.T)
    // Tolerance: 3 significant figures for the parameters; the log-likelihood to the one decimal
    // published (±0.05).
    expectSignificant(fit.params.r, 0.243, 3)
    expectSignificant(fit.params.alpha, 4.414, 3)
    expectSignificant(fit.params.a, 0.793, 3)
    expectSignificant(fit.params.b, 2.426, 3)
    expect(Math.abs(fit.logLikelihood - -9582.4)).toBeLessThanOrEqual(0.05)
    expect(fit.converged).toBe(true)
    expect(fit.members).toBe(2357)
    expect(fit.distinctSummaries).toBeLessThan(2357)
  })

  it('Pareto/NBD matches r = 0.553, α = 10.578, s = 0.606, β = 11.669, LL = −9595.0', () => {
    const fit = fitParetoNbd(cdnow.x, cdnow.tx, cdnow.T)
    // Same tolerances as for BG/NBD.
    expectSignificant(fit.params.r, 0.553, 3)
    expectSignificant(fit.params.alpha, 10.578, 3)
    expectSignificant(fit.params.s, 0.606, 3)
    expectSignificant(fit.params.beta, 11.669, 3)
    expect(Math.abs(fit.logLikelihood - -9595.0)).toBeLessThanOrEqual(0.05)
  })

  it('Gamma–Gamma on the 946 repeat buyers matches p = 6.25, q = 3.74, γ = 15.44', () => {
    const fit = fitGammaGamma(cdnow.x, cdnow.zbar)
    // Tolerance: 3 significant figures (p ± 0.005, q ± 0.005, γ ± 0.05).
    expect(fit.members).toBe(946)
    expectSignificant(fit.params.p, 6.25, 3)
    expectSignificant(fit.params.q, 3.74, 3)
    expectSignificant(fit.params.gamma, 15.44, 3)
    // lifetimes' documentation lists E[Z | x, z̄] for the first customers of this file as 24.658619,
    // 18.911489, 35.170981 (x = 0), …, 71.462843 (ID 6); to ±0.001.
    const spend = conditionalExpectedAverageSpendMany(fit.params, cdnow.x, cdnow.zbar)
    for (const [i, v] of [
      [0, 24.658619],
      [1, 18.911489],
      [2, 35.170981],
      [5, 71.462843],
    ] as const) {
      expect(Math.abs((spend[i] as number) - v)).toBeLessThan(0.001)
    }
  })

  it('frequency and spend are nearly uncorrelated (r ≈ 0.11), so Gamma–Gamma applies', () => {
    // lifetimes' documentation reports 0.113884 for the repeat buyers of this file.
    expect(frequencySpendCorrelation(cdnow.x, cdnow.zbar)).toBeCloseTo(0.113884, 5)
  })

  it('1,001,725 members (the sample 425 times) fit to the same BG/NBD estimates via grouping', () => {
    const copies = 425
    const n = cdnow.x.length
    const big = {
      x: new Float64Array(n * copies),
      tx: new Float64Array(n * copies),
      T: new Float64Array(n * copies),
    }
    for (let c = 0; c < copies; c++) {
      big.x.set(cdnow.x, c * n)
      big.tx.set(cdnow.tx, c * n)
      big.T.set(cdnow.T, c * n)
    }
    const small = fitBgNbd(cdnow.x, cdnow.tx, cdnow.T)
    const fit = fitBgNbd(big.x, big.tx, big.T)
    expect(fit.members).toBe(n * copies)
    expect(fit.distinctSummaries).toBe(small.distinctSummaries)
    for (const k of ['r', 'alpha', 'a', 'b'] as const) {
      expect(Math.abs(fit.params[k] / small.params[k] - 1)).toBeLessThan(1e-5)
    }
    expect(fit.logLikelihood / copies).toBeCloseTo(small.logLikelihood, 4)
    // Explicit weights from groupSummaries give the same fit, and per-member predictions run vectorised.
    const g = groupSummaries(big.x, big.tx, big.T)
    const weighted = fitBgNbd(g.x, g.tx, g.T, { weights: g.weights })
    expect(weighted.params.r).toBeCloseTo(fit.params.r, 8)
    const alive = probabilityAliveMany(fit.params, big.x, big.tx, big.T)
    expect(alive[n * 7]).toBe(alive[0])
  })
})
