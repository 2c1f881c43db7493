/**
 * Early-warning rules (seed 004; DOMAIN §4) and churn-reason classes with their win-back playbooks. The
 * rules are thresholds on the churn features, configurable through a file validated here with zod.
 * @module
 */
import { z } from 'zod'
import { ConfigError } from '../../core/errors.js'
import type { ChurnFeatureTable } from '../../duckdb/summaries/churn-features.js'
import { isPriceSensitive, isServiceDissatisfied } from './churn-reason-rules.js'

/** Thresholds of the early-warning rules; every key optional in the file, defaults below. */
export const earlyWarningConfigSchema = z
  .object({
    /** `no_login`: at least this many days since the last login (members who ever logged in). */
    noLoginDays: z.number().int().positive().default(30),
    /** `aov_below_baseline`: mean order value of the last 90 days below this share of the baseline. */
    aovDropRatio: z.number().gt(0).lt(1).default(0.6),
    /** `rising_negative_feedback`: complaints + negative reviews of the last 90 days exceed the previous 90 days by at least this. */
    negativeFeedbackIncrease: z.number().int().min(1).default(1),
    /**
     * `purchase_gap_past_cadence`: days since the last purchase above this multiple of the member's cadence
     * (the median gap between their purchase days).
     */
    cadenceMultiple: z.number().gt(1).default(2),
    /** `p_alive_falling`: P(alive) fell by at least this since `pAliveLookbackDays` ago. */
    pAliveDrop: z.number().gt(0).lt(1).default(0.2),
    pAliveLookbackDays: z.number().int().positive().default(30),
    /** `tier_downgrade_due`: the member's tier is due to drop within this many days (ledger grace period). */
    downgradeWarningDays: z.number().int().positive().default(30),
    /** `points_expiring`: at least `expiringPointsMin` points in buckets expiring within this many days. */
    expiringPointsDays: z.number().int().positive().default(30),
    expiringPointsMin: z.number().int().positive().default(100),
  })
  .strict()
export type EarlyWarningConfig = z.infer<typeof earlyWarningConfigSchema>

/** Parses a config object (from YAML or JSON); ConfigError names each bad key. */
export function parseEarlyWarningConfig(
  data: unknown,
  source = 'early-warning config',
): EarlyWarningConfig {
  const parsed = earlyWarningConfigSchema.safeParse(data ?? {})
  if (!parsed.success) {
    throw new ConfigError(
      `${source}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    )
  }
  return parsed.data
}

export const SIGNALS = [
  'no_login',
  'aov_below_baseline',
  'rising_negative_feedback',
  'purchase_gap_past_cadence',
  'p_alive_falling',
  'tier_downgrade_due',
  'points_expiring',
] as const
export type Signal = (typeof SIGNALS)[number]

/**
 * The signals raised for member i. `pAlive` and `pAliveBefore` are the BG/NBD P(alive) at the cutoff and
 * `pAliveLookbackDays` earlier (NaN when the member had not yet bought then); `downgradeDueDays` holds the
 * days from the cutoff to the member's scheduled tier downgrade (NaN when none is scheduled);
 * `expiringPoints` the points in buckets expiring within `expiringPointsDays` of the cutoff (0 or NaN when none).
 */
export function earlyWarningSignals(
  f: ChurnFeatureTable,
  i: number,
  pAlive: Float64Array,
  pAliveBefore: Float64Array,
  config: EarlyWarningConfig,
  downgradeDueDays?: Float64Array,
  expiringPoints?: Float64Array,
): Signal[] {
  const out: Signal[] = []
  const v = (c: keyof ChurnFeatureTable): number => f[c][i] as number
  if (v('days_since_login') >= config.noLoginDays) out.push('no_login')
  if (v('aov_90') < config.aovDropRatio * v('aov_baseline')) out.push('aov_below_baseline')
  if (
    v('complaints_90') + v('negative_reviews_90') - v('complaints_prev_90') >=
    config.negativeFeedbackIncrease
  ) {
    out.push('rising_negative_feedback')
  }
  if (v('recency_days') > config.cadenceMultiple * v('median_gap_days'))
    out.push('purchase_gap_past_cadence')
  if ((pAliveBefore[i] as number) - (pAlive[i] as number) >= config.pAliveDrop)
    out.push('p_alive_falling')
  const due = downgradeDueDays?.[i] ?? NaN
  if (due >= 0 && due <= config.downgradeWarningDays) out.push('tier_downgrade_due')
  if ((expiringPoints?.[i] ?? NaN) >= config.expiringPointsMin) out.push('points_expiring')
  return out
}

/** Churn-reason classes (DOMAIN §4). */
export const CHURN_CLASSES = [
  'high-value-at-risk',
  'service-dissatisfied',
  'price-sensitive',
  'disengaged',
] as const
export type ChurnClass = (typeof CHURN_CLASSES)[number]

/** The win-back playbook of each class (DOMAIN §4). */
export const PLAYBOOKS: Readonly<Record<ChurnClass, string>> = {
  'high-value-at-risk': '1:1 VIP outreach',
  'service-dissatisfied': 'care call / service recovery',
  'price-sensitive': 'targeted discount',
  disengaged: 'personalised recommendation / content',
}

/**
 * Classifies member i, first match wins: high value (historical value, purchase days × AOV, at or above
 * `highValueThreshold`), then service problems (repeated evidence of a bad experience in the year:
 * complaints, low CSAT, negative reviews, returns blamed on the goods or service, a detractor mean NPS), then
 * price sensitivity (a habit of coupon orders), else disengaged. The two evidence rules: churn-reason-rules.ts.
 */
export function churnClass(
  f: ChurnFeatureTable,
  i: number,
  highValueThreshold: number,
): ChurnClass {
  if (historicalValue(f, i) >= highValueThreshold) return 'high-value-at-risk'
  if (isServiceDissatisfied(f, i)) return 'service-dissatisfied'
  if (isPriceSensitive(f, i)) return 'price-sensitive'
  return 'disengaged'
}

/** Purchase days × mean order value (recent AOV when there is no baseline). */
export function historicalValue(f: ChurnFeatureTable, i: number): number {
  const aov = Number.isFinite(f.aov_baseline[i])
    ? (f.aov_baseline[i] as number)
    : (f.aov_90[i] as number)
  return (f.purchase_days[i] as number) * (Number.isFinite(aov) ? aov : 0)
}
