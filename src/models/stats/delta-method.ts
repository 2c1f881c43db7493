/**
 * Ratio metrics whose denominator is not the randomisation unit (AOV = revenue / orders, return rate =
 * returned amount / revenue): the variance of a ratio of two per-member means by the delta method.
 * @module
 */
import { InputError } from '../../core/errors.js'
import { normalSf } from './distributions.js'
import { relativeLiftInterval, zCritical, type Effect } from './effect.js'
import { summarizePairs } from './summary.js'

/** A ratio metric in one arm: R = Σy/Σx = ȳ/x̄ and Var(R) by the delta method. */
export interface RatioSummary {
  /** Randomisation units (members), including those with x = 0. */
  readonly n: number
  readonly numerator: number
  readonly denominator: number
  readonly ratio: number
  /** Var(R̂) ≈ (1/n)·(s_y²/x̄² − 2·ȳ·s_xy/x̄³ + ȳ²·s_x²/x̄⁴). */
  readonly variance: number
}

/**
 * R = ȳ/x̄ over members with per-member numerator y and denominator x. First-order Taylor expansion of
 * g(ȳ, x̄) = ȳ/x̄ around the means (Deng, Knoblich & Lu 2018, "Applying the Delta Method in Metric
 * Analytics", KDD, eq. 3):
 *   Var(R̂) ≈ (1/n)·(s_y²/x̄² − 2·(ȳ/x̄³)·s_xy + (ȳ²/x̄⁴)·s_x²).
 */
export function ratioSummary(y: ArrayLike<number>, x: ArrayLike<number>): RatioSummary {
  const s = summarizePairs(y, x)
  const n = s.x.n
  if (n < 2) throw new InputError(`ratioSummary: need at least 2 members, got ${n}`)
  const my = s.x.mean
  const mx = s.y.mean
  if (!(mx > 0)) throw new InputError('ratioSummary: the denominator has mean 0')
  const variance =
    (s.x.variance / mx ** 2 -
      (2 * my * s.covariance) / mx ** 3 +
      (my ** 2 * s.y.variance) / mx ** 4) /
    n
  return {
    n,
    numerator: my * n,
    denominator: mx * n,
    ratio: my / mx,
    variance: Math.max(0, variance),
  }
}

/**
 * Treatment-minus-control difference of a ratio metric: Δ = R_t − R_c, SE = √(Var R_t + Var R_c)
 * (the arms are independent), z = Δ/SE, CI = Δ ± z_{1−α/2}·SE.
 */
export function ratioDifference(
  control: RatioSummary,
  treatment: RatioSummary,
  level = 0.95,
): Effect {
  const se = Math.sqrt(control.variance + treatment.variance)
  const diff = treatment.ratio - control.ratio
  const z = se > 0 ? diff / se : 0
  const h = zCritical(level) * se
  const rel = relativeLiftInterval(
    control.ratio,
    control.variance,
    treatment.ratio,
    treatment.variance,
    level,
  )
  return {
    method: 'delta-ratio',
    control: control.ratio,
    treatment: treatment.ratio,
    difference: diff,
    standardError: se,
    ci: [diff - h, diff + h],
    relativeLift: rel.lift,
    relativeCi: rel.ci,
    statistic: z,
    df: Infinity,
    pValue: se > 0 ? 2 * normalSf(Math.abs(z)) : 1,
    level,
  }
}
