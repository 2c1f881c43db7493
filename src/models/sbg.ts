/**
 * The shifted-beta-geometric (sBG) model of contract renewals (Fader & Hardie 2007, "How to Project
 * Customer Retention", Journal of Interactive Marketing 21(1), 76–90).
 *
 * At the end of each period a member cancels with probability θ, constant for the member; θ ~ Beta(α, β)
 * across members. Heterogeneity makes the aggregate retention rate rise with tenure even though no
 * member's own churn probability changes.
 * @module
 */

import { InputError } from '../core/errors.js'
import { assertInteriorMinimum, minimizeFromStarts } from './optimize.js'
import type { Objective } from './optimize.js'
import { digamma, hyp2f1, logBeta } from './special-functions.js'
import { assertPositiveParams } from './params.js'

/** sBG parameters: churn probability θ ~ Beta(α, β). */
export interface SbgParams {
  readonly alpha: number
  readonly beta: number
}

/** A maximum-likelihood sBG fit. */
export interface SbgFit {
  readonly params: SbgParams
  /** Log-likelihood at the estimate (Fader & Hardie 2007). */
  readonly logLikelihood: number
  /** BFGS iterations of the winning start. */
  readonly iterations: number
  /** Always true: a fit that does not converge throws ModelFitError instead. */
  readonly converged: boolean
  /** Number of observed renewal periods (survivor counts minus one). */
  readonly periods: number
}

/** Settings of {@link fitSbg}. */
export interface SbgFitOptions {
  /** Starting points; by default (1, 1), (0.5, 2) and (2, 0.5). */
  readonly starts?: readonly SbgParams[]
  /** Gradient tolerance on the log-likelihood per starting member, in log-parameters. Default 1e-10. */
  readonly gradientTolerance?: number
  /** Default 500 per start. */
  readonly maxIterations?: number
}

function assertParams(p: SbgParams, what: string): void {
  assertPositiveParams(p, ['alpha', 'beta'], what)
}

function assertPeriod(t: number, what: string, min: number): void {
  if (!(Number.isInteger(t) && t >= min)) {
    throw InputError.single({
      field: what,
      value: String(t),
      reason: `must be an integer ≥ ${min}`,
    })
  }
}

/** Survivor counts n₀ ≥ n₁ ≥ … ≥ n_N ≥ 0 with n₀ > 0 and at least one renewal period. */
function validateSurvivors(survivors: ArrayLike<number>, what: string): void {
  if (survivors.length < 2) {
    throw new InputError(
      `${what}: needs survivor counts for period 0 and at least one later period, got ${survivors.length}`,
    )
  }
  for (let t = 0; t < survivors.length; t++) {
    const v = survivors[t] as number
    const prev = t === 0 ? Infinity : (survivors[t - 1] as number)
    if (!(Number.isFinite(v) && v >= 0 && v <= prev)) {
      throw InputError.single({
        field: `${what} survivors[${t}]`,
        value: String(v),
        reason: 'survivor counts must be finite, ≥ 0 and non-increasing',
      })
    }
  }
  if (!((survivors[0] as number) > 0)) {
    throw InputError.single({
      field: `${what} survivors[0]`,
      value: String(survivors[0]),
      reason: 'must be > 0',
    })
  }
}

/**
 * Log-likelihood of survivor counts n₀ … n_N (members active at the start of periods 0 … N) under the sBG
 * (Fader & Hardie 2007): Σ_{t=1}^{N} (n_{t−1} − n_t) log P(T = t) + n_N log S(N), with
 * P(T = t) = B(α+1, β+t−1)/B(α, β) and S(t) = B(α, β+t)/B(α, β).
 * When `gradient` is given, ∂/∂(α, β) is written into it.
 */
export function sbgLogLikelihood(
  params: SbgParams,
  survivors: ArrayLike<number>,
  gradient?: Float64Array,
): number {
  assertParams(params, 'sbgLogLikelihood')
  validateSurvivors(survivors, 'sbgLogLikelihood')
  return evaluate(survivors, params.alpha, params.beta, gradient ?? null)
}

