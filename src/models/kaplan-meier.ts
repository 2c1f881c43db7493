/**
 * The Kaplan–Meier product-limit estimator of a survival function with right censoring (Kaplan & Meier 1958,
 * _JASA_ 53(282)), Greenwood's variance (Greenwood 1926), pointwise confidence intervals and the median with
 * the Brookmeyer–Crowley interval (Brookmeyer & Crowley 1982, _Biometrics_ 38(1)).
 *
 * Pure: numbers in, a frozen result out.
 * @module
 */
import { InputError } from '../core/errors.js'

/**
 * How the pointwise interval is built from Greenwood's variance. `log-log` (default, as lifelines): on
 * log(−log S), always inside [0, 1]; `log` (R's survfit default): on log S, upper end clipped at 1; `plain`:
 * S ± z·se, clipped to [0, 1].
 */
export type ConfidenceType = 'log-log' | 'log' | 'plain'

export interface KaplanMeierOptions {
  /** Two-sided confidence level, default 0.95. */
  readonly confidence?: number
  readonly confidenceType?: ConfidenceType
  /** Number of subjects each (time, event) entry stands for (aggregated input); default 1 each. */
  readonly counts?: ArrayLike<number>
}

/** The estimate just after one distinct event time. */
export interface KaplanMeierStep {
  readonly time: number
  /** Subjects with time ≥ this time (censored at this time are still at risk). */
  readonly atRisk: number
  readonly events: number
  /** Subjects censored at times in [this time, next event time). */
  readonly censored: number
  readonly survival: number
  /** Greenwood standard error of S(t). */
  readonly stdError: number
  /** Interval bounds; null where undefined (S = 0, or S = 1 for the log-log interval). */
  readonly lower: number | null
  readonly upper: number | null
}

export interface KaplanMeierResult {
  readonly subjects: number
  readonly events: number
  /** Subjects censored before the first event time. */
  readonly censoredBeforeFirstEvent: number
  readonly steps: readonly KaplanMeierStep[]
  /** First time with S(t) ≤ 0.5, or null if the curve never gets there. */
  readonly median: number | null
  /** First time whose lower bound is ≤ 0.5 (null if none). */
  readonly medianLower: number | null
  /** First time whose upper bound is ≤ 0.5 (null if none: the interval is open-ended). */
  readonly medianUpper: number | null
  readonly confidence: number
  readonly confidenceType: ConfidenceType
}

/** Complementary error function, |relative error| < 1.2e-7 (Chebyshev fit; Press et al., Numerical Recipes §6.2). */
export function erfc(x: number): number {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? r : 2 - r
}

