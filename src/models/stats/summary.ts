/**
 * Sample moments: mean, variance (n − 1 denominator) and covariance, by Welford's one-pass update
 * (Welford 1962, Technometrics 4(3)), which stays accurate when the mean is large against the spread.
 * @module
 */
import { InputError } from '../../core/errors.js'

/** Size, mean and sample variance of one sample. */
export interface SampleSummary {
  readonly n: number
  readonly mean: number
  /** Sample variance s² = Σ(x − x̄)² / (n − 1); 0 when n < 2. */
  readonly variance: number
}

/** Mean and variance of `x` (NaN values are an error: callers decide what missing means). */
export function summarize(x: ArrayLike<number>): SampleSummary {
  let mean = 0
  let m2 = 0
  const n = x.length
  for (let i = 0; i < n; i++) {
    const v = x[i] as number
    if (Number.isNaN(v)) throw new InputError(`summarize: value ${i} is NaN`)
    const d = v - mean
    mean += d / (i + 1)
    m2 += d * (v - mean)
  }
  return { n, mean: n > 0 ? mean : NaN, variance: n > 1 ? m2 / (n - 1) : 0 }
}

/** Moments of a paired sample (x, y): both summaries and the sample covariance. */
export interface PairedSummary {
  readonly x: SampleSummary
  readonly y: SampleSummary
  /** Σ(x − x̄)(y − ȳ) / (n − 1); 0 when n < 2. */
  readonly covariance: number
}

/** Means, variances and covariance of paired values (equal lengths). */
export function summarizePairs(x: ArrayLike<number>, y: ArrayLike<number>): PairedSummary {
  const n = x.length
  if (y.length !== n) throw new InputError('summarizePairs: samples differ in length')
  let mx = 0
  let my = 0
  let sxx = 0
  let syy = 0
  let sxy = 0
  for (let i = 0; i < n; i++) {
    const a = x[i] as number
    const b = y[i] as number
    const dx = a - mx
    const dy = b - my
    mx += dx / (i + 1)
    my += dy / (i + 1)
    sxx += dx * (a - mx)
    syy += dy * (b - my)
    sxy += dx * (b - my)
  }
  const k = n > 1 ? 1 / (n - 1) : 0
  return {
    x: { n, mean: n > 0 ? mx : NaN, variance: sxx * k },
    y: { n, mean: n > 0 ? my : NaN, variance: syy * k },
    covariance: sxy * k,
  }
}
