/**
 * The shape every two-sample comparison returns: the treatment-minus-control difference with its standard
 * error, a two-sided confidence interval and p-value, and the relative lift with its own interval.
 * @module
 */
import { normalQuantile } from './distributions.js'

/** A comparison of one variant with the control. */
export interface Effect {
  /** Which test produced it. */
  readonly method: 'two-proportion-z' | 'welch-t' | 'delta-ratio' | 'z'
  readonly control: number
  readonly treatment: number
  /** treatment − control. */
  readonly difference: number
  readonly standardError: number
  /** Two-sided confidence interval of the difference at `level`. */
  readonly ci: readonly [number, number]
  /** treatment / control − 1 (NaN when the control is 0). */
  readonly relativeLift: number
  /** Delta-method interval of the relative lift (see {@link relativeLiftInterval}). */
  readonly relativeCi: readonly [number, number]
  /** z or t statistic. */
  readonly statistic: number
  /** Degrees of freedom of a t statistic (Infinity for z). */
  readonly df: number
  readonly pValue: number
  readonly level: number
}

/**
 * Interval of the relative lift r = m_t / m_c − 1 for independent arm means, by the delta method:
 * Var(m_t/m_c) ≈ Var(m_t)/m_c² + m_t² Var(m_c)/m_c⁴ (Deng, Knoblich & Lu 2018, KDD, §3.2 eq. 5).
 */
export function relativeLiftInterval(
  meanControl: number,
  varMeanControl: number,
  meanTreatment: number,
  varMeanTreatment: number,
  level: number,
): { lift: number; ci: readonly [number, number] } {
  if (meanControl === 0) return { lift: NaN, ci: [NaN, NaN] }
  const lift = meanTreatment / meanControl - 1
  const v =
    varMeanTreatment / meanControl ** 2 + (meanTreatment ** 2 * varMeanControl) / meanControl ** 4
  const h = zCritical(level) * Math.sqrt(v)
  return { lift, ci: [lift - h, lift + h] }
}

/** Two-sided critical value z_{1−(1−level)/2}. */
export function zCritical(level: number): number {
  return normalQuantile(1 - (1 - level) / 2)
}
