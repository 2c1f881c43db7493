/**
 * A piecewise-constant (hourly) intensity over the simulated window with its running integral.
 *
 * A non-homogeneous Poisson process with rate λ·w(t) is simulated exactly by inversion: with the
 * cumulative intensity Λ(t) = ∫ w, the next arrival after t is Λ⁻¹(Λ(t) + E/λ), E ~ Exp(1) (Çinlar's
 * time-change theorem). This keeps the seasonal purchase process an exact BG/NBD process in "exposure
 * time" Λ, which is what the ground truth and the statistical tests rely on.
 * @module
 */

const HOUR = 3600

export class IntensityTable {
  /** Window start (UTC seconds), aligned to an hour. */
  readonly startSec: number
  /** Number of hours covered. */
  readonly hours: number
  /** cum[h] = exposure accumulated from the start to hour h; length hours + 1. */
  private readonly cum: Float64Array
  /** Exposure per hour assumed outside the window (a flat, non-seasonal rate). */
  private readonly tailPerHour: number

  /**
   * @param startSec window start (UTC seconds, multiple of 3600)
   * @param perHour exposure added by each hour of the window (all values > 0)
   * @param tailPerHour exposure per hour before the start and after the end
   */
  constructor(startSec: number, perHour: Float64Array, tailPerHour: number) {
    this.startSec = startSec
    this.hours = perHour.length
    this.tailPerHour = tailPerHour
    const cum = new Float64Array(perHour.length + 1)
    let s = 0
    for (let h = 0; h < perHour.length; h++) {
      s += perHour[h] ?? 0
      cum[h + 1] = s
    }
    this.cum = cum
  }

  /** Total exposure of the window. */
  get total(): number {
    return this.cum[this.hours] ?? 0
  }

  /** Cumulative exposure Λ(t) from the window start to `t` (negative before the start). */
  at(t: number): number {
    const x = (t - this.startSec) / HOUR
    if (x <= 0) return x * this.tailPerHour
    const cum = this.cum
    if (x >= this.hours) return (cum[this.hours] ?? 0) + (x - this.hours) * this.tailPerHour
    const i = Math.floor(x)
    const c0 = cum[i] ?? 0
    return c0 + (x - i) * ((cum[i + 1] ?? 0) - c0)
  }

  /** Exposure between `t0` and `t1`. */
  between(t0: number, t1: number): number {
    return this.at(t1) - this.at(t0)
  }

  /** Λ⁻¹: the time at which the cumulative exposure reaches `x`. */
  inverse(x: number): number {
    const cum = this.cum
    const total = cum[this.hours] ?? 0
    if (x <= 0) return this.startSec + (x / this.tailPerHour) * HOUR
    if (x >= total) return this.startSec + (this.hours + (x - total) / this.tailPerHour) * HOUR
    let lo = 0
    let hi = this.hours
    // Invariant: cum[lo] <= x < cum[hi].
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1
      if ((cum[mid] ?? 0) <= x) lo = mid
      else hi = mid
    }
    const c0 = cum[lo] ?? 0
    const c1 = cum[lo + 1] ?? 0
    return this.startSec + (lo + (x - c0) / (c1 - c0)) * HOUR
  }

  /** Next arrival after `t` of a Poisson process with rate `rate` per exposure unit, given E ~ Exp(1). */
  next(t: number, rate: number, e: number): number {
    return this.inverse(this.at(t) + e / rate)
  }
}
