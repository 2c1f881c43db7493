/**
 * The lifecycle stage of every member as of an instant, computed in one pass over purchases (rules in
 * {@link lifecycleConfigSchema}). `median` is a DuckDB and ClickHouse aggregate (ANSI would use
 * `percentile_cont(0.5) WITHIN GROUP`), used here for the member's typical inter-purchase gap.
 * @module
 */
import type { Driver } from '../drivers/driver.js'
import { ident, join, sql, unsafeRaw, type Fragment } from '../sql/fragment.js'
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
import {
  lowerBoundBefore,
  PURCHASE_SUMMARY_TABLE,
  purchaseSummaryCovers,
} from './purchase-summary.js'

/** Where the per-member purchase figures come from: every purchase, or the kept summary. */
export type StageSource = 'raw' | 'summary'

/**
 * `s`: per member with a purchase before `asOf`, the purchases, first and last purchase, median gap, latest
 * return from churn and purchases in the loyalty window. From the summary (`purchase-summary.ts`), only the
 * loyalty window's purchases are counted from `orders`, and that count reads only purchases after a lower
 * bound on the window.
 */
function perMember(asOfText: string, config: LifecycleConfig, source: StageSource): Fragment {
  const asOf = timestampParam(asOfText)
  const c = config
  if (source === 'summary')
    return sql`s AS (
      SELECT u.member_id, u.purchases AS n, u.first_ts, u.last_ts, u.median_gap_days AS med_gap,
        u.reactivated_at, coalesce(r.recent_n, 0) AS recent_n
      FROM ${ident(PURCHASE_SUMMARY_TABLE)} u LEFT JOIN (
        SELECT member_id, count(*) AS recent_n FROM orders
        WHERE status <> 'cancelled' AND ordered_at < ${asOf}
          AND ordered_at >= ${timestampParam(lowerBoundBefore(asOfText, c.loyalWindowDays))}
          AND ${daysBetween(sql`ordered_at`, asOf)} <= ${c.loyalWindowDays}
        GROUP BY member_id
      ) r ON r.member_id = u.member_id
    )`
  return sql`p AS (${purchasesBefore(asOf)}),
    g AS (
      SELECT member_id, ts, ${daysBetween(previousValue(sql`ts`, sql`PARTITION BY member_id ORDER BY ts`), sql`ts`)} AS gap FROM p
    ),
    s AS (
      SELECT member_id, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts, median(gap) AS med_gap,
        max(CASE WHEN gap >= ${c.churnDays} THEN ts END) AS reactivated_at,
        count(CASE WHEN ${daysBetween(sql`ts`, asOf)} <= ${c.loyalWindowDays} THEN 1 END) AS recent_n
      FROM g GROUP BY member_id
    )`
}

/**
 * `(member_id, stage, purchases, last_purchase_at, days_since_last, median_gap_days)` for every member
 * registered before `asOf` (exclusive instant). `source` `summary` reads the kept per-member summary, which
 * the caller has found to cover `asOf` and `config` ({@link purchaseSummaryCovers}).
 */
export function buildMemberStagesQuery(
  asOfText: string,
  config: LifecycleConfig,
  source: StageSource = 'raw',
): Fragment {
  const normalised = normaliseInstant(asOfText)
  const asOf = timestampParam(normalised)
  const c = config
  return sql`WITH ${perMember(normalised, config, source)},
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
export function buildStageCountsQuery(
  asOf: string,
  config: LifecycleConfig,
  source: StageSource = 'raw',
): Fragment {
  const stages = valuesRelation(
    'st',
    ['ord', 'stage'],
    LIFECYCLE_STAGES.map((s, i) => [i, s]),
  )
  return sql`WITH ms AS (${buildMemberStagesQuery(asOf, config, source)})
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

/**
 * `summary` when the kept per-member purchase summary covers `asOf` and `config` and `summaries` is not
 * `off`, else `raw`.
 */
export async function stageSource(
  driver: Driver,
  asOf: string,
  config: LifecycleConfig,
  summaries: 'auto' | 'off' = 'auto',
): Promise<StageSource> {
  if (summaries === 'off') return 'raw'
  return (await purchaseSummaryCovers(driver, normaliseInstant(asOf), config.churnDays))
    ? 'summary'
    : 'raw'
}

/**
 * Stage sizes as of an instant: from the kept per-member purchase summary when it covers the instant and the
 * churn threshold (`summaries` `off` reads every purchase), else from every purchase; the same either way.
 */
export async function getStageCounts(
  driver: Driver,
  asOf: string,
  config: LifecycleConfigInput = {},
  summaries: 'auto' | 'off' = 'auto',
): Promise<StageCount[]> {
  const c = lifecycleConfigSchema.parse(config)
  const rows = await driver.all<{ stage: LifecycleStage; members: bigint }>(
    buildStageCountsQuery(asOf, c, await stageSource(driver, asOf, c, summaries)),
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
  summaries: 'auto' | 'off' = 'auto',
): Promise<MemberStage[]> {
  const c = lifecycleConfigSchema.parse(config)
  const source = await stageSource(driver, asOf, c, summaries)
  const rows = await driver.all<{
    memberId: bigint
    stage: LifecycleStage
    purchases: bigint
    daysSinceLast: number | null
    medianGapDays: number | null
  }>(sql`${buildMemberStagesQuery(asOf, c, source)} ORDER BY member_id`)
  return rows.map((r) => ({
    memberId: Number(r.memberId),
    stage: r.stage,
    purchases: Number(r.purchases),
    daysSinceLast: r.daysSinceLast,
    medianGapDays: r.medianGapDays,
  }))
}
