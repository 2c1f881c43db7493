/**
 * Time to churn per member, for survival curves: from the origin (first purchase, or registration) to the end
 * of the member's first purchase spell — the moment the lifecycle rules first call them churned, `churnDays`
 * after the last purchase of that spell. Members not churned by `asOf` are censored at `asOf`.
 * Registered members without a purchase are left out: under the purchase-based lifecycle they cannot churn.
 * @module
 */
import { sql, type Fragment } from '../sql/fragment.js'
import { dimensionSubquery, type Dimension } from '../cohorts/dimension.js'
import { daysBetween, normaliseInstant, timestampParam } from '../cohorts/time-sql.js'
import { buildPurchaseSpellsQuery } from './purchase-spells.js'

export const SURVIVAL_ORIGINS = ['first-purchase', 'registration'] as const
export type SurvivalOrigin = (typeof SURVIVAL_ORIGINS)[number]

/**
 * `(dim, days, churned, members)`: members grouped by dimension value, duration in days (fractional) and
 * whether the churn was observed.
 */
export function buildChurnDurationsQuery(options: {
  asOf: string
  churnDays: number
  origin: SurvivalOrigin
  dimension?: Dimension | undefined
}): Fragment {
  const asOf = timestampParam(normaliseInstant(options.asOf))
  const origin = options.origin === 'registration' ? sql`m.registered_at` : sql`sp.start_ts`
  const D = options.churnDays
  return sql`WITH sp AS (SELECT * FROM (${buildPurchaseSpellsQuery(options.asOf, D)}) s WHERE spell = 1),
    d AS (
      SELECT dm.dim, sp.closed AS churned,
        greatest(0, CASE WHEN sp.closed THEN ${daysBetween(origin, sql`sp.last_ts`)} + ${D} ELSE ${daysBetween(origin, asOf)} END) AS days
      FROM sp JOIN members m ON m.member_id = sp.member_id
      LEFT JOIN (${dimensionSubquery(options.dimension)}) dm ON dm.member_id = sp.member_id
      WHERE m.registered_at < ${asOf}
    )
    SELECT dim, days, churned, count(*) AS members FROM d GROUP BY dim, days, churned`
}