/** The z with P(|Z| ≤ z) = confidence for a standard normal Z (bisection on erfc; 1e-10 absolute). */
export function twoSidedZ(confidence: number): number {
  if (!(confidence > 0 && confidence < 1))
    throw new InputError(`confidence must lie in (0, 1), got ${confidence}`)
  const tail = 1 - confidence
  let lo = 0
  let hi = 40
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2
    if (erfc(mid / Math.SQRT2) > tail) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

function interval(
  s: number,
  greenwoodSum: number,
  z: number,
  type: ConfidenceType,
): { lower: number | null; upper: number | null } {
  if (!Number.isFinite(greenwoodSum) || s <= 0) return { lower: null, upper: null }
  switch (type) {
    case 'plain': {
      const se = s * Math.sqrt(greenwoodSum)
      return { lower: Math.max(0, s - z * se), upper: Math.min(1, s + z * se) }
    }
    case 'log': {
      const seLog = Math.sqrt(greenwoodSum)
      return { lower: s * Math.exp(-z * seLog), upper: Math.min(1, s * Math.exp(z * seLog)) }
    }
    case 'log-log': {
      if (s >= 1) return { lower: null, upper: null }
      const logS = Math.log(s)
      const se = Math.sqrt(greenwoodSum) / Math.abs(logS)
      const f = Math.exp(z * se)
      return { lower: s ** f, upper: s ** (1 / f) }
    }
    default: {
      const _exhaustive: never = type
      throw new Error(`unknown confidence type ${String(_exhaustive)}`)
    }
  }
}

/**
 * Fits the Kaplan–Meier curve. `times` ≥ 0; `events[i]` is 1 (or true) for an observed event, 0 for a
 * censored subject.
 *
 * ```ts
 * const km = fitKaplanMeier([1, 2, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 0, 1])
 * km.median // 4
 * ```
 */
export function fitKaplanMeier(
  times: ArrayLike<number>,
  events: ArrayLike<number | boolean>,
  options: KaplanMeierOptions = {},
): KaplanMeierResult {
  const n = times.length
  if (events.length !== n) throw new InputError('times and events must have the same length')
  const counts = options.counts
  if (counts !== undefined && counts.length !== n) throw new InputError('counts must match times')
  const confidence = options.confidence ?? 0.95
  const type = options.confidenceType ?? 'log-log'
  const z = twoSidedZ(confidence)
  const order = new Uint32Array(n)
  let subjects = 0
  for (let i = 0; i < n; i++) {
    const t = times[i] as number
    if (!(t >= 0) || !Number.isFinite(t))
      throw new InputError(`time ${i} is not a finite non-negative number`)
    const c = counts === undefined ? 1 : (counts[i] as number)
    if (!(c >= 0)) throw new InputError(`count ${i} is negative`)
    subjects += c
    order[i] = i
  }
  order.sort((a, b) => (times[a] as number) - (times[b] as number))

  const steps: KaplanMeierStep[] = []
  let atRisk = subjects
  let s = 1
  let greenwood = 0
  let totalEvents = 0
  let censoredBefore = 0
  let pendingCensored = 0
  let i = 0
  while (i < n) {
    const t = times[order[i] as number] as number
    let d = 0
    let c = 0
    while (i < n && (times[order[i] as number] as number) === t) {
      const k = order[i] as number
      const w = counts === undefined ? 1 : (counts[k] as number)
      if (events[k]) d += w
      else c += w
      i++
    }
    if (d > 0) {
      const last = steps.at(-1)
      if (last === undefined) censoredBefore = pendingCensored
      else steps[steps.length - 1] = { ...last, censored: pendingCensored }
      pendingCensored = 0
      s *= 1 - d / atRisk
      greenwood += atRisk > d ? d / (atRisk * (atRisk - d)) : Infinity
      totalEvents += d
      const ci = interval(s, greenwood, z, type)
      steps.push({
        time: t,
        atRisk,
        events: d,
        censored: 0,
        survival: s,
        stdError: Number.isFinite(greenwood) ? s * Math.sqrt(greenwood) : 0,
        lower: ci.lower,
        upper: ci.upper,
      })
    }
    pendingCensored += c
    atRisk -= d + c
  }
  const last = steps.at(-1)
  if (last === undefined) censoredBefore = pendingCensored
  else steps[steps.length - 1] = { ...last, censored: pendingCensored }

  const firstTime = (pred: (x: KaplanMeierStep) => boolean): number | null =>
    steps.find(pred)?.time ?? null
  return Object.freeze({
    subjects,
    events: totalEvents,
    censoredBeforeFirstEvent: censoredBefore,
    steps: Object.freeze(steps.map((x) => Object.freeze(x))),
    median: firstTime((x) => x.survival <= 0.5),
    medianLower: firstTime((x) => x.lower !== null && x.lower <= 0.5),
    medianUpper: firstTime((x) => x.upper !== null && x.upper <= 0.5),
    confidence,
    confidenceType: type,
  })
}

/** S(t) of a fitted curve: the survival after the last event time ≤ t (1 before the first event). */
export function survivalAt(result: KaplanMeierResult, t: number): number {
  let s = 1
  for (const step of result.steps) {
    if (step.time > t) break
    s = step.survival
  }
  return s
}
