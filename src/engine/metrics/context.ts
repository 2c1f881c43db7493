/**
 * What a metric query is compiled against: the grain and range, the dimensions, the member filter, the
 * reporting time zone and the definitions' settings. Pure values and SQL builders; nothing runs here.
 * @module
 */
import type { Grain, SqlDialect } from '../dialects/dialect.js'
import { DEFAULT_LIFECYCLE_CONFIG } from '../lifecycle/lifecycle-config.js'
import { ident, join, sql, unsafeRaw, type Fragment } from '../sql/fragment.js'
import type { Dimension, SourceId } from './dimensions.js'

/** Definition settings shared by the catalog (each configurable; defaults in {@link DEFAULT_SETTINGS}). */
export interface MetricSettings {
  /** Event types that make a member active (besides purchases); empty = every event type. */
  readonly qualifyingEvents: readonly string[]
  /** Event types that count as engagement (besides reviews). */
  readonly engagementEvents: readonly string[]
  /** Minutes of inactivity that end a session when events carry no session id. */
  readonly sessionGapMinutes: number
  /**
   * What keeps a member from churning: `purchases` (the lifecycle definition: churned once `churnDays` pass
   * without a purchase) or `activity` (any qualifying event, purchase or the registration).
   */
  readonly churnBasis: 'purchases' | 'activity'
  /** Days without a purchase (or activity) after which a member counts as churned. */
  readonly churnDays: number
  /** Days after registration within which a first purchase counts as converted. */
  readonly firstPurchaseDays: number
  /** Periods after t within which a buyer of t must buy again (cross-period repurchase). */
  readonly repurchasePeriods: number
  /** k of the cohort retention rate: the cohort registered k periods before the period it is read in. */
  readonly cohortPeriods: number
  /** Campaign touch kinds that are win-back campaigns. */
  readonly winbackKinds: readonly string[]
  /** Days after a win-back touch within which activity counts as won back. */
  readonly winbackDays: number
  /**
   * Outcome window of the campaign metrics: orders and net revenue in [t0, t0 + days) after a campaign's first
   * send t0, the window `memberlens effects` measures by default.
   */
  readonly campaignWindowDays: number
}

export const DEFAULT_SETTINGS: MetricSettings = {
  qualifyingEvents: [],
  engagementEvents: ['check_in', 'share', 'benefit_use', 'coupon_claim'],
  sessionGapMinutes: 30,
  churnBasis: 'purchases',
  churnDays: DEFAULT_LIFECYCLE_CONFIG.churnDays,
  firstPurchaseDays: 30,
  repurchasePeriods: 1,
  cohortPeriods: 1,
  winbackKinds: ['winback'],
  winbackDays: 30,
  campaignWindowDays: 30,
}

export interface CompileContext {
  readonly dialect: SqlDialect
  readonly grain: Grain
  /** First period start (timestamp literal as a parameter fragment). */
  readonly lo: Fragment
  /** Last period start. */
  readonly last: Fragment
  /** End of the last period (exclusive). */
  readonly hi: Fragment
  readonly dims: readonly Dimension[]
  /** Condition over members aliased `m`, or undefined. */
  readonly memberFilter?: Fragment
  readonly timezone: string
  readonly settings: MetricSettings
  /** Common table expressions the dimensions and the member filter read (snapshot dimensions). */
  readonly dimensionCtes?: readonly Fragment[]
  /**
   * Days every source time is moved later (0 or absent: none). A period then holds what happened this many days
   * before it: how `:yoy_event` reads the window a year back that it compares with.
   */
  readonly shiftDays?: number
  /**
   * Read activity, engagement and retention from the member × day rollup (`rollups.ts`) instead of the raw
   * events, orders and feedback: set only when the rollup is current and keyed by {@link timezone}.
   */
  readonly rollups?: boolean
  /**
   * With {@link rollups}: the member × month table also serves, computed from the current day rollup with this
   * query's qualifying and engagement events (`rollups.ts`).
   */
  readonly monthRollup?: boolean
  /**
   * The loyalty ledger is synced into the engine (`loyalty_entries` and `loyalty_sync_state` exist): a campaign's
   * cost then includes the bonus points the ledger credited for it. Absent: no points are counted.
   */
  readonly loyaltyLedger?: boolean
}

/** Period start of a timestamp at the context's grain. */
export function periodOf(ctx: CompileContext, ts: Fragment): Fragment {
  return ctx.dialect.dateTrunc(ctx.grain, ts)
}

/** Column name of the i-th dimension in every measure's output. */
export function dimColumn(i: number): string {
  return `d${i}`
}

/** True when the query must join members (member dimensions or a member filter). */
export function needsMembers(ctx: CompileContext): boolean {
  return ctx.memberFilter !== undefined || ctx.dims.some((d) => d.kind === 'member')
}

/**
 * `expr AS d0, …` for a source aliased `s` (members aliased `m`). Throws when a row-level dimension does not
 * apply to the source.
 */
export function dimSelects(ctx: CompileContext, source: SourceId, s: string, m = 'm'): Fragment[] {
  return ctx.dims.map((d, i) => sql`${d.expr(source, s, m)} AS ${ident(dimColumn(i))}`)
}

/** `alias.d0, alias.d1, …`. */
export function dimRefs(ctx: CompileContext, alias: string): Fragment[] {
  return ctx.dims.map((_, i) => sql`${ident(alias, dimColumn(i))}`)
}

/** `, d0, d1` after a leading column (empty when there are no dimensions). */
export function withDims(parts: readonly Fragment[]): Fragment {
  return parts.length === 0 ? sql`` : sql`, ${join(parts)}`
}

/** `GROUP BY 1, 2, …` for a period column followed by the dimensions. */
export function groupByPeriodAndDims(ctx: CompileContext, extra = 0): Fragment {
  const n = 1 + ctx.dims.length + extra
  // Positions are integers generated here, never input.
  return sql`GROUP BY ${join(Array.from({ length: n }, (_, i) => unsafeRaw(String(i + 1))))}`
}

/** ` JOIN members m ON m.member_id = s.member_id` when dimensions or the filter need members. */
export function memberJoin(ctx: CompileContext, s: string): Fragment {
  return needsMembers(ctx) ? sql` JOIN members m ON m.member_id = ${ident(s, 'member_id')}` : sql``
}

/** ` AND (filter)` or nothing. */
export function memberWhere(ctx: CompileContext): Fragment {
  return ctx.memberFilter === undefined ? sql`` : sql` AND (${ctx.memberFilter})`
}
