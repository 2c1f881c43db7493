/**
 * An optional universal holdout of the member programme (off by default, so the default data stay as they
 * are): on a fixed instant t0 every person registered before it is assigned, from their own random stream,
 * to the holdout (no member campaign from t0 on) or to the programme. The assignment is written as rows of
 * the experiments table, so `memberlens experiments report` reads the programme's incrementality against
 * the holdout like any experiment.
 *
 * What a holdout person does not get from t0 on: the win-back campaign (neither touch nor effect, and no
 * win-back holdout row either: they are not in that campaign), the optional retention campaign of
 * uplift-campaign.ts, promotions, birthday greetings and any other touch row. Their natural purchase
 * process is the same model as everyone's.
 *
 * The assignment draws from the person's own `STREAM_UNIVERSAL_HOLDOUT` stream, so the draws of programme
 * persons are the ones the same seed gives without the option. A holdout person skips the win-back decision
 * (which draws from the main per-person stream), so their later natural draws differ from the run without
 * the option; that is harmless (the assignment is random) but it means the option changes the holdout
 * persons' rows, not only their touches.
 *
 * The true programme effect recorded in truth.json counts, for each programme person, the planted extra
 * orders (win-back, the retention campaign, the new-member coupon: every order the loop adds on top of the
 * natural process) placed in the outcome window [t0, t0 + windowDays). Knock-on effects of an extra order
 * (its spend counting toward the gold tier, which lowers the drop-out of later natural purchases) are not
 * counted, so the figure is a slight under-statement of the full effect.
 * @module
 */
import { DAY, HOUR, isoDate, parseDate } from './calendar.js'
import { CANCELLED, COUPON_EXTRA, UPLIFT_EXTRA, WINBACK_EXTRA, type PersonState } from './person-state.js'
import { Rng } from '../core/random.js'

/** Every number of the holdout; copied into truth.json when it is simulated. */
export const UNIVERSAL_HOLDOUT_PARAMETERS = {
  /** t0 is this many days before the day after the last simulated day, at 10:00 Beijing time (02:00 UTC). */
  daysBeforeEnd: 200,
  /** Share of the persons registered before t0 who are held out. */
  holdoutShare: 0.1,
  /**
   * The outcome window of the truth: [t0, t0 + windowDays), whole days that end before the last
   * simulated instant (so `experiments report --window <windowDays>` sees every member's window complete).
   */
  windowDays: 199,
  experimentPrefix: 'universal_holdout',
} as const

const P = UNIVERSAL_HOLDOUT_PARAMETERS
const STREAM_UNIVERSAL_HOLDOUT = 18
const PLANTED = COUPON_EXTRA | WINBACK_EXTRA | UPLIFT_EXTRA

/** The truth.json section of the universal holdout. */
export interface UniversalHoldoutTruth {
  readonly experimentId: string
  /** t0, the assignment instant (ISO, UTC). */
  readonly assignedAt: string
  readonly holdoutShare: number
  readonly windowDays: number
  readonly windowEnd: string
  readonly eligibility: string
  readonly parameters: typeof UNIVERSAL_HOLDOUT_PARAMETERS
  readonly variants: {
    readonly holdout: { readonly n: number; readonly purchases: number; readonly converted: number }
    readonly program: { readonly n: number; readonly purchases: number; readonly converted: number }
  }
  /** The programme's true effect per programme person over the window (see `definitions`). */
  readonly trueEffect: {
    readonly plantedExtraOrders: number
    readonly ordersPerMember: number
    readonly convertedOnlyByPlanted: number
    readonly conversion: number
  }
  readonly definitions: Readonly<Record<string, string>>
}

/** The holdout plan of a run and its tallies. */
export class UniversalHoldout {
  readonly sec: number
  readonly windowEnd: number
  readonly experimentId: string
  private readonly rng: Rng
  /** The current person's arm: −1 not assigned (registered at or after t0), 0 programme, 1 holdout. */
  arm = -1
  private readonly tally = {
    holdout: { n: 0, purchases: 0, converted: 0 },
    program: { n: 0, purchases: 0, converted: 0 },
    planted: 0,
    onlyPlanted: 0,
  }

