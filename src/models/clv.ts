/**
 * Customer lifetime value from BG/NBD (how many purchases) and Gamma–Gamma (how much per purchase), as in
 * Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", but summed
 * over discrete periods so that any discount rate and horizon can be used.
 * @module
 */

import { InputError } from '../core/errors.js'
import { conditionalExpectedPurchasesMany } from './bg-nbd.js'
import { groupSummaries } from './group-summaries.js'
import type { BgNbdParams } from './bg-nbd.js'
import { conditionalExpectedAverageSpendMany } from './gamma-gamma.js'
import type { GammaGammaParams } from './gamma-gamma.js'

/** Horizon, discounting and margin of {@link customerLifetimeValue}. */
export interface ClvOptions {
  /** Number of future periods summed (for example 12 months). */
  readonly periods: number
  /**
   * Length of one period in the time unit of t_x and T (for example 52/12 when T is in weeks and the
   * periods are months).
   */
  readonly periodLength: number
  /** Discount rate per period (0.01 = 1 % a period); cash of period k is discounted by (1 + d)^k. */
  readonly discountRate: number
  /** Share of spend that is margin. Default 1 (value in spend, not profit). */
  readonly margin?: number
}

/** Per-member summaries for CLV: the BG/NBD triple and the mean repeat-transaction value z̄. */
export interface ClvMembers {
  readonly x: Float64Array
  readonly tx: Float64Array
  readonly T: Float64Array
  /** Mean value of the repeat transactions (ignored where x = 0). */
  readonly zbar: Float64Array
}

/**
 * CLV_i = margin · E[Z | x, z̄] · Σ_{k=1}^{K} (E[Y(kL)] − E[Y((k−1)L)]) / (1 + d)^k, where E[Y(t)] is the
 * BG/NBD conditional expectation (Fader, Hardie & Lee 2005, "Counting Your Customers", eq. 10) and E[Z]
 * the Gamma–Gamma conditional mean spend. The difference of cumulative expectations is the expected number
 * of purchases within period k. Spend and purchase counts are treated as independent, which is the
 * Gamma–Gamma assumption (see `frequencySpendCorrelation`).
 *
 * Vectorised: identical (x, t_x, T) are grouped, each period costs one pass over the distinct summaries,
 * and nothing is allocated per member. Returns `out` (allocated when omitted). Throws InputError on
 * invalid summaries (as `groupSummaries`).
 */
export function customerLifetimeValue(
  bgNbd: BgNbdParams,
  gammaGamma: GammaGammaParams,
  members: ClvMembers,
  options: ClvOptions,
  out?: Float64Array,
): Float64Array {
  const { periods, periodLength, discountRate } = options
  const margin = options.margin ?? 1
  if (!(Number.isInteger(periods) && periods >= 0)) {
    throw InputError.single({
      field: 'customerLifetimeValue periods',
      value: String(periods),
      reason: 'must be an integer ≥ 0',
    })
  }
  if (!(Number.isFinite(periodLength) && periodLength > 0)) {
    throw InputError.single({
      field: 'customerLifetimeValue periodLength',
      value: String(periodLength),
      reason: 'must be > 0',
    })
  }
  if (!(Number.isFinite(discountRate) && discountRate > -1)) {
    throw InputError.single({
      field: 'customerLifetimeValue discountRate',
      value: String(discountRate),
      reason: 'must be > −1',
    })
  }
  if (!Number.isFinite(margin)) {
    throw InputError.single({
      field: 'customerLifetimeValue margin',
      value: String(margin),
      reason: 'must be finite',
    })
  }
  const { x, tx, T, zbar } = members
  const n = x.length
  if (
    tx.length !== n ||
    T.length !== n ||
    zbar.length !== n ||
    (out !== undefined && out.length !== n)
  ) {
    throw new InputError(
      'customerLifetimeValue: x, tx, T, zbar (and out) must have the same length',
    )
  }
  const result = out ?? new Float64Array(n)
  if (n === 0) return result
  // Expected purchases depend on (x, t_x, T) only: compute them once per distinct summary.
  const groups = groupSummaries(x, tx, T)
  const m = groups.x.length
  const discounted = new Float64Array(m) // Σ_k (E[Y(kL)] − E[Y((k−1)L)]) / (1+d)^k per summary
  let previous = new Float64Array(m) // E[Y((k−1)L)], zero at k = 1
  let current = new Float64Array(m)
  let discount = 1
  for (let k = 1; k <= periods; k++) {
    discount /= 1 + discountRate
    conditionalExpectedPurchasesMany(
      bgNbd,
      k * periodLength,
      groups.x,
      groups.tx,
      groups.T,
      current,
    )
    for (let g = 0; g < m; g++) {
      discounted[g] =
        (discounted[g] as number) + ((current[g] as number) - (previous[g] as number)) * discount
    }
    const swap = previous
    previous = current
    current = swap
  }
  // E[Z | x, z̄] per member, written into `result` before it is scaled in place.
  conditionalExpectedAverageSpendMany(gammaGamma, x, zbar, result)
  for (let i = 0; i < n; i++) {
    const purchases = discounted[groups.groupOf[i] as number] as number
    // No purchases expected means no value, even where the spend model has no finite mean.
    result[i] = purchases === 0 ? 0 : margin * (result[i] as number) * purchases
  }
  return result
}
