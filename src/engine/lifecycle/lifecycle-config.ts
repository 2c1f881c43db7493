/**
 * Lifecycle stage rules (DOMAIN §5), validated with zod, with the defaults an analyst would start from.
 * @module
 */
import { z } from 'zod'

/** The stages, in the order they are shown. */
export const LIFECYCLE_STAGES = [
  'registered_not_purchased',
  'new',
  'active',
  'loyal',
  'at_risk',
  'dormant',
  'churned',
  'reactivated',
] as const
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number]

/** Display names (en, zh). */
export const STAGE_NAMES: Readonly<Record<LifecycleStage, { en: string; zh: string }>> = {
  registered_not_purchased: { en: 'Registered, not purchased', zh: '注册未购' },
  new: { en: 'New', zh: '新客' },
  active: { en: 'Active', zh: '活跃' },
  loyal: { en: 'Loyal', zh: '忠诚' },
  at_risk: { en: 'At risk', zh: '流失风险' },
  dormant: { en: 'Dormant', zh: '沉睡' },
  churned: { en: 'Churned', zh: '已流失' },
  reactivated: { en: 'Reactivated', zh: '已召回' },
}

/** Recommended action per stage (DOMAIN §5 and §4's win-back playbooks). */
export const DEFAULT_STAGE_ACTIONS: Readonly<Record<LifecycleStage, string>> = {
  registered_not_purchased: 'first-order offer (新人首单券) and onboarding content',
  new: 'onboarding journey and a second-order coupon within the first weeks',
  active: 'regular rewards: points, member-day offers, personalised recommendations',
  loyal: 'personal service, tier benefits, early access and referral invitations',
  at_risk: 'early-warning outreach: reminder with a targeted offer matched to the churn reason',
  dormant:
    'win-back campaign (coupon, care call or content by churn reason); measure against a holdout',
  churned: 'low-cost win-back only (e.g. seasonal campaign); exclude from frequent sends',
  reactivated: 'welcome-back journey and a follow-up offer to turn the return into a habit',
}

const days = z.number().positive().max(10_000)

/**
 * The rules, all in days. A member's stage as of an instant T (only purchases before T count; a purchase is
 * an order not cancelled), first matching rule wins:
 * 1. registered_not_purchased: no purchase yet;
 * 2. churned: T − last purchase ≥ `churnDays`;
 * 3. dormant: the gap since the last purchase ≥ `dormantMultiple` × the member's median inter-purchase gap
 *    (at least `minGapDays`), or ≥ `oneOrderDormantDays` for members with one purchase;
 * 4. at_risk: likewise with `atRiskMultiple` / `oneOrderAtRiskDays`;
 * 5. new: first purchase within `newDays` before T;
 * 6. reactivated: the latest purchase that ended a gap of ≥ `churnDays` (a return from churn) lies within
 *    `reactivatedDays` before T;
 * 7. loyal: at least `loyalOrders` purchases in the `loyalWindowDays` before T;
 * 8. active: everyone else.
 */
export const lifecycleConfigSchema = z
  .object({
    newDays: days.default(30),
    churnDays: days.default(365),
    atRiskMultiple: z.number().positive().default(2),
    dormantMultiple: z.number().positive().default(4),
    /** The multiple-based gaps are never shorter than this (members who buy daily are not at risk after 3 days). */
    minGapDays: days.default(14),
    oneOrderAtRiskDays: days.default(60),
    oneOrderDormantDays: days.default(180),
    reactivatedDays: days.default(90),
    loyalOrders: z.number().int().positive().default(5),
    loyalWindowDays: days.default(365),
    actions: z.partialRecord(z.enum(LIFECYCLE_STAGES), z.string()).optional(),
  })
  .strict()
  .refine((c) => c.dormantMultiple >= c.atRiskMultiple, {
    message: 'dormantMultiple must be at least atRiskMultiple',
  })
  .refine((c) => c.oneOrderDormantDays >= c.oneOrderAtRiskDays, {
    message: 'oneOrderDormantDays must be at least oneOrderAtRiskDays',
  })
export type LifecycleConfig = z.infer<typeof lifecycleConfigSchema>
export type LifecycleConfigInput = z.input<typeof lifecycleConfigSchema>

export const DEFAULT_LIFECYCLE_CONFIG: LifecycleConfig = lifecycleConfigSchema.parse({})

/** The action for each stage: the defaults overridden by the config's `actions`. */
export function stageActions(config: LifecycleConfig): Record<LifecycleStage, string> {
  return { ...DEFAULT_STAGE_ACTIONS, ...(config.actions ?? {}) }
}