  private constructor(seed: number, sec: number) {
    this.sec = sec
    this.windowEnd = sec + P.windowDays * DAY
    this.experimentId = `${P.experimentPrefix}_${isoDate(sec).slice(0, 7)}`
    this.rng = new Rng(seed, 0, STREAM_UNIVERSAL_HOLDOUT)
  }

  /** The holdout of a window ending at `endDate` (null when t0 would fall before the window starts). */
  static plan(seed: number, startSec: number, endDate: string): UniversalHoldout | null {
    const sec = parseDate(endDate) + DAY - P.daysBeforeEnd * DAY + 2 * HOUR
    if (sec <= startSec) return null
    return new UniversalHoldout(seed, sec)
  }

  /** Assigns person `index`, registered at `regSec`, from their own stream. */
  startPerson(seed: number, index: number, regSec: number): void {
    if (regSec >= this.sec) {
      this.arm = -1
      return
    }
    this.rng.reseed(seed, index, STREAM_UNIVERSAL_HOLDOUT)
    this.arm = this.rng.chance(P.holdoutShare) ? 1 : 0
  }

  /** True when the current person is held out of member campaigns at `sec`. */
  heldAt(sec: number): boolean {
    return this.arm === 1 && sec >= this.sec
  }

  /** After the purchase loop: the person's purchases and planted extra orders in the window. */
  tallyPerson(st: PersonState): void {
    if (this.arm < 0) return
    let purchases = 0
    let planted = 0
    for (let k = 0; k < st.nOrders; k++) {
      const t = st.oTime[k] ?? 0
      const flags = st.oFlags[k] ?? 0
      if (t < this.sec || t >= this.windowEnd || (flags & CANCELLED) !== 0) continue
      purchases++
      if ((flags & PLANTED) !== 0) planted++
    }
    const v = this.arm === 1 ? this.tally.holdout : this.tally.program
    v.n++
    v.purchases += purchases
    if (purchases > 0) v.converted++
    if (this.arm === 0) {
      this.tally.planted += planted
      if (planted > 0 && planted === purchases) this.tally.onlyPlanted++
    }
  }

  /** The truth.json section. */
  truth(): UniversalHoldoutTruth {
    const T = this.tally
    const n = T.program.n
    return {
      experimentId: this.experimentId,
      assignedAt: new Date(this.sec * 1000).toISOString(),
      holdoutShare: P.holdoutShare,
      windowDays: P.windowDays,
      windowEnd: new Date(this.windowEnd * 1000).toISOString(),
      eligibility:
        'every person registered before t0 (assignedAt), held out with probability holdoutShare, else in the programme',
      parameters: P,
      variants: { holdout: { ...T.holdout }, program: { ...T.program } },
      trueEffect: {
        plantedExtraOrders: T.planted,
        ordersPerMember: n > 0 ? T.planted / n : 0,
        convertedOnlyByPlanted: T.onlyPlanted,
        conversion: n > 0 ? T.onlyPlanted / n : 0,
      },
      definitions: {
        window: '[assignedAt, windowEnd): the outcome window, as `experiments report --window <windowDays>` reads it',
        purchases: 'orders not cancelled placed in the window, per variant (a person counts once per order)',
        converted: 'persons of the variant with at least one purchase in the window',
        plantedExtraOrders:
          'purchases in the window of programme persons that the simulator added on top of the natural process (win-back, retention campaign, new-member coupon)',
        ordersPerMember:
          'plantedExtraOrders ÷ programme persons: the programme’s true effect on purchases per member in the window (programme minus what the same persons would have bought without it)',
        convertedOnlyByPlanted:
          'programme persons whose purchases in the window are all planted ones: without the programme they would not have bought in the window',
        conversion:
          'convertedOnlyByPlanted ÷ programme persons: the true effect on the share of members who buy in the window',
        notCounted:
          'knock-on effects of an extra order (its spend counting toward the gold tier, which lowers later drop-out) are not in these figures',
      },
    }
  }
}