function evaluate(
  n: ArrayLike<number>,
  alpha: number,
  beta: number,
  grad: Float64Array | null,
): number {
  const N = n.length - 1
  const lbAB = logBeta(alpha, beta)
  const psiA = grad === null ? 0 : digamma(alpha)
  const psiB = grad === null ? 0 : digamma(beta)
  const psiAB = grad === null ? 0 : digamma(alpha + beta)
  let ll = 0
  let ga = 0
  let gb = 0
  for (let t = 1; t <= N; t++) {
    const lost = (n[t - 1] as number) - (n[t] as number)
    if (lost === 0) continue
    ll += lost * (logBeta(alpha + 1, beta + t - 1) - lbAB)
    if (grad !== null) {
      const psiEnd = digamma(alpha + beta + t)
      ga += lost * (digamma(alpha + 1) - psiEnd - psiA + psiAB)
      gb += lost * (digamma(beta + t - 1) - psiEnd - psiB + psiAB)
    }
  }
  const left = n[N] as number
  if (left > 0) {
    ll += left * (logBeta(alpha, beta + N) - lbAB)
    if (grad !== null) {
      const psiEnd = digamma(alpha + beta + N)
      ga += left * (psiA - psiEnd - psiA + psiAB)
      gb += left * (digamma(beta + N) - psiEnd - psiB + psiAB)
    }
  }
  if (grad !== null) {
    grad[0] = ga
    grad[1] = gb
  }
  return ll
}

/**
 * Fit the sBG model by maximum likelihood (Fader & Hardie 2007) to survivor counts: `survivors[t]` members are
 * still active at the start of period t, `survivors[0]` is the starting cohort. Counts may be scaled
 * (percentages), since only ratios matter for the estimate. Works in (log α, log β) with the analytic
 * gradient. Throws InputError on bad counts and ModelFitError when no start converges to a proper
 * maximum (for example when nobody ever churns).
 */
export function fitSbg(survivors: ArrayLike<number>, options: SbgFitOptions = {}): SbgFit {
  validateSurvivors(survivors, 'fitSbg')
  const n0 = survivors[0] as number
  const natural = new Float64Array(2)
  const objective: Objective = {
    value: (th) =>
      -evaluate(survivors, Math.exp(th[0] as number), Math.exp(th[1] as number), null) / n0,
    valueAndGradient: (th, g) => {
      const alpha = Math.exp(th[0] as number)
      const beta = Math.exp(th[1] as number)
      const ll = evaluate(survivors, alpha, beta, natural)
      g[0] = (-alpha * (natural[0] as number)) / n0
      g[1] = (-beta * (natural[1] as number)) / n0
      return -ll / n0
    },
  }
  const defaults: SbgParams[] = [
    { alpha: 1, beta: 1 },
    { alpha: 0.5, beta: 2 },
    { alpha: 2, beta: 0.5 },
  ]
  const starts = (options.starts ?? defaults).map((s) => {
    assertParams(s, 'fitSbg start')
    return Float64Array.of(Math.log(s.alpha), Math.log(s.beta))
  })
  const { best } = minimizeFromStarts(
    objective,
    starts,
    {
      gradientTolerance: options.gradientTolerance ?? 1e-10,
      maxIterations: options.maxIterations ?? 500,
    },
    'sBG',
  )
  assertInteriorMinimum(objective, best, 'sBG')
  return {
    params: { alpha: Math.exp(best.x[0] as number), beta: Math.exp(best.x[1] as number) },
    logLikelihood: -best.value * n0,
    iterations: best.iterations,
    converged: true,
    periods: survivors.length - 1,
  }
}

/** P(T = t), the probability that a member's last period is t (t = 1, 2, …) (Fader & Hardie 2007). */
export function sbgChurnProbability(params: SbgParams, t: number): number {
  assertParams(params, 'sbgChurnProbability')
  assertPeriod(t, 'sbgChurnProbability t', 1)
  return Math.exp(
    logBeta(params.alpha + 1, params.beta + t - 1) - logBeta(params.alpha, params.beta),
  )
}

