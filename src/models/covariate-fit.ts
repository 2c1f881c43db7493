/**
 * What the covariate fits of the repeat-buying models share: the observed information by central
 * differences of an analytic gradient, Wald intervals of the effects and the likelihood-ratio test against
 * the model without covariates.
 * @module
 */
import { ModelFitError } from '../core/errors.js'
import { invertSpd } from './standard-errors.js'
import { chiSquareSf, normalQuantile, normalSf } from './stats/distributions.js'

/** Which process an effect acts on. */
export type EffectProcess = 'purchase' | 'dropout'

/** One estimated effect: a coefficient with its standard error and Wald interval. */
export interface CovariateEffect {
  /** Covariate name, or `season` for the seasonal effect. */
  readonly name: string
  readonly process: EffectProcess
  /** β (log multiplier of the purchase rate, or of the drop-out's odds or rate). */
  readonly estimate: number
  readonly standardError: number
  /** Wald interval β ± z·SE at the fit's confidence level. */
  readonly lower: number
  readonly upper: number
  /** exp(β): the multiplier itself. */
  readonly multiplier: number
  /** Two-sided Wald p-value of β = 0. */
  readonly pValue: number
}

/**
 * Covariance of the estimate: the inverse of −∇² log L at θ, the Hessian by central differences of
 * `gradient(θ, out)` (which writes ∂ log L/∂θ). Throws ModelFitError when it is not positive definite.
 */
export function covarianceAt(
  theta: Float64Array,
  gradient: (theta: Float64Array, out: Float64Array) => void,
  what: string,
  iterations: number,
): Float64Array {
  const n = theta.length
  const H = new Float64Array(n * n)
  const up = new Float64Array(n)
  const down = new Float64Array(n)
  const t = Float64Array.from(theta)
  for (let j = 0; j < n; j++) {
    const v = t[j] as number
    const h = 1e-5 * Math.max(1, Math.abs(v))
    t[j] = v + h
    gradient(t, up)
    t[j] = v - h
    gradient(t, down)
    t[j] = v
    for (let i = 0; i < n; i++) H[i * n + j] = -((up[i] as number) - (down[i] as number)) / (2 * h)
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const s = 0.5 * ((H[i * n + j] as number) + (H[j * n + i] as number))
      H[i * n + j] = s
      H[j * n + i] = s
    }
  }
  const cov = invertSpd(H, n)
  if (cov === null) {
    throw new ModelFitError(
      `${what}: the observed information is not positive definite: the estimate is not a proper maximum`,
      iterations,
    )
  }
  return cov
}

/** The effect of coordinate j of θ with its Wald interval at `level`. */
export function waldEffect(
  name: string,
  process: EffectProcess,
  theta: Float64Array,
  cov: Float64Array,
  j: number,
  level: number,
): CovariateEffect {
  const n = theta.length
  const est = theta[j] as number
  const se = Math.sqrt(cov[j * n + j] as number)
  const zq = normalQuantile(0.5 + level / 2)
  return {
    name,
    process,
    estimate: est,
    standardError: se,
    lower: est - zq * se,
    upper: est + zq * se,
    multiplier: Math.exp(est),
    pValue: 2 * normalSf(Math.abs(est / se)),
  }
}

/** 2(log L − log L₀) against χ² with `df` degrees of freedom. */
export function likelihoodRatioTest(
  logLikelihood: number,
  baselineLogLikelihood: number,
  df: number,
): { readonly statistic: number; readonly df: number; readonly pValue: number } {
  const statistic = Math.max(0, 2 * (logLikelihood - baselineLogLikelihood))
  return { statistic, df, pValue: chiSquareSf(statistic, df) }
}
