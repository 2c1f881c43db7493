/**
 * Synthetic repeat-buying summaries for the CLV benchmark: members drawn from the BG/NBD model itself
 * (Fader, Hardie & Lee 2005) with CDNOW-like parameters, at day resolution, so that a 1,000,000-member fit
 * can be timed without simulating and loading a database first.
 *
 * Each member's first purchase falls on a whole day in a window of `days` days and the observation ends on
 * the window's last day, so T is a whole number of days; λ ~ Gamma(r, α), p ~ Beta(a, b); purchases come at
 * Poisson rate λ and after each one the member drops out with probability p. t_x is the day of the last
 * repeat purchase (floored to the day). Times are returned in weeks (the CLV fit's default unit), i.e. on a
 * grid of 1/7.
 */
import { Rng } from '../src/core/random.js'

/** BG/NBD's CDNOW estimates in weeks (Fader, Hardie & Lee 2005, Table 1 / BTYD). */
export const CDNOW_LIKE = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 } as const

/** Members' (x, t_x, T) in weeks, drawn from BG/NBD with `params` (weeks), seeded. */
export function syntheticBgNbdSummaries(
  members: number,
  options: {
    readonly days?: number
    readonly seed?: number
    readonly params?: { r: number; alpha: number; a: number; b: number }
  } = {},
): { x: Float64Array; tx: Float64Array; T: Float64Array } {
  const days = options.days ?? 730
  const { r, alpha, a, b } = options.params ?? CDNOW_LIKE
  const rng = new Rng(options.seed ?? 21, 0x5eed, 7)
  const x = new Float64Array(members)
  const tx = new Float64Array(members)
  const T = new Float64Array(members)
  for (let i = 0; i < members; i++) {
    const Tdays = rng.int(days) // first purchase on day days−1−Tdays, observed to day days−1
    const Tw = Tdays / 7
    const lambda = rng.gamma(r) / alpha
    const p = rng.beta(a, b)
    let t = 0
    let n = 0
    let last = 0
    for (;;) {
      t += rng.exp() / lambda
      if (!(t <= Tw)) break
      n++
      last = t
      if (rng.uniform() < p) break
    }
    x[i] = n
    tx[i] = n === 0 ? 0 : Math.floor(last * 7) / 7
    T[i] = Tw
  }
  return { x, tx, T }
}
