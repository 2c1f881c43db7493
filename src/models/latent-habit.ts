/**
 * A two-class latent-class model of a habit seen through several count indicators (Lazarsfeld's
 * latent class analysis with conditionally independent indicators; fitted by EM, Dempster, Laird &
 * Rubin 1977). Each person is in the habit class with probability w; given the class, each indicator is
 * a binomial count (successes out of trials: orders with a coupon out of orders) or a Poisson count over
 * an exposure (complaints over weeks of membership), with one rate per class. The posterior probability
 * of the habit class pools the indicators by the evidence behind each: two coupon orders out of two
 * weigh less than twenty out of twenty-five.
 *
 * Used by uplift targeting to turn a member's history into "how likely is this member to have the coupon
 * habit / the service-complaint habit", a single feature an uplift model can learn from with a few
 * hundred randomised members per offer. Pure: typed arrays in, readonly results out.
 * @module
 */
import { InputError } from '../core/errors.js'

/** One indicator of the habit, aligned by person. */
export type HabitIndicator =
  | {
      readonly kind: 'binomial'
      readonly name: string
      readonly successes: ArrayLike<number>
      readonly trials: ArrayLike<number>
    }
  | {
      readonly kind: 'poisson'
      readonly name: string
      readonly count: ArrayLike<number>
      readonly exposure: ArrayLike<number>
    }

/** The fitted model and each person's posterior probability of the habit class. */
export interface HabitFit {
  /** Share of persons in the habit class. */
  readonly share: number
  /** Per indicator: its rate in the habit class and in the other class. */
  readonly rates: readonly {
    readonly name: string
    readonly habit: number
    readonly other: number
  }[]
  readonly iterations: number
  readonly posterior: Float64Array
}

const EPS = 1e-9

function clampRate(r: number, binomial: boolean): number {
  return binomial ? Math.min(1 - EPS, Math.max(EPS, r)) : Math.max(EPS, r)
}

/**
 * Fits the two-class model by EM. The habit class is the one with the higher rate of the first
 * indicator (it starts at twice the overall rate, the other class at half). Throws InputError when the
 * indicators differ in length or have no evidence at all.
 */
export function fitLatentHabit(
  indicators: readonly HabitIndicator[],
  options: { readonly maxIterations?: number; readonly tolerance?: number } = {},
): HabitFit {
  const first = indicators[0]
  if (first === undefined) throw new InputError('fitLatentHabit: no indicators')
  const n = first.kind === 'binomial' ? first.successes.length : first.count.length
  for (const ind of indicators) {
    const a = ind.kind === 'binomial' ? [ind.successes, ind.trials] : [ind.count, ind.exposure]
    if (a.some((x) => x.length !== n)) {
      throw new InputError(`fitLatentHabit: indicator ${ind.name} has not ${n} persons`)
    }
  }
  // Starting rates: twice and half the overall rate of each indicator.
  const rates = indicators.map((ind) => {
    let num = 0
    let den = 0
    for (let i = 0; i < n; i++) {
      num += ind.kind === 'binomial' ? (ind.successes[i] as number) : (ind.count[i] as number)
      den += ind.kind === 'binomial' ? (ind.trials[i] as number) : (ind.exposure[i] as number)
    }
    if (!(den > 0))
      throw new InputError(`fitLatentHabit: indicator ${ind.name} has no trials or exposure`)
    const overall = num / den
    const bin = ind.kind === 'binomial'
    return { habit: clampRate(2 * overall, bin), other: clampRate(overall / 2, bin) }
  })
  let share = 0.2
  const posterior = new Float64Array(n)
  const maxIterations = options.maxIterations ?? 500
  const tolerance = options.tolerance ?? 1e-8
  let previous = -Infinity
  let iterations = 0
  for (; iterations < maxIterations; iterations++) {
    // E-step: log-likelihood ratio of the classes per person.
    let loglik = 0
    for (let i = 0; i < n; i++) {
      let lh = Math.log(share)
      let lo = Math.log(1 - share)
      indicators.forEach((ind, j) => {
        const r = rates[j] as { habit: number; other: number }
        if (ind.kind === 'binomial') {
          const s = ind.successes[i] as number
          const f = (ind.trials[i] as number) - s
          lh += s * Math.log(r.habit) + f * Math.log1p(-r.habit)
          lo += s * Math.log(r.other) + f * Math.log1p(-r.other)
        } else {
          const k = ind.count[i] as number
          const t = ind.exposure[i] as number
          lh += k * Math.log(r.habit) - r.habit * t
          lo += k * Math.log(r.other) - r.other * t
        }
      })
      const m = Math.max(lh, lo)
      const z = m + Math.log(Math.exp(lh - m) + Math.exp(lo - m))
      posterior[i] = Math.exp(lh - z)
      loglik += z
    }
    // M-step.
    let sum = 0
    for (let i = 0; i < n; i++) sum += posterior[i] as number
    share = Math.min(1 - EPS, Math.max(EPS, sum / n))
    indicators.forEach((ind, j) => {
      let nh = 0
      let dh = 0
      let no = 0
      let d0 = 0
      for (let i = 0; i < n; i++) {
        const p = posterior[i] as number
        const num =
          ind.kind === 'binomial' ? (ind.successes[i] as number) : (ind.count[i] as number)
        const den =
          ind.kind === 'binomial' ? (ind.trials[i] as number) : (ind.exposure[i] as number)
        nh += p * num
        dh += p * den
        no += (1 - p) * num
        d0 += (1 - p) * den
      }
      const bin = ind.kind === 'binomial'
      const r = rates[j] as { habit: number; other: number }
      if (dh > 0) r.habit = clampRate(nh / dh, bin)
      if (d0 > 0) r.other = clampRate(no / d0, bin)
    })
    if (Math.abs(loglik - previous) <= tolerance * Math.max(1, Math.abs(loglik))) {
      iterations++
      break
    }
    previous = loglik
  }
  // The habit class is the one with the higher rate of the first indicator.
  const r0 = rates[0] as { habit: number; other: number }
  if (r0.habit < r0.other) {
    share = 1 - share
    for (const r of rates) [r.habit, r.other] = [r.other, r.habit]
    for (let i = 0; i < n; i++) posterior[i] = 1 - (posterior[i] as number)
  }
  return {
    share,
    rates: indicators.map((ind, j) => ({
      name: ind.name,
      ...(rates[j] as { habit: number; other: number }),
    })),
    iterations,
    posterior,
  }
}
