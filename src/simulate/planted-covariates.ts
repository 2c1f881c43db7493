/**
 * Planted covariate effects (an option of the simulator, off by default) for checking that the CLV
 * covariate model recovers them: members who registered in a store buy at e^γ times the rate of the others,
 * and every member buys at e^γ_season times the rate inside the retail calendar's high-season windows
 * (年货节 before 春节, 618, 双11; `calendar/high-season.ts`). So that the model's "rate × e^γ inside a
 * window, rate outside" is exactly the planted world, the month-and-day seasonality and the weekend lift
 * are switched off with this option (the hour-of-day profile stays: it averages to 1 over each day), and so
 * are the tier effect on the drop-out and duplicate registrations (a second record splits a person's orders),
 * so that the drop-out is plain BG/NBD and each person is one member.
 *
 * The effects draw no random numbers: the default data are unchanged, and with the option every draw is
 * the same as without it; only the purchase times (and what follows from them) move.
 * @module
 */
import type { HighSeasonWindow } from '../calendar/index.js'

/** The planted effects: log multipliers of the purchase rate. */
export const PLANTED_COVARIATES = {
  channel: { level: 'store', process: 'purchase', gamma: Math.log(1.6) },
  season: { process: 'purchase', gamma: Math.log(1.8) },
} as const

/** What truth.json records about the planted effects. */
export interface PlantedCovariatesTruth {
  /** Registration channel `level` multiplies the purchase rate by e^gamma (relative to every other channel). */
  readonly channel: { readonly level: string; readonly process: 'purchase'; readonly gamma: number }
  /** Inside `windows` (local days, Beijing time) the purchase rate is e^gamma times the rate outside. */
  readonly season: {
    readonly process: 'purchase'
    readonly gamma: number
    readonly windows: readonly HighSeasonWindow[]
  }
  /** Effects planted on nothing else: region and first-order coupon have none; the drop-out has none. */
  readonly none: readonly string[]
  readonly notes: readonly string[]
}

/** The truth.json entry for a run whose calendar used `windows`. */
export function plantedCovariatesTruth(windows: readonly HighSeasonWindow[]): PlantedCovariatesTruth {
  return {
    channel: { ...PLANTED_COVARIATES.channel },
    season: { ...PLANTED_COVARIATES.season, windows },
    none: ['region', 'first_coupon', 'dropout'],
    notes: [
      'Month-and-day seasonality and the weekend lift are off: outside the windows the purchase rate is flat by day.',
      'The tier effect on the drop-out and duplicate registrations are off: the drop-out is plain BG/NBD and each person is one member.',
    ],
  }
}
