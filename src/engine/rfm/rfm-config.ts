/**
 * RFM scoring rules and the named segments (standard 11-segment RFM map, with zh names).
 * @module
 */
import { z } from 'zod'

export const RFM_SEGMENTS = [
  'champions',
  'loyal',
  'potential_loyalist',
  'new',
  'promising',
  'need_attention',
  'about_to_sleep',
  'at_risk',
  'cant_lose_them',
  'hibernating',
  'lost',
] as const
export type RfmSegment = (typeof RFM_SEGMENTS)[number]

export const RFM_SEGMENT_NAMES: Readonly<Record<RfmSegment, { en: string; zh: string }>> = {
  champions: { en: 'Champions', zh: '重要价值客户' },
  loyal: { en: 'Loyal', zh: '忠诚客户' },
  potential_loyalist: { en: 'Potential Loyalist', zh: '潜在忠诚客户' },
  new: { en: 'New', zh: '新客户' },
  promising: { en: 'Promising', zh: '有潜力客户' },
  need_attention: { en: 'Need Attention', zh: '需要关注' },
  about_to_sleep: { en: 'About to Sleep', zh: '即将沉睡' },
  // Not "at risk": that name belongs to the lifecycle stage (see the glossary's at_risk entry).
  at_risk: { en: 'Needs Win-back', zh: '需挽回客户' },
  cant_lose_them: { en: "Can't Lose Them", zh: '不能失去的客户' },
  hibernating: { en: 'Hibernating', zh: '休眠客户' },
  lost: { en: 'Lost', zh: '已流失客户' },
}

/**
 * The default map from (R score, FM score) to a segment, FM = round-half-up of (F + M) / 2. Rows are R = 5
 * down to 1, columns FM = 1 to 5: recent buyers split by value into New → Potential Loyalist → Champions;
 * lapsing ones into About to Sleep / Need Attention / Loyal; long-gone ones into Lost / Hibernating, Needs Win-back
 * (they used to buy) and Can't Lose Them (they were the best).
 */
export const DEFAULT_RFM_GRID: readonly (readonly RfmSegment[])[] = [
  ['new', 'potential_loyalist', 'potential_loyalist', 'champions', 'champions'],
  ['promising', 'potential_loyalist', 'potential_loyalist', 'loyal', 'champions'],
  ['about_to_sleep', 'about_to_sleep', 'need_attention', 'loyal', 'loyal'],
  ['hibernating', 'hibernating', 'at_risk', 'at_risk', 'cant_lose_them'],
  ['lost', 'lost', 'at_risk', 'at_risk', 'cant_lose_them'],
]

const ascending = (xs: readonly number[]) =>
  xs.every((x, i) => i === 0 || x > (xs[i - 1] as number))
const fourCuts = z
  .array(z.number())
  .length(4)
  .refine(ascending, { message: 'cut points must be strictly increasing' })

/**
 * Scores 1–5. `quantile` (default): a member's score is 1 + the number of cut points q with
 * (rank − 1) / N ≥ q, rank being the member's 1-based `rank()` among all N members (ties share the lowest
 * rank, so equal values always get equal scores and the result does not depend on row order); recency is
 * ranked from the longest gap, so the most recent buyers score highest. `cuts`: fixed thresholds —
 * R = 5 − the number of recency cuts the days since the last purchase exceed; F and M = 1 + the number of
 * cuts the value exceeds.
 */
export const rfmScoringSchema = z.discriminatedUnion('method', [
  z
    .object({
      method: z.literal('quantile'),
      quantiles: fourCuts
        .refine((q) => q.every((x) => x > 0 && x < 1), { message: 'quantiles lie in (0, 1)' })
        .default([0.2, 0.4, 0.6, 0.8]),
    })
    .strict(),
  z
    .object({
      method: z.literal('cuts'),
      recencyDays: fourCuts,
      frequency: fourCuts,
      monetary: fourCuts,
    })
    .strict(),
])

export const rfmConfigSchema = z
  .object({
    scoring: rfmScoringSchema.default({ method: 'quantile', quantiles: [0.2, 0.4, 0.6, 0.8] }),
    /** Only purchases in the last `lookbackDays` count (default: all history). */
    lookbackDays: z.number().positive().optional(),
    grid: z
      .array(z.array(z.enum(RFM_SEGMENTS)).length(5))
      .length(5)
      .optional(),
  })
  .strict()
export type RfmConfig = z.infer<typeof rfmConfigSchema>
export type RfmConfigInput = z.input<typeof rfmConfigSchema>
