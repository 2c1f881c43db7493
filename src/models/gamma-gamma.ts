/**
 * The Gamma–Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value
 * Curves for Customer Base Analysis", Journal of Marketing Research 42(4); Fader & Hardie 2013, "The
 * Gamma-Gamma Model of Monetary Value").
 *
 * A member's transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ) across members, so the mean value
 * of their x transactions, z̄, carries information about their own expected spend E[Z] = p/ν. The model
 * assumes spend is independent of purchase frequency: check {@link frequencySpendCorrelation} first.
 * @module
 */

import { InputError } from '../core/errors.js'
import { assertInteriorMinimum, minimizeFromStarts } from './optimize.js'
import type { Objective } from './optimize.js'
import { CompensatedSum, digamma, lgamma } from './special-functions.js'
import { assertPositiveParams } from './params.js'

/** Gamma–Gamma parameters: transaction values Gamma(shape p, rate ν), ν ~ Gamma(shape q, rate γ). */
export interface GammaGammaParams {
  readonly p: number
  readonly q: number
  readonly gamma: number
}

/** A maximum-likelihood Gamma–Gamma fit. */
export interface GammaGammaFit {
  readonly params: GammaGammaParams
  /** Σ log f(z̄ | x) over the members used, at the estimate. */
  readonly logLikelihood: number
  /** BFGS iterations of the winning start. */
  readonly iterations: number
  /** Always true: a fit that does not converge throws ModelFitError instead. */
  readonly converged: boolean
  /** Members with x > 0 that entered the fit (sum of their weights). */
  readonly members: number
  /**
   * −∇² log L at the estimate in log-parameters (log p, log q, log γ), row-major 3×3, summed over members
   * (central differences of the analytic gradient): its inverse is the covariance of the log-parameters.
   */
  readonly logInformation?: Float64Array
}

/** Settings of {@link fitGammaGamma}. */
export interface GammaGammaFitOptions {
  /** Members per row. */
  readonly weights?: Float64Array
  /** Starting points; by default three, scaled to the mean spend. */
  readonly starts?: readonly GammaGammaParams[]
  /** Gradient tolerance on the mean log-likelihood per member, in log-parameters. Default 1e-8. */
  readonly gradientTolerance?: number
  /** Default 500 per start. */
  readonly maxIterations?: number
}

function assertParams(p: GammaGammaParams, what: string): void {
  assertPositiveParams(p, ['p', 'q', 'gamma'], what)
}

/** The repeat buyers (x > 0), with the sums that do not depend on the parameters. */
interface Prepared {
  readonly x: Float64Array
  readonly zbar: Float64Array
  readonly w: Float64Array
  /** Distinct x with total weight: Γ terms depend on x only. */
  readonly xs: Float64Array
  readonly wx: Float64Array
  readonly totalWeight: number
  /** Σ w x (log z̄ + log x) and Σ w log z̄. */
  readonly sumWxLogXz: number
  readonly sumWLogZ: number
}

function prepare(
  x: Float64Array,
  zbar: Float64Array,
  weights: Float64Array | undefined,
  what: string,
): Prepared {
  const n = x.length
  if (zbar.length !== n || (weights !== undefined && weights.length !== n)) {
    throw new InputError(
      `${what}: x, zbar${weights ? ' and weights' : ''} must have the same length`,
    )
  }
  let m = 0
  for (let i = 0; i < n; i++) {
    const xi = x[i] as number
    if (!(Number.isInteger(xi) && xi >= 0)) {
      throw InputError.single({
        field: `${what} x[${i}]`,
        value: String(xi),
        reason: 'must be a non-negative integer',
      })
    }
    const wi = weights === undefined ? 1 : (weights[i] as number)
    if (!(Number.isFinite(wi) && wi >= 0)) {
      throw InputError.single({
        field: `${what} weights[${i}]`,
        value: String(wi),
        reason: 'must be finite and ≥ 0',
      })
    }
    if (xi > 0 && wi > 0) {
      const z = zbar[i] as number
      if (!(Number.isFinite(z) && z > 0)) {
        throw InputError.single({
          field: `${what} zbar[${i}]`,
          value: String(z),
          reason: 'must be > 0 for a member with repeat transactions',
        })
      }
      m++
    }
  }
  if (m === 0) throw new InputError(`${what}: no members with repeat transactions (x > 0)`)
  const px = new Float64Array(m)
  const pz = new Float64Array(m)
  const pw = new Float64Array(m)
  const byX = new Map<number, number>()
  let k = 0
  let total = 0
  const sumWxLogXz = new CompensatedSum()
  const sumWLogZ = new CompensatedSum()
  for (let i = 0; i < n; i++) {
    const xi = x[i] as number
    const wi = weights === undefined ? 1 : (weights[i] as number)
    if (!(xi > 0 && wi > 0)) continue
    const z = zbar[i] as number
    px[k] = xi
    pz[k] = z
    pw[k] = wi
    k++
    total += wi
    byX.set(xi, (byX.get(xi) ?? 0) + wi)
    const logZ = Math.log(z)
    sumWxLogXz.add(wi * xi * (logZ + Math.log(xi)))
    sumWLogZ.add(wi * logZ)
  }
  return {
    x: px,
    zbar: pz,
    w: pw,
    xs: Float64Array.from(byX.keys()),
    wx: Float64Array.from(byX.values()),
    totalWeight: total,
    sumWxLogXz: sumWxLogXz.value,
    sumWLogZ: sumWLogZ.value,
  }
}

