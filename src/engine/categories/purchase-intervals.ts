/**
 * Inter-purchase intervals (回购周期): the days between a member's consecutive purchase days, as quantiles
 * (P10, P25, P50, P75, P90) per group of members or per category, and each member's own cadence (the median
 * and P90 of their own gaps).
 *
 * Rules (docs/categories.md): a purchase is an order not `cancelled`, with a member, placed before the as-of
 * instant; purchases on the same calendar day (in the given time zone) are one purchase day; a gap is the whole
 * number of days from one purchase day to the next, so a member with n purchase days has n − 1 gaps. Per
 * category, the purchase days are the days the member bought that category, so the gaps are the category's
 * repurchase cycle.
 * @module
 */
import { InputError } from '../../core/errors.js'
import { tableExists, type Driver } from '../drivers/driver.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { previousValue } from '../sql/window.js'
import { normaliseInstant, timestampParam } from '../cohorts/time-sql.js'
import { buildMemberStagesQuery } from '../lifecycle/lifecycle-stages.js'
import { DEFAULT_LIFECYCLE_CONFIG } from '../lifecycle/lifecycle-config.js'
import { buildSegmentMembersQuery } from '../segments/segment-members.js'
import { getSegment } from '../segments/segment-store.js'
import { UNKNOWN_CATEGORY } from './category-analysis.js'

export const INTERVAL_GROUPS = [
  'all',
  'category',
  'tier',
  'lifecycle_stage',
  'registration_channel',
] as const
export type IntervalGroup = (typeof INTERVAL_GROUPS)[number]

/** The quantile levels reported. */
export const INTERVAL_LEVELS = [0.1, 0.25, 0.5, 0.75, 0.9] as const

export interface IntervalOptions {
  /** Exclusive instant, `YYYY-MM-DD[ HH:MM:SS]` in UTC. */
  readonly asOf: string
  /** Default `all`. */
  readonly by?: IntervalGroup
  /** The zone whose calendar days purchases are merged by; default UTC. */
  readonly timezone?: string
  /** Only these members: a query returning `member_id` (a saved segment's members). */
  readonly members?: Fragment
}

export interface IntervalRow {
  /** The group (null: members without a tier); `all` for the whole base. */
  readonly group: string | null
  /** Members with at least one gap. */
  readonly members: number
  readonly gaps: number
  readonly p10: number | null
  readonly p25: number | null
  readonly p50: number | null
  readonly p75: number | null
  readonly p90: number | null
  readonly mean: number | null
}

export interface Intervals {
  readonly asOf: string
  readonly by: IntervalGroup
  /** Null when the grouping cannot be read (tiers before a ledger sync); `note` says why. */
  readonly rows: readonly IntervalRow[] | null
  readonly note?: string
}

/** One member's cadence: their own gaps' median and P90 (null with fewer than one gap). */
export interface MemberCadence {
  readonly purchaseDays: number
  readonly gaps: number
  readonly medianGapDays: number | null
  readonly p90GapDays: number | null
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))

/** A purchase's calendar day in the zone. */
function purchaseDay(driver: Driver, timezone: string | undefined): Fragment {
  const d = driver.dialect
  const ts =
    timezone === undefined || timezone === 'UTC'
      ? sql`o.ordered_at`
      : d.localTime(sql`o.ordered_at`, timezone)
  return sql`CAST(${ts} AS DATE)`
}

/** `(member_id, grp, gap)`: one row per gap between consecutive purchase days of a member (and group). */
function gapsQuery(
  driver: Driver,
  o: Required<Pick<IntervalOptions, 'asOf' | 'by'>> & IntervalOptions,
  groups: Fragment | undefined,
): Fragment {
  const at = timestampParam(o.asOf)
  const day = purchaseDay(driver, o.timezone)
  const only = o.members === undefined ? sql`` : sql`AND o.member_id IN (${o.members})`
  const days =
    o.by === 'category'
      ? sql`SELECT DISTINCT o.member_id, coalesce(nullif(trim(i.category), ''), ${UNKNOWN_CATEGORY}) AS grp, ${day} AS day
          FROM orders o JOIN order_items i ON i.order_id = o.order_id
          WHERE o.status <> 'cancelled' AND o.member_id IS NOT NULL AND o.ordered_at < ${at} ${only}`
      : sql`SELECT DISTINCT o.member_id, ${day} AS day FROM orders o
          WHERE o.status <> 'cancelled' AND o.member_id IS NOT NULL AND o.ordered_at < ${at} ${only}`
  const partition =
    o.by === 'category'
      ? sql`PARTITION BY member_id, grp ORDER BY day`
      : sql`PARTITION BY member_id ORDER BY day`
  const gaps = sql`SELECT member_id, ${o.by === 'category' ? sql`grp` : sql`CAST(NULL AS VARCHAR) AS grp`},
      ${driver.dialect.daysBetween(previousValue(sql`day`, partition), sql`day`)} AS gap
    FROM (${days}) d`
  if (o.by === 'category' || o.by === 'all' || groups === undefined)
    return sql`SELECT member_id, ${o.by === 'all' ? sql`'all'` : sql`grp`} AS grp, gap FROM (${gaps}) g WHERE gap IS NOT NULL`
  return sql`SELECT g.member_id, x.grp, g.gap FROM (${gaps}) g LEFT JOIN (${groups}) x ON x.member_id = g.member_id
    WHERE g.gap IS NOT NULL`
}

