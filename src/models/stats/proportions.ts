/**
 * Proportions: the two-proportion z-test and the Wilson score interval.
 * @module
 */
import { InputError } from '../../core/errors.js'
import { normalSf } from './distributions.js'
import { relativeLiftInterval, zCritical, type Effect } from './effect.js'

/** Successes out of trials. */
export interface Binomial {
  readonly successes: number
  readonly n: number
}

function check(b: Binomial, label: string): void {
  if (!(b.n > 0) || b.successes < 0 || b.successes > b.n) {
    throw new InputError(`${label}: need 0 ≤ successes ≤ n and n > 0, got ${b.successes}/${b.n}`)
  }
}

/**
 * Two-proportion z-test of treatment against control.
 *
 * The test statistic uses the pooled proportion under H₀ (p₁ = p₂):
 *   p̄ = (x_c + x_t)/(n_c + n_t), z = (p̂_t − p̂_c) / √(p̄(1 − p̄)(1/n_c + 1/n_t)),
 * and the confidence interval the unpooled (Wald) standard error
 *   SE = √(p̂_c(1 − p̂_c)/n_c + p̂_t(1 − p̂_t)/n_t), CI = Δ ± z_{1−α/2}·SE
 * (Agresti, Categorical Data Analysis, 3rd ed., §1.4 and §2.2.3).
 */
export function twoProportionZTest(control: Binomial, treatment: Binomial, level = 0.95): Effect {
  check(control, 'twoProportionZTest control')
  check(treatment, 'twoProportionZTest treatment')
  const pc = control.successes / control.n
  const pt = treatment.successes / treatment.n
  const pooled = (control.successes + treatment.successes) / (control.n + treatment.n)
  const se0 = Math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n))
  const vc = (pc * (1 - pc)) / control.n
  const vt = (pt * (1 - pt)) / treatment.n
  const se = Math.sqrt(vc + vt)
  const diff = pt - pc
  const z = se0 > 0 ? diff / se0 : 0
  const h = zCritical(level) * se
  const rel = relativeLiftInterval(pc, vc, pt, vt, level)
  return {
    method: 'two-proportion-z',
    control: pc,
    treatment: pt,
    difference: diff,
    standardError: se,
    ci: [diff - h, diff + h],
    relativeLift: rel.lift,
    relativeCi: rel.ci,
    statistic: z,
    df: Infinity,
    pValue: se0 > 0 ? 2 * normalSf(Math.abs(z)) : 1,
    level,
  }
}

/**
 * Wilson score interval for a proportion (Wilson 1927, JASA 22(158)):
 *   centre = (p̂ + z²/2n) / (1 + z²/n), half-width = z/(1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²).
 * Good coverage for small n and proportions near 0 or 1 (Brown, Cai & DasGupta 2001, Stat. Sci. 16(2)).
 * n = 0 gives [0, 1].
 */
export function wilsonInterval(
  successes: number,
  n: number,
  level = 0.95,
): readonly [number, number] {
  if (n === 0) return [0, 1]
  check({ successes, n }, 'wilsonInterval')
  const z = zCritical(level)
  const p = successes / n
  const z2n = (z * z) / n
  const centre = (p + z2n / 2) / (1 + z2n)
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))
  // At x = 0 (x = n) the bound is exactly 0 (1); rounding would leave a residue of 1e-17.
  return [
    successes === 0 ? 0 : Math.max(0, centre - half),
    successes === n ? 1 : Math.min(1, centre + half),
  ]
}
