/**
 * Time to churn per member, for survival curves: from the origin (first purchase, or registration) to the last
 * purchase of the member's first purchase spell — the purchase after which `churnDays` passed without another,
 * so that the lifecycle rules call the member churned from then on. The churn is dated at that last purchase,
 * so a member who bought once and never again churns at day 0 (from the first purchase).
 *
 * A churn dated at `t` is only seen once `churnDays` more have passed, so the data up to `asOf` show churns up
 * to the horizon `asOf − churnDays` and no later. Every member still in their first spell at `asOf` is known to
 * have churned after the horizon (their latest purchase is after it) and is censored there; members whose
 * origin is after the horizon have no observable time and are left out. Registered members without a purchase
 * are left out too: under the purchase-based lifecycle they cannot churn.
 * @module
 */
import type { SqlDialect } from '../dialects/dialect.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { dimensionSubquery, type Dimension } from '../cohorts/dimension.js'
import { daysBetween, normaliseInstant, timestampParam } from '../cohorts/time-sql.js'
import { buildPurchaseSpellsQuery } from './purchase-spells.js'

export const SURVIVAL_ORIGINS = ['first-purchase', 'registration'] as const
export type SurvivalOrigin = (typeof SURVIVAL_ORIGINS)[number]

/** `asOf` (`YYYY-MM-DD[ HH:MM[:SS]]`, UTC) less `days` whole days, as `YYYY-MM-DD HH:MM:SS`. */
export function churnHorizon(asOf: string, days: number): string {
  const start = Date.parse(`${normaliseInstant(asOf).replace(' ', 'T')}Z`)
  return new Date(start - days * 86_400_000).toISOString().slice(0, 19).replace('T', ' ')
}

/**
 * `(dim, days, churned, members)`: members grouped by dimension value, duration in days (fractional) and
 * whether the churn was observed.
 */
export function buildChurnDurationsQuery(options: {
  dialect: SqlDialect
  asOf: string
  churnDays: number
  origin: SurvivalOrigin
  dimension?: Dimension | undefined
}): Fragment {
  const asOf = timestampParam(normaliseInstant(options.asOf))
  const horizon = timestampParam(churnHorizon(options.asOf, options.churnDays))
  const origin = options.origin === 'registration' ? sql`m.registered_at` : sql`sp.start_ts`
  return sql`WITH sp AS (SELECT * FROM (${buildPurchaseSpellsQuery(options.asOf, options.churnDays)}) s WHERE spell = 1),
    d AS (
      SELECT dm.dim, sp.closed AS churned,
        greatest(0, CASE WHEN sp.closed THEN ${daysBetween(origin, sql`sp.last_ts`)} ELSE ${daysBetween(origin, horizon)} END) AS days
      FROM sp JOIN members m ON m.member_id = sp.member_id
      LEFT JOIN (${dimensionSubquery(options.dialect, options.dimension)}) dm ON dm.member_id = sp.member_id
      WHERE m.registered_at < ${asOf} AND ${origin} <= ${horizon}
    )
    SELECT dim, days, churned, count(*) AS members FROM d GROUP BY dim, days, churned`
}