/**
 * Σ w log f(z̄ | p, q, γ; x), the density of a member's mean transaction value z̄ over x transactions
 * (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value"):
 * f(z̄) = Γ(px+q) / (Γ(px)Γ(q)) · γ^q z̄^(px−1) x^(px) / (γ + x z̄)^(px+q).
 */
function evaluate(
  d: Prepared,
  p: number,
  q: number,
  gamma: number,
  grad: Float64Array | null,
): number {
  const lgQ = lgamma(q)
  const logGamma = Math.log(gamma)
  // Compensated sums: the terms are large and cancel (see CompensatedSum).
  const ll = new CompensatedSum()
  const gp = new CompensatedSum()
  const gq = new CompensatedSum()
  const gg = new CompensatedSum()
  ll.add(p * d.sumWxLogXz)
  ll.add(-d.sumWLogZ)
  ll.add(d.totalWeight * (q * logGamma - lgQ))
  gp.add(d.sumWxLogXz)
  gq.add(d.totalWeight * (logGamma - (grad === null ? 0 : digamma(q))))
  gg.add((d.totalWeight * q) / gamma)
  for (let k = 0; k < d.xs.length; k++) {
    const x = d.xs[k] as number
    const w = d.wx[k] as number
    const px = p * x
    ll.add(w * (lgamma(px + q) - lgamma(px)))
    if (grad !== null) {
      const psiPxQ = digamma(px + q)
      gp.add(w * x * (psiPxQ - digamma(px)))
      gq.add(w * psiPxQ)
    }
  }
  for (let i = 0; i < d.x.length; i++) {
    const w = d.w[i] as number
    const x = d.x[i] as number
    const base = gamma + x * (d.zbar[i] as number)
    const logBase = Math.log(base)
    const pxq = p * x + q
    ll.add(-w * pxq * logBase)
    if (grad !== null) {
      gp.add(-w * x * logBase)
      gq.add(-w * logBase)
      gg.add((-w * pxq) / base)
    }
  }
  if (grad !== null) {
    grad[0] = gp.value
    grad[1] = gq.value
    grad[2] = gg.value
  }
  return ll.value
}

/**
 * Σ over members with x > 0 of weight × log f(z̄ | x) (Gamma–Gamma marginal density of the mean
 * transaction value). When `gradient` is given, ∂/∂(p, q, γ) is written into it.
 */
export function gammaGammaLogLikelihood(
  params: GammaGammaParams,
  x: Float64Array,
  zbar: Float64Array,
  weights?: Float64Array,
  gradient?: Float64Array,
): number {
  assertParams(params, 'gammaGammaLogLikelihood')
  const d = prepare(x, zbar, weights, 'gammaGammaLogLikelihood')
  return evaluate(d, params.p, params.q, params.gamma, gradient ?? null)
}

/**
 * Fit the Gamma–Gamma model by maximum likelihood on the members with x > 0, using their mean repeat
 * transaction value z̄ (members with x = 0 are skipped, as in the paper). Works in log-parameters with
 * the analytic gradient and BFGS from several starts. Throws InputError on bad input (no repeat buyers,
 * z̄ ≤ 0) and ModelFitError when no start converges to a proper maximum.
 */
