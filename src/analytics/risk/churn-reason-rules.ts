/**
 * The evidence rules behind two churn-reason classes, on the churn features of the year to the cutoff.
 *
 * Service-dissatisfied needs repeated evidence of a bad experience, not one low score: ordinary members
 * also give an occasional detractor NPS or file a single ticket, so one signal alone is weak. The evidence
 * counts complaints and support tickets, low CSAT answers and negative reviews, every return blamed on the
 * goods or the service after the first (one faulty delivery happens to anyone), plus one point for a mean
 * NPS at or below the detractor line; a member with {@link SERVICE_RULE}.minEvidence points or more is
 * service-dissatisfied. (On the simulated demo, the last-NPS-≤-6 rule this replaces had a precision of 0.26
 * against a base rate of 0.13; these thresholds were chosen on that data: `memberlens risk reasons
 * --evaluate` reports the current figures.)
 *
 * Price-sensitive is the habit of buying with a coupon: at least {@link PRICE_RULE}.minCouponShare of the
 * member's purchase days used one, over at least {@link PRICE_RULE}.minPurchaseDays days (a single coupon
 * order says little).
 * @module
 */
import type { ChurnFeatureTable } from '../../duckdb/summaries/churn-features.js'

export const SERVICE_RULE = {
  /** Evidence points needed. */
  minEvidence: 3,
  /** A mean NPS answer at or below this adds one point. */
  npsDetractorMean: 6,
} as const

export const PRICE_RULE = {
  minCouponShare: 0.4,
  minPurchaseDays: 2,
} as const

/** Service evidence points of member i (see the module notes). */
export function serviceEvidence(f: ChurnFeatureTable, i: number): number {
  const v = (c: keyof ChurnFeatureTable): number => {
    const x = f[c][i] as number
    return Number.isFinite(x) ? x : 0
  }
  const nps = f.nps_mean_365[i] as number
  return (
    v('complaints_365') +
    v('low_csat_365') +
    v('negative_reviews_365') +
    Math.max(0, v('service_returns_365') - 1) +
    (Number.isFinite(nps) && nps <= SERVICE_RULE.npsDetractorMean ? 1 : 0)
  )
}

export function isServiceDissatisfied(f: ChurnFeatureTable, i: number): boolean {
  return serviceEvidence(f, i) >= SERVICE_RULE.minEvidence
}

export function isPriceSensitive(f: ChurnFeatureTable, i: number): boolean {
  const share = f.coupon_share[i] as number
  const days = f.purchase_days[i] as number
  return (
    Number.isFinite(share) &&
    share >= PRICE_RULE.minCouponShare &&
    days >= PRICE_RULE.minPurchaseDays
  )
}
