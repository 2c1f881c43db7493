/**
 * Sample-ratio mismatch: are the observed arm sizes compatible with the intended split?
 * @module
 */
import { InputError } from '../../core/errors.js'
import { chiSquareSf } from './distributions.js'

/** Result of {@link srmTest}. */
export interface SrmResult {
  readonly observed: readonly number[]
  readonly expected: readonly number[]
  /** Pearson χ² = Σ (O − E)²/E. */
  readonly chiSquare: number
  readonly df: number
  readonly pValue: number
  /** p below `threshold`: the assignment (or the data pipeline) is broken; do not trust the effects. */
  readonly mismatch: boolean
  readonly threshold: number
}

/**
 * Pearson's chi-square goodness-of-fit test of the arm counts against the intended weights
 * (E_i = N·w_i/Σw, df = k − 1). The customary alarm threshold is p < 0.001 (Fabijan et al. 2019,
 * "Diagnosing Sample Ratio Mismatch in Online Controlled Experiments", KDD), strict because the check runs
 * on every experiment and a real mismatch gives tiny p-values at typical sizes.
 */
export function srmTest(
  observed: readonly number[],
  weights: readonly number[] = observed.map(() => 1),
  threshold = 0.001,
): SrmResult {
  if (observed.length < 2 || observed.length !== weights.length) {
    throw new InputError('srmTest: need at least two arms and one weight per arm')
  }
  const total = observed.reduce((s, v) => s + v, 0)
  const wsum = weights.reduce((s, v) => s + v, 0)
  if (!(wsum > 0) || weights.some((w) => !(w > 0)))
    throw new InputError('srmTest: weights must be positive')
  const expected = weights.map((w) => (total * w) / wsum)
  let chi = 0
  observed.forEach((o, i) => {
    const e = expected[i] as number
    if (e > 0) chi += (o - e) ** 2 / e
  })
  const df = observed.length - 1
  const pValue = total > 0 ? chiSquareSf(chi, df) : 1
  return { observed, expected, chiSquare: chi, df, pValue, mismatch: pValue < threshold, threshold }
}
