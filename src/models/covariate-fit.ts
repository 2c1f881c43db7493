/**
 * What the covariate fits of the repeat-buying models share: the maximisation of the log-likelihood, the
 * observed information by central differences of an analytic gradient, the base parameters on log scale with
 * their standard errors, Wald intervals of the effects, and the likelihood-ratio test, AIC and BIC against the
 * model without covariates.
 * @module
 */
import { ModelFitError } from '../core/errors.js'
import { assertInteriorMinimum, minimizeFromStarts, type Objective } from './optimize.js'
import { negativeHessianInverse } from './standard-errors.js'
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

/** A maximum-likelihood covariate fit of a model with base parameters `P`. */
export interface CovariateModelFit<P> {
  /** Base parameters: those of a member at every reference level (outside windows, for BG/NBD's season). */
  readonly params: P
  readonly baseStandardErrors: Readonly<Record<keyof P, number>>
  readonly effects: readonly CovariateEffect[]
  readonly logLikelihood: number
  /** The plain model on the same summaries, and the likelihood-ratio test against it. */
  readonly baseline: { readonly params: P; readonly logLikelihood: number }
  readonly lrt: { readonly statistic: number; readonly df: number; readonly pValue: number }
  readonly aic: number
  readonly bic: number
  readonly confidenceLevel: number
  readonly members: number
  readonly iterations: number
  /** Covariance of (the base parameters' logs, β_p…, β_d…, then γ for BG/NBD's season), row-major. */
  readonly covariance: Float64Array
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
  const cov = negativeHessianInverse(theta, gradient, (v) => 1e-5 * Math.max(1, Math.abs(v)))
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

/** The maximum of a covariate model's log-likelihood, with the covariance of θ there. */
export interface CovariateMaximum {
  readonly theta: Float64Array
  readonly covariance: Float64Array
  readonly logLikelihood: number
  readonly iterations: number
}

/**
 * Maximises `logLikelihood(θ, gradient)` (which writes ∂ log L/∂θ into `gradient` when it is given) from
 * `start`, the per-member mean being minimised so that the tolerances do not depend on the base's size;
 * checks the optimum is an interior minimum and returns it with its covariance ({@link covarianceAt}).
 */
export function maximizeCovariateLikelihood(
  what: string,
  start: Float64Array,
  members: number,
  logLikelihood: (theta: Float64Array, gradient: Float64Array | null) => number,
): CovariateMaximum {
  const scale = 1 / members
  const objective: Objective = {
    value: (t) => -logLikelihood(t, null) * scale,
    valueAndGradient: (t, out) => {
      const v = -logLikelihood(t, out) * scale
      for (let j = 0; j < out.length; j++) out[j] = -(out[j] as number) * scale
      return v
    },
  }
  const { best } = minimizeFromStarts(objective, [start], { maxIterations: 1000 }, what)
  assertInteriorMinimum(objective, best, what)
  const covariance = covarianceAt(
    best.x,
    (t, out) => {
      logLikelihood(t, out)
    },
    what,
    best.iterations,
  )
  return {
    theta: best.x,
    covariance,
    logLikelihood: -best.value / scale,
    iterations: best.iterations,
  }
}

/**
 * The base parameters θ₀…θₖ₋₁ of a fit on log scale, named in `names` order: each exp(θⱼ) and its standard
 * error by the delta method, exp(θⱼ)·SE(θⱼ).
 */
export function baseParameters<K extends string>(
  names: readonly K[],
  m: CovariateMaximum,
): { readonly params: Record<K, number>; readonly standardErrors: Record<K, number> } {
  const n = m.theta.length
  const params = {} as Record<K, number>
  const standardErrors = {} as Record<K, number>
  names.forEach((name, j) => {
    const value = Math.exp(m.theta[j] as number)
    params[name] = value
    standardErrors[name] = value * Math.sqrt(m.covariance[j * n + j] as number)
  })
  return { params, standardErrors }
}

/** The likelihood-ratio test against the model without covariates, AIC and BIC of a fit on `members`. */
export function covariateModelComparison(
  m: CovariateMaximum,
  baselineLogLikelihood: number,
  baseParameterCount: number,
  members: number,
): {
  readonly lrt: ReturnType<typeof likelihoodRatioTest>
  readonly aic: number
  readonly bic: number
} {
  const size = m.theta.length
  const ll = m.logLikelihood
  return {
    lrt: likelihoodRatioTest(ll, baselineLogLikelihood, size - baseParameterCount),
    aic: 2 * size - 2 * ll,
    bic: size * Math.log(members) - 2 * ll,
  }
}
