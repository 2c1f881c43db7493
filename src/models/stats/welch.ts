/**
 * Welch's unequal-variance t-test on two sample summaries.
 * @module
 */
import { InputError } from '../../core/errors.js'
import { studentTQuantile, studentTSf } from './distributions.js'
import { relativeLiftInterval, type Effect } from './effect.js'
import type { SampleSummary } from './summary.js'

/**
 * Welch's t-test of treatment mean against control mean (Welch 1947, Biometrika 34):
 *   SE = √(s_c²/n_c + s_t²/n_t), t = (x̄_t − x̄_c)/SE,
 *   ν = (s_c²/n_c + s_t²/n_t)² / ((s_c²/n_c)²/(n_c − 1) + (s_t²/n_t)²/(n_t − 1))   (Welch–Satterthwaite),
 *   CI = Δ ± t_{1−α/2, ν}·SE.
 */
export function welchTTest(control: SampleSummary, treatment: SampleSummary, level = 0.95): Effect {
  if (control.n < 2 || treatment.n < 2) {
    throw new InputError(
      `welchTTest: each arm needs at least 2 values (${control.n}, ${treatment.n})`,
    )
  }
  const vc = control.variance / control.n
  const vt = treatment.variance / treatment.n
  const se = Math.sqrt(vc + vt)
  const diff = treatment.mean - control.mean
  const df =
    se > 0 ? (vc + vt) ** 2 / (vc ** 2 / (control.n - 1) + vt ** 2 / (treatment.n - 1)) : Infinity
  const t = se > 0 ? diff / se : 0
  const q = studentTQuantile(1 - (1 - level) / 2, df)
  const rel = relativeLiftInterval(control.mean, vc, treatment.mean, vt, level)
  return {
    method: 'welch-t',
    control: control.mean,
    treatment: treatment.mean,
    difference: diff,
    standardError: se,
    ci: [diff - q * se, diff + q * se],
    relativeLift: rel.lift,
    relativeCi: rel.ci,
    statistic: t,
    df,
    pValue: se > 0 ? 2 * studentTSf(Math.abs(t), df) : diff === 0 ? 1 : 0,
    level,
  }
}