export function fitGammaGamma(
  x: Float64Array,
  zbar: Float64Array,
  options: GammaGammaFitOptions = {},
): GammaGammaFit {
  const d = prepare(x, zbar, options.weights, 'fitGammaGamma')
  const W = d.totalWeight
  const natural = new Float64Array(3)
  const objective: Objective = {
    value: (th) =>
      -evaluate(
        d,
        Math.exp(th[0] as number),
        Math.exp(th[1] as number),
        Math.exp(th[2] as number),
        null,
      ) / W,
    valueAndGradient: (th, g) => {
      const p = Math.exp(th[0] as number)
      const q = Math.exp(th[1] as number)
      const gamma = Math.exp(th[2] as number)
      const ll = evaluate(d, p, q, gamma, natural)
      g[0] = (-p * (natural[0] as number)) / W
      g[1] = (-q * (natural[1] as number)) / W
      g[2] = (-gamma * (natural[2] as number)) / W
      return -ll / W
    },
  }
  let sz = 0
  for (let i = 0; i < d.x.length; i++) sz += (d.w[i] as number) * (d.zbar[i] as number)
  const mean = sz / W
  // Starts whose population mean spend pγ/(q − 1) equals the observed mean.
  const defaults: GammaGammaParams[] = [
    { p: 1, q: 2, gamma: mean },
    { p: 5, q: 4, gamma: (3 * mean) / 5 },
    { p: 1, q: 1, gamma: 1 },
  ]
  const starts = (options.starts ?? defaults).map((s) => {
    assertParams(s, 'fitGammaGamma start')
    return Float64Array.of(Math.log(s.p), Math.log(s.q), Math.log(s.gamma))
  })
  const { best } = minimizeFromStarts(
    objective,
    starts,
    {
      gradientTolerance: options.gradientTolerance ?? 1e-8,
      maxIterations: options.maxIterations ?? 500,
    },
    'Gamma–Gamma',
  )
  // The check's Hessian (of the mean −log L) is the observed information per member.
  const hessian = assertInteriorMinimum(objective, best, 'Gamma–Gamma')
  return {
    params: {
      p: Math.exp(best.x[0] as number),
      q: Math.exp(best.x[1] as number),
      gamma: Math.exp(best.x[2] as number),
    },
    logLikelihood: -best.value * W,
    logInformation: hessian.map((v) => v * W),
    iterations: best.iterations,
    converged: true,
    members: W,
  }
}

/**
 * Population mean spend per transaction E[Z] = pγ/(q − 1) (Fader & Hardie 2013); Infinity when q ≤ 1
 * (the mean does not exist).
 */
export function populationMeanSpend(params: GammaGammaParams): number {
  assertParams(params, 'populationMeanSpend')
  return params.q > 1 ? (params.p * params.gamma) / (params.q - 1) : Infinity
}

/**
 * E[Z | x, z̄] = p(γ + x z̄) / (px + q − 1) (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie
 * 2013): a weighted average of the population mean pγ/(q − 1) and the member's own z̄, with weight
 * px/(px + q − 1) on z̄. With x = 0 it is the population mean (z̄ is ignored).
 */
export function conditionalExpectedAverageSpend(
  params: GammaGammaParams,
  x: number,
  zbar: number,
): number {
  assertParams(params, 'conditionalExpectedAverageSpend')
  return expectedSpend(params, x, zbar)
}

function expectedSpend(pr: GammaGammaParams, x: number, zbar: number): number {
  if (x === 0) return pr.q > 1 ? (pr.p * pr.gamma) / (pr.q - 1) : Infinity
  const denominator = pr.p * x + pr.q - 1
  return denominator > 0 ? (pr.p * (pr.gamma + x * zbar)) / denominator : Infinity
}

/** {@link conditionalExpectedAverageSpend} for every member, into `out` (allocated when omitted). */
export function conditionalExpectedAverageSpendMany(
  params: GammaGammaParams,
  x: Float64Array,
  zbar: Float64Array,
  out?: Float64Array,
): Float64Array {
  assertParams(params, 'conditionalExpectedAverageSpendMany')
  const n = x.length
  if (zbar.length !== n || (out !== undefined && out.length !== n)) {
    throw new InputError(
      'conditionalExpectedAverageSpendMany: input arrays must have the same length',
    )
  }
  const result = out ?? new Float64Array(n)
  for (let i = 0; i < n; i++) result[i] = expectedSpend(params, x[i] as number, zbar[i] as number)
  return result
}

/**
 * Pearson correlation between purchase frequency x and mean spend z̄ over the members with x > 0. The
 * Gamma–Gamma model assumes these are independent; a clear correlation (say |ρ| > 0.3) means its spend
 * predictions, and the CLV built on them, are biased. Throws InputError with fewer than two repeat buyers;
 * NaN when either variable is constant.
 */
export function frequencySpendCorrelation(x: Float64Array, zbar: Float64Array): number {
  if (zbar.length !== x.length) {
    throw new InputError('frequencySpendCorrelation: x and zbar must have the same length')
  }
  let n = 0
  let mx = 0
  let mz = 0
  for (let i = 0; i < x.length; i++) {
    if (!((x[i] as number) > 0)) continue
    n++
    mx += x[i] as number
    mz += zbar[i] as number
  }
  if (n < 2) {
    throw new InputError(
      `frequencySpendCorrelation: needs at least two members with x > 0, got ${n}`,
    )
  }
  mx /= n
  mz /= n
  // Two passes (means first) avoid the cancellation of the one-pass formula.
  let sxx = 0
  let szz = 0
  let sxz = 0
  for (let i = 0; i < x.length; i++) {
    if (!((x[i] as number) > 0)) continue
    const dx = (x[i] as number) - mx
    const dz = (zbar[i] as number) - mz
    sxx += dx * dx
    szz += dz * dz
    sxz += dx * dz
  }
  return sxx > 0 && szz > 0 ? sxz / Math.sqrt(sxx * szz) : NaN
}
