/**
 * Member lifetime (DOMAIN §2): the Kaplan–Meier curve of time to churn (lifecycle definition) with
 * censoring, the median lifetime with its confidence interval, by dimension. The durations come from SQL,
 * aggregated by (dimension, duration, churned); the curve is fitted by the pure model.
 * @module
 */
import { dimensionSchema, type Dimension } from '../../engine/cohorts/dimension.js'
import type { Driver } from '../../engine/drivers/driver.js'
import {
  buildChurnDurationsQuery,
  type SurvivalOrigin,
} from '../../engine/lifecycle/churn-durations.js'
import {
  lifecycleConfigSchema,
  type LifecycleConfigInput,
} from '../../engine/lifecycle/lifecycle-config.js'
import {
  fitKaplanMeier,
  survivalAt,
  type ConfidenceType,
  type KaplanMeierResult,
} from '../../models/kaplan-meier.js'

export interface SurvivalOptions {
  /** Exclusive instant: data before it counts; members not churned by then are censored. */
  readonly asOf: string
  readonly origin?: SurvivalOrigin
  readonly dimension?: Dimension
  /** Lifecycle rules; only `churnDays` matters here. */
  readonly config?: LifecycleConfigInput
  readonly confidence?: number
  readonly confidenceType?: ConfidenceType
  /** Days at which to report S(t) (default 30, 90, 180, 365, 730). */
  readonly checkpoints?: readonly number[]
}

export interface SurvivalGroup {
  /** Dimension value (null without a dimension or when unknown). */
  readonly dimension: string | null
  readonly members: number
  readonly churned: number
  readonly curve: KaplanMeierResult
  /** Median lifetime in days (null when the curve has not reached 0.5). */
  readonly medianDays: number | null
  readonly medianLowerDays: number | null
  readonly medianUpperDays: number | null
  readonly checkpoints: readonly { readonly days: number; readonly survival: number }[]
}

/** Fits one curve per dimension value (a single group without a dimension). */
export async function getSurvival(
  driver: Driver,
  options: SurvivalOptions,
): Promise<SurvivalGroup[]> {
  const config = lifecycleConfigSchema.parse(options.config ?? {})
  const rows = await driver.all<{
    dim: string | null
    days: number
    churned: boolean
    members: bigint
  }>(
    buildChurnDurationsQuery({
      dialect: driver.dialect,
      asOf: options.asOf,
      churnDays: config.churnDays,
      origin: options.origin ?? 'first-purchase',
      dimension:
        options.dimension === undefined ? undefined : dimensionSchema.parse(options.dimension),
    }),
  )
  const groups = new Map<string | null, { t: number[]; e: number[]; c: number[] }>()
  for (const r of rows) {
    const g = groups.get(r.dim) ?? { t: [], e: [], c: [] }
    g.t.push(r.days)
    g.e.push(r.churned ? 1 : 0)
    g.c.push(Number(r.members))
    groups.set(r.dim, g)
  }
  const checkpoints = options.checkpoints ?? [30, 90, 180, 365, 730]
  return [...groups.entries()]
    .sort(([a], [b]) => String(a).localeCompare(String(b)))
    .map(([dimension, g]) => {
      const curve = fitKaplanMeier(g.t, g.e, {
        counts: g.c,
        ...(options.confidence === undefined ? {} : { confidence: options.confidence }),
        ...(options.confidenceType === undefined ? {} : { confidenceType: options.confidenceType }),
      })
      return {
        dimension,
        members: curve.subjects,
        churned: curve.events,
        curve,
        medianDays: curve.median,
        medianLowerDays: curve.medianLower,
        medianUpperDays: curve.medianUpper,
        checkpoints: checkpoints.map((days) => ({ days, survival: survivalAt(curve, days) })),
      }
    })
}