/** P10 … P90 of the gaps between consecutive purchase days, per group. */
export async function getPurchaseIntervals(
  driver: Driver,
  options: IntervalOptions,
): Promise<Intervals> {
  const by = options.by ?? 'all'
  if (!INTERVAL_GROUPS.includes(by))
    throw InputError.single({
      field: 'by',
      value: String(by),
      reason: `one of ${INTERVAL_GROUPS.join(', ')}`,
    })
  const asOf = normaliseInstant(options.asOf)
  let groups: Fragment | undefined
  if (by === 'tier') {
    if (!(await tableExists(driver, 'loyalty_accounts')))
      return {
        asOf,
        by,
        rows: null,
        note: 'tiers are read from the ledger synced into the database: run `memberlens loyalty sync` (or `loyalty replay`) first',
      }
    groups = sql`SELECT member_id, tier AS grp FROM (
      SELECT member_id, tier, row_number() OVER (PARTITION BY member_id ORDER BY updated_at DESC, ledger_member) AS rn
      FROM loyalty_accounts WHERE member_id IS NOT NULL) a WHERE rn = 1`
  } else if (by === 'lifecycle_stage') {
    groups = sql`SELECT member_id, stage AS grp FROM (${buildMemberStagesQuery(asOf, DEFAULT_LIFECYCLE_CONFIG)}) st`
  } else if (by === 'registration_channel') {
    groups = sql`SELECT member_id, registration_channel AS grp FROM members`
  }
  const d = driver.dialect
  const q = (p: number) => d.quantile(sql`CAST(gap AS DOUBLE)`, p)
  const rows = await driver.all<Record<string, unknown>>(sql`
    SELECT grp, count(DISTINCT member_id) AS members, count(*) AS gaps,
      ${q(0.1)} AS p10, ${q(0.25)} AS p25, ${q(0.5)} AS p50, ${q(0.75)} AS p75, ${q(0.9)} AS p90,
      avg(CAST(gap AS DOUBLE)) AS mean
    FROM (${gapsQuery(driver, { ...options, asOf, by }, groups)}) x
    GROUP BY grp ORDER BY count(*) DESC, grp`)
  return {
    asOf,
    by,
    rows: rows.map((r) => ({
      group: (r['grp'] as string | null) ?? null,
      members: Number(r['members']),
      gaps: Number(r['gaps']),
      p10: num(r['p10']),
      p25: num(r['p25']),
      p50: num(r['p50']),
      p75: num(r['p75']),
      p90: num(r['p90']),
      mean: num(r['mean']),
    })),
  }
}

/** A member's own cadence from their purchase days before `asOf` (all of them without). */
export async function getMemberCadence(
  driver: Driver,
  memberId: number,
  options: { readonly asOf?: string; readonly timezone?: string } = {},
): Promise<MemberCadence> {
  const day = purchaseDay(driver, options.timezone)
  const before =
    options.asOf === undefined
      ? sql``
      : sql`AND o.ordered_at < ${timestampParam(normaliseInstant(options.asOf))}`
  const partition = sql`ORDER BY day`
  const r = await driver.first<Record<string, unknown>>(sql`
    SELECT count(*) AS days, count(gap) AS gaps, ${driver.dialect.quantile(sql`CAST(gap AS DOUBLE)`, 0.5)} AS p50,
      ${driver.dialect.quantile(sql`CAST(gap AS DOUBLE)`, 0.9)} AS p90
    FROM (
      SELECT day, ${driver.dialect.daysBetween(previousValue(sql`day`, partition), sql`day`)} AS gap FROM (
        SELECT DISTINCT ${day} AS day FROM orders o
        WHERE o.member_id = ${memberId} AND o.status <> 'cancelled' ${before}) d
    ) g`)
  const gaps = Number(r?.['gaps'] ?? 0)
  return {
    purchaseDays: Number(r?.['days'] ?? 0),
    gaps,
    medianGapDays: gaps === 0 ? null : num(r?.['p50']),
    p90GapDays: gaps === 0 ? null : num(r?.['p90']),
  }
}

/** The members of a saved segment as of `asOf`, as a `member_id` query (throws when there is no such segment). */
export async function segmentMemberIds(
  driver: Driver,
  name: string,
  asOf: string,
): Promise<Fragment> {
  const segment = await getSegment(driver, name)
  return sql`SELECT member_id FROM (${buildSegmentMembersQuery(driver.dialect, segment.definition.filter, normaliseInstant(asOf))}) s`
}
