/**
 * CUPED: Controlled-experiment Using Pre-Experiment Data (Deng, Xu, Kohavi & Walker 2013, WSDM).
 * @module
 */
import { InputError } from '../../core/errors.js'
import { summarizePairs } from './summary.js'

/** Result of {@link cupedAdjust}. */
export interface CupedResult {
  /** θ = Cov(Y, X)/Var(X), pooled over all arms; 0 when X has no variance. */
  readonly theta: number
  /** Mean of the covariate over all members. */
  readonly covariateMean: number
  /** Pearson correlation ρ of Y and X. */
  readonly correlation: number
  /** Y_cv,i = Y_i − θ·(X_i − X̄). Same mean as Y, variance (1 − ρ²)·Var(Y). */
  readonly adjusted: Float64Array
  /** 1 − Var(Y_cv)/Var(Y): the share of variance removed (≈ ρ², Deng et al. 2013, eq. 4). */
  readonly varianceReduction: number
}

/**
 * Adjusts the outcome Y with the pre-period covariate X (the same metric before assignment):
 *   Ŷ_cv = Y − θ(X − X̄), θ = Cov(Y, X)/Var(X), Var(Ŷ_cv) = Var(Y)(1 − ρ²).
 * θ is estimated on the pooled sample of every arm, which keeps the adjustment independent of the
 * assignment (X is measured before it) so the difference in adjusted means stays unbiased. Arms are then
 * compared with an ordinary test on the adjusted values.
 */
export function cupedAdjust(y: ArrayLike<number>, x: ArrayLike<number>): CupedResult {
  if (y.length !== x.length)
    throw new InputError('cupedAdjust: outcome and covariate differ in length')
  const s = summarizePairs(y, x)
  const vy = s.x.variance
  const vx = s.y.variance
  const theta = vx > 0 ? s.covariance / vx : 0
  const xbar = s.y.mean
  const adjusted = new Float64Array(y.length)
  for (let i = 0; i < y.length; i++)
    adjusted[i] = (y[i] as number) - theta * ((x[i] as number) - xbar)
  const correlation = vx > 0 && vy > 0 ? s.covariance / Math.sqrt(vx * vy) : 0
  // Var(Y − θX) = Var(Y) − 2θCov + θ²Var(X) = Var(Y) − Cov²/Var(X) = Var(Y)(1 − ρ²).
  const varAdjusted = vy - theta * s.covariance
  return {
    theta,
    covariateMean: xbar,
    correlation,
    adjusted,
    varianceReduction: vy > 0 ? 1 - varAdjusted / vy : 0,
  }
}
