/**
 * Asymptotic standard errors of the maximum-likelihood fits from the observed information: the inverse of
 * the Hessian of −log L at the estimate (e.g. Casella & Berger, "Statistical Inference", 2nd ed., §10.1.3).
 * The Hessian is taken by central differences of the analytic gradient in log-parameters, and the
 * delta method turns SE(log θ) into SE(θ) = θ · SE(log θ).
 * @module
 */

import { ModelFitError } from '../core/errors.js'
import { bgNbdLogLikelihood } from './bg-nbd.js'
import type { BgNbdParams } from './bg-nbd.js'
import { gammaGammaLogLikelihood } from './gamma-gamma.js'
import type { GammaGammaParams } from './gamma-gamma.js'
import { groupSummaries } from './group-summaries.js'

/** Standard errors and the covariance of the log-parameters (row-major, in the order of `names`). */
export interface StandardErrors<K extends string> {
  readonly standardErrors: Readonly<Record<K, number>>
  /** Covariance matrix of (log θ₁, …, log θₖ). */
  readonly logCovariance: Float64Array
  readonly names: readonly K[]
}

/**
 * Inverse of −∇² log L at θ, the Hessian by central differences of `gradient(θ, g)` (which writes
 * ∂ log L/∂θ into g) with the step `step(θⱼ)` in each coordinate, symmetrised; null when −∇² log L is not
 * positive definite.
 */
export function negativeHessianInverse(
  theta: Float64Array,
  gradient: (theta: Float64Array, g: Float64Array) => void,
  step: (value: number) => number,
): Float64Array | null {
  const n = theta.length
  const t = Float64Array.from(theta)
  const H = new Float64Array(n * n)
  const up = new Float64Array(n)
  const down = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    const v = t[j] as number
    const h = step(v)
    t[j] = v + h
    gradient(t, up)
    t[j] = v - h
    gradient(t, down)
    t[j] = v
    // Information = −Hessian of log L.
    for (let i = 0; i < n; i++) H[i * n + j] = -((up[i] as number) - (down[i] as number)) / (2 * h)
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const s = 0.5 * ((H[i * n + j] as number) + (H[j * n + i] as number))
      H[i * n + j] = s
      H[j * n + i] = s
    }
  }
  return invertSpd(H, n)
}

/**
 * Inverse of −∇² log L in log-parameters. `gradient(θ, g)` writes ∂ log L/∂θ (natural parameters) into g.
 * Throws ModelFitError when the observed information is not positive definite (no proper maximum).
 */
export function observedInformationInverse(
  theta: Float64Array,
  gradient: (theta: Float64Array, g: Float64Array) => void,
  step = 1e-5,
): Float64Array {
  const n = theta.length
  const logTheta = theta.map(Math.log)
  const natural = new Float64Array(n)
  // ∂ log L/∂ log θ = θ ∂ log L/∂θ
  const logGradient = (lt: Float64Array, out: Float64Array): void => {
    const t = lt.map(Math.exp)
    gradient(t, natural)
    for (let i = 0; i < n; i++) out[i] = (t[i] as number) * (natural[i] as number)
  }
  const inverse = negativeHessianInverse(logTheta, logGradient, () => step)
  if (inverse === null) {
    throw new ModelFitError(
      'the observed information is not positive definite: the estimate is not a proper maximum',
      0,
    )
  }
  return inverse
}

/**
 * The covariance of the log-parameters from the observed information in log-parameters (−∇² log L, as a
 * fit with an analytic Hessian returns it). Throws ModelFitError when it is not positive definite.
 */
export function covarianceFromInformation(information: Float64Array, n: number): Float64Array {
  const inverse = invertSpd(information, n)
  if (inverse === null) {
    throw new ModelFitError(
      'the observed information is not positive definite: the estimate is not a proper maximum',
      0,
    )
  }
  return inverse
}

/** Inverse of a symmetric positive-definite matrix by Cholesky; null when it is not positive definite. */
export function invertSpd(A: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j] as number
      for (let k = 0; k < j; k++) s -= (L[i * n + k] as number) * (L[j * n + k] as number)
      if (i === j) {
        if (!(s > 0)) return null
        L[i * n + i] = Math.sqrt(s)
      } else L[i * n + j] = s / (L[j * n + j] as number)
    }
  }
  const inv = new Float64Array(n * n)
  const col = new Float64Array(n)
  for (let c = 0; c < n; c++) {
    // Solve L Lᵀ v = e_c.
    for (let i = 0; i < n; i++) {
      let s = i === c ? 1 : 0
      for (let k = 0; k < i; k++) s -= (L[i * n + k] as number) * (col[k] as number)
      col[i] = s / (L[i * n + i] as number)
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = col[i] as number
      for (let k = i + 1; k < n; k++) s -= (L[k * n + i] as number) * (col[k] as number)
      col[i] = s / (L[i * n + i] as number)
    }
    for (let i = 0; i < n; i++) inv[i * n + c] = col[i] as number
  }
  return inv
}

/**
 * Standard errors of estimates `theta` (in `names` order) from `cov`, the covariance of their logarithms, by the
 * delta method: SE(θᵢ) = θᵢ·√cov_ii.
 */
export function logScaleStandardErrors<K extends string>(
  names: readonly K[],
  theta: Float64Array,
  cov: Float64Array,
): StandardErrors<K> {
  const n = names.length
  const se = {} as Record<K, number>
  names.forEach((k, i) => {
    se[k] = (theta[i] as number) * Math.sqrt(cov[i * n + i] as number)
  })
  return { standardErrors: se, logCovariance: cov, names }
}

/**
 * Standard errors of BG/NBD maximum-likelihood estimates (observed information of Fader, Hardie & Lee
 * 2005, eq. 6, summed over members). Identical summaries are grouped first.
 */
export function bgNbdStandardErrors(
  params: BgNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): StandardErrors<'r' | 'alpha' | 'a' | 'b'> {
  const g = groupSummaries(x, tx, T)
  const theta = Float64Array.of(params.r, params.alpha, params.a, params.b)
  const cov = observedInformationInverse(theta, (t, out) => {
    bgNbdLogLikelihood(
      { r: t[0] as number, alpha: t[1] as number, a: t[2] as number, b: t[3] as number },
      g.x,
      g.tx,
      g.T,
      g.weights,
      out,
    )
  })
  return logScaleStandardErrors(['r', 'alpha', 'a', 'b'] as const, theta, cov)
}

/** Standard errors of Gamma–Gamma maximum-likelihood estimates (members with x > 0 enter, as in the fit). */
export function gammaGammaStandardErrors(
  params: GammaGammaParams,
  x: Float64Array,
  zbar: Float64Array,
): StandardErrors<'p' | 'q' | 'gamma'> {
  const theta = Float64Array.of(params.p, params.q, params.gamma)
  const cov = observedInformationInverse(theta, (t, out) => {
    gammaGammaLogLikelihood(
      { p: t[0] as number, q: t[1] as number, gamma: t[2] as number },
      x,
      zbar,
      undefined,
      out,
    )
  })
  return logScaleStandardErrors(['p', 'q', 'gamma'] as const, theta, cov)
}
