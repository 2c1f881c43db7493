/**
 * The lifecycle stage of every member as of an instant, computed in one pass over purchases (rules in
 * {@link lifecycleConfigSchema}). `median` is a DuckDB and ClickHouse aggregate (ANSI would use
 * `percentile_cont(0.5) WITHIN GROUP`), used here for the member's typical inter-purchase gap.
 * @module
 */
import type { Driver } from '../drivers/driver.js'
import { join, sql, unsafeRaw, type Fragment } from '../sql/fragment.js'
import { valuesRelation } from '../sql/values.js'
import { previousValue } from '../sql/window.js'
import {
  daysBetween,
  normaliseInstant,
  purchasesBefore,
  timestampParam,
} from '../cohorts/time-sql.js'
import {
  LIFECYCLE_STAGES,
  lifecycleConfigSchema,
  type LifecycleConfig,
  type LifecycleConfigInput,
  type LifecycleStage,
} from './lifecycle-config.js'

/**
 * `(member_id, stage, purchases, last_purchase_at, days_since_last, median_gap_days)` for every member
 * registered before `asOf` (exclusive instant).
 */
export function buildMemberStagesQuery(asOfText: string, config: LifecycleConfig): Fragment {
  const asOf = timestampParam(normaliseInstant(asOfText))
  const c = config
  return sql`WITH p AS (${purchasesBefore(asOf)}),
    g AS (
      SELECT member_id, ts, ${daysBetween(previousValue(sql`ts`, sql`PARTITION BY member_id ORDER BY ts`), sql`ts`)} AS gap FROM p
    ),
    s AS (
      SELECT member_id, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts, median(gap) AS med_gap,
        max(CASE WHEN gap >= ${c.churnDays} THEN ts END) AS reactivated_at,
        count(CASE WHEN ${daysBetween(sql`ts`, asOf)} <= ${c.loyalWindowDays} THEN 1 END) AS recent_n
      FROM g GROUP BY member_id
    ),
    x AS (
      SELECT m.member_id, s.n, s.first_ts, s.last_ts, s.med_gap, s.reactivated_at, s.recent_n,
        ${daysBetween(sql`s.last_ts`, asOf)} AS since_last
      FROM members m LEFT JOIN s ON s.member_id = m.member_id WHERE m.registered_at < ${asOf}
    )
    SELECT member_id,
      CASE
        WHEN n IS NULL THEN 'registered_not_purchased'
        WHEN since_last >= ${c.churnDays} THEN 'churned'
        WHEN n = 1 AND since_last >= ${c.oneOrderDormantDays} THEN 'dormant'
        WHEN n > 1 AND since_last >= greatest(${c.dormantMultiple} * med_gap, ${c.minGapDays}) THEN 'dormant'
        WHEN n = 1 AND since_last >= ${c.oneOrderAtRiskDays} THEN 'at_risk'
        WHEN n > 1 AND since_last >= greatest(${c.atRiskMultiple} * med_gap, ${c.minGapDays}) THEN 'at_risk'
        WHEN ${daysBetween(sql`first_ts`, asOf)} < ${c.newDays} THEN 'new'
        WHEN reactivated_at IS NOT NULL AND ${daysBetween(sql`reactivated_at`, asOf)} < ${c.reactivatedDays} THEN 'reactivated'
        WHEN recent_n >= ${c.loyalOrders} THEN 'loyal'
        ELSE 'active'
      END AS stage,
      coalesce(n, 0) AS purchases, last_ts AS last_purchase_at, since_last AS days_since_last, med_gap AS median_gap_days
    FROM x`
}

/** `(stage, members)` for every stage (zeros included), in {@link LIFECYCLE_STAGES} order. */
export function buildStageCountsQuery(asOf: string, config: LifecycleConfig): Fragment {
  const stages = valuesRelation(
    'st',
    ['ord', 'stage'],
    LIFECYCLE_STAGES.map((s, i) => [i, s]),
  )
  return sql`WITH ms AS (${buildMemberStagesQuery(asOf, config)})
    SELECT st.stage, count(ms.member_id) AS members
    FROM ${stages} LEFT JOIN ms ON ms.stage = st.stage
    GROUP BY st.ord, st.stage ORDER BY st.ord`
}

/** `SELECT member_id` of the members in the given stages as of `asOf` (for segments). */
export function buildStageMembersQuery(
  asOf: string,
  config: LifecycleConfig,
  stages: readonly LifecycleStage[],
): Fragment {
  // Stage names are checked against the closed set before they reach the text.
  for (const s of stages) if (!LIFECYCLE_STAGES.includes(s)) throw new Error(`unknown stage ${s}`)
  const list = join(stages.map((s) => unsafeRaw(`'${s}'`)))
  return sql`SELECT member_id FROM (${buildMemberStagesQuery(asOf, config)}) WHERE stage IN (${list})`
}

export interface StageCount {
  readonly stage: LifecycleStage
  readonly members: number
}

/** Stage sizes as of an instant. */
export async function getStageCounts(
  driver: Driver,
  asOf: string,
  config: LifecycleConfigInput = {},
): Promise<StageCount[]> {
  const rows = await driver.all<{ stage: LifecycleStage; members: bigint }>(
    buildStageCountsQuery(asOf, lifecycleConfigSchema.parse(config)),
  )
  return rows.map((r) => ({ stage: r.stage, members: Number(r.members) }))
}

export interface MemberStage {
  readonly memberId: number
  readonly stage: LifecycleStage
  readonly purchases: number
  readonly daysSinceLast: number | null
  readonly medianGapDays: number | null
}

/** Every member's stage as of an instant (small databases, tests, exports; use SQL for large ones). */
export async function getMemberStages(
  driver: Driver,
  asOf: string,
  config: LifecycleConfigInput = {},
): Promise<MemberStage[]> {
  const rows = await driver.all<{
    memberId: bigint
    stage: LifecycleStage
    purchases: bigint
    daysSinceLast: number | null
    medianGapDays: number | null
  }>(sql`${buildMemberStagesQuery(asOf, lifecycleConfigSchema.parse(config))} ORDER BY member_id`)
  return rows.map((r) => ({
    memberId: Number(r.memberId),
    stage: r.stage,
    purchases: Number(r.purchases),
    daysSinceLast: r.daysSinceLast,
    medianGapDays: r.medianGapDays,
  }))
}