/** S(t) = B(α, β + t) / B(α, β), the share of the starting cohort still active at period t
 * (Fader & Hardie 2007). */
export function sbgSurvival(params: SbgParams, t: number): number {
  assertParams(params, 'sbgSurvival')
  assertPeriod(t, 'sbgSurvival t', 0)
  return Math.exp(logBeta(params.alpha, params.beta + t) - logBeta(params.alpha, params.beta))
}

/** S(0) … S(periods) (Fader & Hardie 2007), by the product of retention rates: S(t) = S(t−1) · r_t. */
export function sbgSurvivalCurve(params: SbgParams, periods: number): Float64Array {
  assertParams(params, 'sbgSurvivalCurve')
  assertPeriod(periods, 'sbgSurvivalCurve periods', 0)
  const out = new Float64Array(periods + 1)
  out[0] = 1
  for (let t = 1; t <= periods; t++) out[t] = (out[t - 1] as number) * retention(params, t)
  return out
}

function retention(p: SbgParams, t: number): number {
  return (p.beta + t - 1) / (p.alpha + p.beta + t - 1)
}

/** Retention rate r_t = S(t)/S(t−1) = (β + t − 1)/(α + β + t − 1), for t ≥ 1
 * (Fader & Hardie 2007): it rises with tenure as the more loyal members make up more of the cohort. */
export function sbgRetentionRate(params: SbgParams, t: number): number {
  assertParams(params, 'sbgRetentionRate')
  assertPeriod(t, 'sbgRetentionRate t', 1)
  return retention(params, t)
}

/** r_1 … r_periods (Fader & Hardie 2007); element i is r_{i+1}. */
export function sbgRetentionCurve(params: SbgParams, periods: number): Float64Array {
  assertParams(params, 'sbgRetentionCurve')
  assertPeriod(periods, 'sbgRetentionCurve periods', 0)
  const out = new Float64Array(periods)
  for (let t = 1; t <= periods; t++) out[t - 1] = retention(params, t)
  return out
}

/**
 * Expected (discounted) residual lifetime of a member active at period n: the expected number of future
 * renewals, Σ_{k≥1} S(n+k)/S(n) / (1+d)^k. Closed form ₂F₁(1, β+n; α+β+n; 1/(1+d)) − 1 (Fader & Hardie
 * 2010, "Customer-Base Valuation in a Contractual Setting: The Perils of Ignoring Heterogeneity", DERL,
 * counted here from the next renewal). Undiscounted (d = 0) it is (β+n)/(α−1) when α > 1 and Infinity
 * otherwise (the heavy tail of loyal members makes the mean diverge).
 */
export function sbgExpectedResidualLifetime(
  params: SbgParams,
  n: number,
  discountRate = 0,
): number {
  assertParams(params, 'sbgExpectedResidualLifetime')
  assertPeriod(n, 'sbgExpectedResidualLifetime n', 0)
  if (!(Number.isFinite(discountRate) && discountRate >= 0)) {
    throw InputError.single({
      field: 'sbgExpectedResidualLifetime discountRate',
      value: String(discountRate),
      reason: 'must be finite and ≥ 0',
    })
  }
  const { alpha, beta } = params
  if (discountRate === 0) return alpha > 1 ? (beta + n) / (alpha - 1) : Infinity
  const q = 1 / (1 + discountRate)
  // Near q = 1 the terms fall slowly (like q^k k^(−α)); the ₂F₁ closed form is then cheaper.
  if (q > 0.99) return hyp2f1(1, beta + n, alpha + beta + n, q) - 1
  // Σ_{k≥1} Π_{j=1..k} r_{n+j} q^k: the terms fall at least geometrically by q (every r < 1).
  let term = 1
  let sum = 0
  for (let k = 1; k < 100_000; k++) {
    term *= retention(params, n + k) * q
    sum += term
    if (term <= 1e-17 * (1 - q) * sum) break
  }
  return sum
}
