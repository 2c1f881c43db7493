/**
 * Matched comparison by exact matching on coarsened covariates (coarsened exact matching, Iacus, King &
 * Porro 2012, Political Analysis 20(1)): the average effect on the treated (ATT) as a weighted sum of
 * within-stratum differences. Observational: it removes differences in the matched covariates only.
 * @module
 */
import { InputError } from '../../core/errors.js'
import { normalSf } from './distributions.js'
import { zCritical } from './effect.js'

/** Result of {@link stratifiedDifference}. */
export interface StratifiedEffect {
  /** Treated members in strata that also hold comparison members (the ones the ATT describes). */
  readonly treatedMatched: number
  /** Treated members dropped because their stratum has no comparison member. */
  readonly treatedUnmatched: number
  readonly comparisonMatched: number
  readonly strata: number
  /** Σ_s w_s·ȳ_t,s and Σ_s w_s·ȳ_c,s with w_s = n_t,s / N_t (the comparison re-weighted to the treated). */
  readonly treatedMean: number
  readonly comparisonMean: number
  readonly difference: number
  /** √(Σ_s w_s²·(s²_t,s/n_t,s + s²_c,s/n_c,s)); strata with one member use the pooled variance. */
  readonly standardError: number
  readonly ci: readonly [number, number]
  readonly pValue: number
  readonly level: number
}

/**
 * ATT = Σ_s w_s·(ȳ_t,s − ȳ_c,s), w_s = n_t,s/N_t over strata s holding both groups. The within-stratum
 * variances are sample variances; a group of one member in a stratum borrows the variance of its whole group
 * (a conservative fallback). Normal interval.
 */
export function stratifiedDifference(
  strata: ArrayLike<number>,
  treated: ArrayLike<number>,
  y: ArrayLike<number>,
  level = 0.95,
): StratifiedEffect {
  const n = y.length
  if (strata.length !== n || treated.length !== n)
    throw new InputError('stratifiedDifference: lengths differ')
  type Acc = { n: number; s: number; ss: number }
  const cells = new Map<number, [Acc, Acc]>()
  const whole: [Acc, Acc] = [
    { n: 0, s: 0, ss: 0 },
    { n: 0, s: 0, ss: 0 },
  ]
  for (let i = 0; i < n; i++) {
    const k = strata[i] as number
    const g = treated[i] ? 1 : 0
    const v = y[i] as number
    let cell = cells.get(k)
    if (!cell) {
      cell = [
        { n: 0, s: 0, ss: 0 },
        { n: 0, s: 0, ss: 0 },
      ]
      cells.set(k, cell)
    }
    for (const a of [cell[g], whole[g]]) {
      a.n++
      a.s += v
      a.ss += v * v
    }
  }
  const variance = (a: Acc): number =>
    a.n > 1 ? Math.max(0, (a.ss - (a.s * a.s) / a.n) / (a.n - 1)) : NaN
  const fallback = [variance(whole[0]), variance(whole[1])]
  let treatedMatched = 0
  let treatedUnmatched = 0
  let comparisonMatched = 0
  let used = 0
  for (const [c, t] of cells.values()) {
    if (t.n === 0) continue
    if (c.n === 0) treatedUnmatched += t.n
    else {
      treatedMatched += t.n
      comparisonMatched += c.n
      used++
    }
  }
  let mt = 0
  let mc = 0
  let v = 0
  for (const [c, t] of cells.values()) {
    if (t.n === 0 || c.n === 0) continue
    const w = t.n / treatedMatched
    mt += (w * t.s) / t.n
    mc += (w * c.s) / c.n
    const vt = t.n > 1 ? variance(t) : (fallback[1] as number)
    const vc = c.n > 1 ? variance(c) : (fallback[0] as number)
    v += w * w * (vt / t.n + vc / c.n)
  }
  const se = Math.sqrt(v)
  const diff = mt - mc
  const h = zCritical(level) * se
  return {
    treatedMatched,
    treatedUnmatched,
    comparisonMatched,
    strata: used,
    treatedMean: mt,
    comparisonMean: mc,
    difference: diff,
    standardError: se,
    ci: [diff - h, diff + h],
    pValue: se > 0 ? 2 * normalSf(Math.abs(diff / se)) : 1,
    level,
  }
}
