/**
 * Net Promoter Score (Reichheld 2003, HBR) with a confidence interval that behaves for small samples.
 * @module
 */
import { InputError } from '../../core/errors.js'
import { zCritical } from './effect.js'

/** Counts of NPS answers by class. */
export interface NpsCounts {
  /** Scores 9–10. */
  readonly promoters: number
  /** Scores 7–8. */
  readonly passives: number
  /** Scores 0–6. */
  readonly detractors: number
}

/** NPS on the −100…100 scale with its interval. */
export interface NpsResult extends NpsCounts {
  readonly n: number
  readonly nps: number
  readonly ci: readonly [number, number]
  readonly method: 'adjusted-wald'
}

/** Class of one 0–10 answer. */
export function npsClass(score: number): 'promoter' | 'passive' | 'detractor' {
  return score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor'
}

/**
 * NPS = 100·(p₊ − p₋). Each answer is a value in {−1, 0, +1}, so NPS/100 is a mean with variance
 * Var = p₊ + p₋ − (p₊ − p₋)² per answer (multinomial). The interval is the **adjusted Wald** interval of
 * Rocks (2016, "Interval Estimation for the 'Net Promoter Score'", The American Statistician 70(4)):
 * add 3/4 of a promoter, 3/2 of a passive and 3/4 of a detractor (n + 3 answers) before computing
 *   p̃₊, p̃₋, Ṽ = p̃₊ + p̃₋ − (p̃₊ − p̃₋)², CI = 100·[(p̃₊ − p̃₋) ± z·√(Ṽ/(n + 3))], clipped to ±100.
 * The pseudo-counts pull small samples towards 0 and keep the interval from collapsing when every answer is
 * a promoter (the plain Wald interval then has width 0). The point estimate stays the plain NPS.
 */
export function netPromoterScore(c: NpsCounts, level = 0.95): NpsResult {
  const n = c.promoters + c.passives + c.detractors
  if ([c.promoters, c.passives, c.detractors].some((v) => v < 0)) {
    throw new InputError('netPromoterScore: counts must be non-negative')
  }
  const nps = n > 0 ? (100 * (c.promoters - c.detractors)) / n : NaN
  const m = n + 3
  const pp = (c.promoters + 0.75) / m
  const pd = (c.detractors + 0.75) / m
  const v = pp + pd - (pp - pd) ** 2
  const h = zCritical(level) * Math.sqrt(v / m)
  const centre = pp - pd
  return {
    ...c,
    n,
    nps,
    ci: [Math.max(-100, 100 * (centre - h)), Math.min(100, 100 * (centre + h))],
    method: 'adjusted-wald',
  }
}
