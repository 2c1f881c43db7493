/**
 * Measures: the additive parts metrics are computed from. Each builds one query whose rows are
 * `(period, d0…dn, v)` for the periods of the request; metrics combine measures per group (a ratio is the ratio
 * of its parts in that group, never an average of ratios).
 * @module
 */
import { InputError } from '../../core/errors.js'
import { ident, join, sql, unsafeRaw, type Fragment } from '../sql/fragment.js'
import { previousValue } from '../sql/window.js'
import {
  dimRefs,
  dimSelects,
  groupByPeriodAndDims,
  memberJoin,
  memberWhere,
  periodOf,
  withDims,
  type CompileContext,
} from './context.js'
import type { SourceId } from './dimensions.js'
import { MONTH_ROLLUP_TABLE, ROLLUP_TABLE } from './rollups.js'
import {
  campaignWindowDays,
  readsMonthPurchases,
  readsMonthTable,
  rollupActiveFacts,
  shiftedRollupTime,
} from './sources.js'

export interface Measure {
  readonly id: string
  /** Sources whose CTEs the measure reads. */
  readonly sources: readonly SourceId[]
  /** The source that row dimensions come from (undefined: row dimensions do not apply). */
  readonly rowSource?: SourceId
  /** False for measures without members (spend): member dimensions other than the channel and filters do not apply. */
  readonly memberBased: boolean
  /** Missing groups are 0 (counts and sums) rather than empty (averages, medians). */
  readonly zeroWhenEmpty: boolean
  /**
   * Common tables the measure reads besides the sources, by name: each is built once per query however many
   * measures of the query read it.
   */
  readonly shared?: readonly SharedTable[]
  build(ctx: CompileContext): Fragment
}

/** A common table (CTE) that several measures read. */
export interface SharedTable {
  readonly name: string
  build(ctx: CompileContext): Fragment
}

const src = (id: SourceId) => sql`${ident(`src_${id}`)}`

/**
 * The member of row `s` is active in the period of the row: rates over active members count only active
 * members in their numerator, so that they stay shares.
 */
function activeInSamePeriod(ctx: CompileContext, s: string): Fragment {
  return sql`EXISTS (SELECT 1 FROM src_member_periods a WHERE a.member_id = ${ident(s, 'member_id')}
    AND a.period = ${periodOf(ctx, sql`${ident(s, 'ts')}`)})`
}
const inRange = (ctx: CompileContext, ts: Fragment) => sql`${ts} >= ${ctx.lo} AND ${ts} < ${ctx.hi}`

/**
 * The member × month table's months with purchases in the period range, aliased `s` (joined to members when
 * the dimensions or the filter need them), with the filter: what a purchase measure reads in place of the
 * purchases when {@link readsMonthPurchases} holds.
 */
function monthsWithPurchases(ctx: CompileContext): Fragment {
  return sql`${ident(MONTH_ROLLUP_TABLE)} s${memberJoin(ctx, 's')}
    WHERE s.orders > 0 AND s.month >= ${ctx.lo} AND s.month < ${ctx.hi}${memberWhere(ctx)}`
}

/** An aggregate over one source's rows in the period range (also used for custom metrics). */
export function aggregate(
  id: string,
  source: SourceId,
  /** The aggregate, or a function of the context for aggregates that differ by engine (median). */
  agg: Fragment | ((ctx: CompileContext) => Fragment),
  options: {
    where?: Fragment
    zero?: boolean
    rowDims?: boolean
    memberBased?: boolean
    activeOnly?: boolean
    /**
     * The same aggregate over the member × month table's rows with purchases (aliased `s`: `member_id`,
     * `orders`, `amount`), read when it stands for the purchases ({@link readsMonthPurchases}).
     */
    months?: (ctx: CompileContext) => Fragment
  } = {},
): Measure {
  const memberBased = options.memberBased ?? true
  return {
    id,
    sources: options.activeOnly ? [source, 'member_periods'] : [source],
    ...(options.rowDims === false ? {} : { rowSource: source }),
    memberBased,
    zeroWhenEmpty: options.zero ?? true,
    build(ctx) {
      if (options.months !== undefined && readsMonthPurchases(ctx)) {
        // Month starts are the periods at the month grain: no truncation per row.
        const period = ctx.grain === 'month' ? sql`s.month` : periodOf(ctx, sql`s.month`)
        return sql`SELECT ${period} AS period${withDims(dimSelects(ctx, source, 's'))}, ${options.months(ctx)} AS v
          FROM ${monthsWithPurchases(ctx)}
          ${groupByPeriodAndDims(ctx)}`
      }
      const parts = [
        options.where,
        options.activeOnly ? activeInSamePeriod(ctx, 's') : undefined,
      ].filter((x) => x !== undefined)
      const where = parts.length === 0 ? sql`` : sql` AND (${join(parts, ' AND ')})`
      const members = memberBased ? memberJoin(ctx, 's') : sql``
      const value = typeof agg === 'function' ? agg(ctx) : agg
      return sql`SELECT ${periodOf(ctx, sql`s.ts`)} AS period${withDims(dimSelects(ctx, source, 's'))}, ${value} AS v
        FROM ${src(source)} s${members}
        WHERE ${inRange(ctx, sql`s.ts`)}${where}${memberBased ? memberWhere(ctx) : sql``}
        ${groupByPeriodAndDims(ctx)}`
    },
  }
}

/**
 * Members per period whose own count of rows in the period satisfies a condition (e.g. ≥ 2 purchases):
 * counted once per member and period.
 */
function membersWith(
  id: string,
  source: 'purchases',
  having: Fragment,
  /** The same condition over a member's month-table rows in the period (aliased `s`). */
  monthsHaving: Fragment,
): Measure {
  return {
    id,
    sources: [source],
    memberBased: true,
    zeroWhenEmpty: true,
    build(ctx) {
      const rows = readsMonthPurchases(ctx)
        ? sql`SELECT ${periodOf(ctx, sql`s.month`)} AS period${withDims(dimSelects(ctx, source, 's'))}, s.member_id
          FROM ${monthsWithPurchases(ctx)}
          ${groupByPeriodAndDims(ctx, 1)} HAVING ${monthsHaving}`
        : sql`SELECT ${periodOf(ctx, sql`s.ts`)} AS period${withDims(dimSelects(ctx, source, 's'))}, s.member_id
          FROM ${src(source)} s${memberJoin(ctx, 's')}
          WHERE ${inRange(ctx, sql`s.ts`)}${memberWhere(ctx)}
          ${groupByPeriodAndDims(ctx, 1)} HAVING ${having}`
      return sql`SELECT x.period${withDims(dimRefs(ctx, 'x'))}, count(*) AS v FROM (${rows}) x ${groupByPeriodAndDims(ctx)}`
    },
  }
}

/** Distinct (member, period) pairs of a source over [lo − before periods, hi + after periods). */
function memberPeriods(
  ctx: CompileContext,
  source: SourceId,
  before: number,
  after: number,
): Fragment {
  const d = ctx.dialect
  return sql`SELECT DISTINCT s.member_id, ${periodOf(ctx, sql`s.ts`)} AS period${withDims(dimSelects(ctx, source, 's'))}
    FROM ${src(source)} s${memberJoin(ctx, 's')}
    WHERE s.ts >= ${d.addPeriods(ctx.grain, ctx.lo, -before)} AND s.ts < ${d.addPeriods(ctx.grain, ctx.hi, after)}${memberWhere(ctx)}`
}

/** Members per period of the member-period pairs (active members), optionally only the engaged ones. */
function periodMembers(id: string, engagedOnly: boolean): Measure {
  return {
    id,
    sources: ['member_periods'],
    memberBased: true,
    zeroWhenEmpty: true,
    build(ctx) {
      return sql`SELECT s.period${withDims(dimSelects(ctx, 'activity', 's'))}, count(*) AS v
        FROM src_member_periods s${memberJoin(ctx, 's')}
        WHERE s.period >= ${ctx.lo}${engagedOnly ? sql` AND s.engaged = 1` : sql``}${memberWhere(ctx)}
        ${groupByPeriodAndDims(ctx)}`
    },
  }
}

/** Members active in t and in t − 1 (period retention numerator). */
const retainedMembers: Measure = {
  id: 'retained_members',
  sources: ['member_periods'],
  memberBased: true,
  zeroWhenEmpty: true,
  build(ctx) {
    const d = ctx.dialect
    // By month from the member × month table: its rows carry whether the month before was active.
    if (readsMonthTable(ctx) && ctx.grain === 'month') {
      return sql`SELECT cur.month AS period${withDims(dimSelects(ctx, 'activity', 'cur'))}, count(*) AS v
        FROM ${ident(MONTH_ROLLUP_TABLE)} cur${memberJoin(ctx, 'cur')}
        WHERE cur.active = 1 AND cur.prev_active = 1 AND cur.month >= ${ctx.lo} AND cur.month < ${ctx.hi}${memberWhere(ctx)}
        ${groupByPeriodAndDims(ctx)}`
    }
    // Named explicitly: ClickHouse names an ambiguous `cur.period` of a join after the qualified name.
    return sql`SELECT cur.period AS period${withDims(dimSelects(ctx, 'activity', 'cur'))}, count(*) AS v
      FROM src_member_periods cur${memberJoin(ctx, 'cur')}
      JOIN src_member_periods prev
        ON prev.member_id = cur.member_id AND prev.period = ${d.addPeriods(ctx.grain, sql`cur.period`, -1)}
      WHERE cur.period >= ${ctx.lo}${memberWhere(ctx)}
      ${groupByPeriodAndDims(ctx)}`
  },
}

/** Members active in t − 1, reported at t (period retention denominator). */
const previousActive: Measure = {
  id: 'previous_active',
  sources: ['member_periods'],
  memberBased: true,
  zeroWhenEmpty: true,
  build(ctx) {
    const d = ctx.dialect
    // Counted per period, then moved one period on (one addition per group, not per member). Named
    // `prev_period` inside: ClickHouse 18.x reads `p.period` as the alias `period` when it is reused.
    return sql`SELECT ${d.addPeriods(ctx.grain, sql`x.prev_period`, 1)} AS period${withDims(dimRefs(ctx, 'x'))}, x.v AS v FROM (
      SELECT p.period AS prev_period${withDims(dimSelects(ctx, 'activity', 'p'))}, count(*) AS v
      FROM src_member_periods p${memberJoin(ctx, 'p')}
      WHERE p.period < ${ctx.last}${memberWhere(ctx)}
      ${groupByPeriodAndDims(ctx)}) x`
  },
}

/** Buyers of t who buy again within the next k periods (cross-period repurchase numerator). */
const repurchasersNext: Measure = {
  id: 'repurchasers_next',
  sources: ['purchases'],
  memberBased: true,
  zeroWhenEmpty: true,
  build(ctx) {
    const d = ctx.dialect
    const k = ctx.settings.repurchasePeriods
    return sql`SELECT b.period${withDims(dimRefs(ctx, 'b'))}, count(*) AS v
      FROM (${memberPeriods(ctx, 'purchases', 0, k)}) b
      WHERE b.period <= ${ctx.last} AND EXISTS (
        SELECT 1 FROM (${memberPeriods(ctx, 'purchases', 0, k)}) a
        WHERE a.member_id = b.member_id AND a.period > b.period AND a.period <= ${d.addPeriods(ctx.grain, sql`b.period`, k)})
      ${groupByPeriodAndDims(ctx)}`
  },
}

/**
 * The cohort registered k periods before each period (k = `cohortPeriods`), reported at that period: all of
 * its members, or (`activeOnly`) those active in the period — the N-period retention of a registration cohort.
 */
function cohortMembers(id: string, activeOnly: boolean): Measure {
  return {
    id,
    sources: activeOnly ? ['registrations', 'member_periods'] : ['registrations'],
    memberBased: true,
    zeroWhenEmpty: true,
    build(ctx) {
      const d = ctx.dialect
      const k = ctx.settings.cohortPeriods
      if (!(Number.isInteger(k) && k >= 1)) {
        throw InputError.single({
          field: 'cohortPeriods',
          value: String(k),
          reason: 'a whole number of periods, 1 or more',
        })
      }
      const at = d.addPeriods(ctx.grain, periodOf(ctx, sql`s.ts`), k)
      const active = activeOnly
        ? sql` AND EXISTS (SELECT 1 FROM src_member_periods a WHERE a.member_id = s.member_id AND a.period = ${at})`
        : sql``
      return sql`SELECT ${at} AS period${withDims(dimSelects(ctx, 'registrations', 's'))}, count(*) AS v
        FROM src_registrations s${memberJoin(ctx, 's')}
        WHERE s.ts >= ${d.addPeriods(ctx.grain, ctx.lo, -k)} AND s.ts < ${d.addPeriods(ctx.grain, ctx.hi, -k)}${active}${memberWhere(ctx)}
        ${groupByPeriodAndDims(ctx)}`
    },
  }
}

/** Members registered in the period whose first purchase came within N days of registering. */
const firstPurchaseConverted: Measure = {
  id: 'first_purchase_converted',
  sources: ['registrations', 'purchases'],
  memberBased: true,
  zeroWhenEmpty: true,
  build(ctx) {
    const d = ctx.dialect
    const days = ctx.settings.firstPurchaseDays
    return sql`SELECT ${periodOf(ctx, sql`s.ts`)} AS period${withDims(dimSelects(ctx, 'registrations', 's'))}, count(*) AS v
      FROM src_registrations s${memberJoin(ctx, 's')}
      JOIN (SELECT member_id, min(ts) AS first_ts FROM src_purchases GROUP BY member_id) f ON f.member_id = s.member_id
      WHERE ${inRange(ctx, sql`s.ts`)}${memberWhere(ctx)}
        AND f.first_ts >= s.ts AND f.first_ts < ${d.addPeriods('day', sql`s.ts`, days)}
      ${groupByPeriodAndDims(ctx)}`
  },
}

/**
 * Members touched by a win-back campaign in the period (first such touch of the period), in the treatment
 * or the holdout group; with `returned`, those active within `winbackDays` after that touch.
 */
function winback(id: string, group: 'treatment' | 'holdout', returned: boolean): Measure {
  return {
    id,
    sources: ['touches', 'activity'],
    memberBased: true,
    zeroWhenEmpty: true,
    build(ctx) {
      const d = ctx.dialect
      const kinds = ctx.settings.winbackKinds
      if (kinds.length === 0) throw new Error('winbackKinds must name at least one touch kind')
      const back = returned
        ? sql` WHERE EXISTS (SELECT 1 FROM src_activity a WHERE a.member_id = x.member_id AND a.ts > x.first_ts
            AND a.ts <= ${d.addPeriods('day', sql`x.first_ts`, ctx.settings.winbackDays)})`
        : sql``
      return sql`SELECT x.period${withDims(dimRefs(ctx, 'x'))}, count(*) AS v FROM (
          SELECT ${periodOf(ctx, sql`s.ts`)} AS period${withDims(dimSelects(ctx, 'touches', 's'))}, s.member_id, min(s.ts) AS first_ts
          FROM src_touches s${memberJoin(ctx, 's')}
          WHERE ${inRange(ctx, sql`s.ts`)} AND s.kind IN (${join(kinds.map((k) => sql`${k}`))})
            AND s.treatment_group = ${group}${memberWhere(ctx)}
          ${groupByPeriodAndDims(ctx, 1)}
        ) x${back}
        ${groupByPeriodAndDims(ctx)}`
    },
  }
}

/**
 * What the campaign measures aggregate per campaign (and dimension values): `n_t`/`n_h` members of the treated
 * and holdout groups, `o_t`/`o_h` their purchases and `r_t`/`r_h` their net revenue in the window
 * [t0, t0 + campaignWindowDays), `cost` the campaign's full cost and `coupons` its part for redeemed coupons,
 * `complete` 1 when the window is over; `measured` is a campaign with members in both groups.
 */
type CampaignAggregate = (c: {
  readonly measured: Fragment
  readonly col: (name: string) => Fragment
}) => Fragment

/**
 * One row per campaign and dimension values, in the period of the campaign's start t0 (the measure's rows are
 * then summed per period by `agg`).
 *
 * Members and windows follow `memberlens effects` (experiment-units.ts, member-outcomes.ts): each member of the
 * campaign counts once, in the group of their first touch; a purchase is an order not cancelled, net revenue is
 * Σ net_amount of purchases − Σ returned amount in the window. The full cost follows campaign-cost.ts: Σ
 * touches.cost of the campaign, the face value of its coupons that were redeemed (at any time), and the bonus
 * points the ledger credited for it (entries with source `campaign`) at the program's point value, when a ledger
 * is synced. With a member dimension or filter each part counts the members of the group only.
 */
function campaignRows(ctx: CompileContext): Fragment {
  const d = ctx.dialect
  const w = campaignWindowDays(ctx)
  const dbl = (x: Fragment) => sql`CAST(${x} AS DOUBLE)`
  // Money is summed as an exact decimal, so that the sums do not depend on the order rows are added in.
  const dec = (x: Fragment) => sql`CAST(${x} AS DECIMAL(38, 6))`
  const dimsOf = (alias: string) => withDims(dimRefs(ctx, alias))
  // The members with their dimension values, then their purchases and returns in the window.
  const units = sql`SELECT u.campaign_id AS campaign_id, u.member_id AS member_id, u.arm AS arm, u.ts AS ts,
      u.complete AS complete${withDims(dimSelects(ctx, 'campaign_units', 'u'))}
    FROM src_campaign_units u${memberJoin(ctx, 'u')}
    WHERE u.member_id IS NOT NULL AND ${inRange(ctx, sql`u.ts`)}${memberWhere(ctx)}`
  const facts = sql`SELECT member_id, ts, 1 AS n, ${dec(sql`amount`)} AS x FROM src_purchases
    UNION ALL SELECT member_id, ts, 0 AS n, ${dec(sql`-amount`)} AS x FROM src_returns`
  // The window is tested in the aggregate, not in the join: ClickHouse 18.x joins on equalities only.
  const inWindow = sql`f.ts >= x.ts AND f.ts < ${d.addPeriods('day', sql`x.ts`, w)}`
  const outcomes = sql`SELECT x.campaign_id AS campaign_id, x.arm AS arm, x.ts AS ts, x.complete AS complete${dimsOf('x')},
      sum(CASE WHEN ${inWindow} THEN f.n ELSE 0 END) AS orders,
      sum(CASE WHEN ${inWindow} THEN f.x ELSE ${dec(sql`0`)} END) AS revenue
    FROM (${units}) x LEFT JOIN (${facts}) f ON f.member_id = x.member_id
    GROUP BY x.campaign_id, x.member_id, x.arm, x.ts, x.complete${dimsOf('x')}`
  const group = (arm: string, v: Fragment) =>
    dbl(sql`CASE WHEN o.arm = ${arm} THEN ${v} ELSE 0 END`)
  const money = (arm: string, v: Fragment) =>
    dec(sql`CASE WHEN o.arm = ${arm} THEN ${v} ELSE ${dec(sql`0`)} END`)
  const zero = dbl(sql`0`)
  const none = dec(sql`0`)
  const fromOutcomes = sql`SELECT ${periodOf(ctx, sql`o.ts`)} AS period${dimsOf('o')}, o.campaign_id AS campaign_id,
      ${group('treatment', sql`1`)} AS n_t, ${group('holdout', sql`1`)} AS n_h,
      ${group('treatment', sql`o.orders`)} AS o_t, ${group('holdout', sql`o.orders`)} AS o_h,
      ${money('treatment', sql`o.revenue`)} AS r_t, ${money('holdout', sql`o.revenue`)} AS r_h,
      ${none} AS cost, ${none} AS coupons, ${dbl(sql`o.complete`)} AS complete
    FROM (${outcomes}) o`
  // Cost facts of each campaign (member_id may be empty: such a cost counts only without member groups).
  const points = ctx.loyaltyLedger
    ? sql` UNION ALL SELECT e.source_id AS campaign_id, e.member_id AS member_id,
        ${dec(sql`${dec(sql`e.points`)} * coalesce((SELECT ${dec(sql`value`)} FROM loyalty_sync_state WHERE key = 'point_value'), ${none})`)} AS cost,
        ${none} AS coupons
      FROM loyalty_entries e WHERE e.source_type = 'campaign'`
    : sql``
  const costFacts = sql`SELECT t.campaign_id AS campaign_id, t.member_id AS member_id, coalesce(${dec(sql`t.cost`)}, ${none}) AS cost, ${none} AS coupons
      FROM touches t
    UNION ALL SELECT k.campaign_id AS campaign_id, k.member_id AS member_id, ${dec(sql`k.face_value`)} AS cost, ${dec(sql`k.face_value`)} AS coupons
      FROM coupons k WHERE k.redeemed_at IS NOT NULL${points}`
  const costs = sql`SELECT k.campaign_id AS campaign_id, k.member_id AS member_id, c.ts AS ts, k.cost AS cost, k.coupons AS coupons
    FROM (${costFacts}) k
    JOIN (SELECT campaign_id, min(ts) AS ts FROM src_campaign_units GROUP BY campaign_id) c ON c.campaign_id = k.campaign_id`
  const fromCosts = sql`SELECT ${periodOf(ctx, sql`s.ts`)} AS period${withDims(dimSelects(ctx, 'campaign_units', 's'))}, s.campaign_id AS campaign_id,
      ${zero} AS n_t, ${zero} AS n_h, ${zero} AS o_t, ${zero} AS o_h, ${none} AS r_t, ${none} AS r_h,
      s.cost AS cost, s.coupons AS coupons, ${dbl(sql`1`)} AS complete
    FROM (${costs}) s${memberJoin(ctx, 's')}
    WHERE s.ts >= ${ctx.lo} AND s.ts < ${ctx.hi}${memberWhere(ctx)}`
  return sql`SELECT r.period AS period${dimsOf('r')}, r.campaign_id AS campaign_id,
      sum(r.n_t) AS n_t, sum(r.n_h) AS n_h, sum(r.o_t) AS o_t, sum(r.o_h) AS o_h, sum(r.r_t) AS r_t, sum(r.r_h) AS r_h,
      sum(r.cost) AS cost, sum(r.coupons) AS coupons, min(r.complete) AS complete
    FROM (${fromOutcomes} UNION ALL ${fromCosts}) r
    WHERE r.period >= ${ctx.lo} AND r.period < ${ctx.hi}
    ${groupByPeriodAndDims(ctx, 1)}`
}

/** The per-campaign rows, one table for every campaign measure of a query. */
const CAMPAIGN_ROWS: SharedTable = { name: 'campaign_rows', build: campaignRows }

/**
 * A campaign measure: per period (the period of each campaign's start) and dimension values, `agg` over the
 * campaigns. Empty, never 0, where no campaign gives a value.
 */
function campaignMeasure(id: string, agg: CampaignAggregate): Measure {
  return {
    id,
    sources: ['campaign_units'],
    rowSource: 'campaign_units',
    memberBased: true,
    zeroWhenEmpty: false,
    shared: [CAMPAIGN_ROWS],
    build(ctx) {
      const col = (name: string) => sql`${ident('c', name)}`
      const measured = sql`(c.n_t > 0 AND c.n_h > 0)`
      return sql`SELECT c.period AS period${withDims(dimRefs(ctx, 'c'))}, ${agg({ measured, col })} AS v
        FROM ${ident(CAMPAIGN_ROWS.name)} c
        ${groupByPeriodAndDims(ctx)}`
    },
  }
}

/**
 * Σ over the measured campaigns (members in both groups) of a per-campaign value; empty until every measured
 * campaign's window is over, and empty when no campaign is measured.
 */
function overMeasured(value: (col: (name: string) => Fragment) => Fragment): CampaignAggregate {
  return ({ measured, col }) =>
    sql`CASE WHEN min(CASE WHEN ${measured} THEN c.complete END) = 1
      THEN sum(CASE WHEN ${measured} THEN ${value(col)} END) END`
}

/** Treated total − holdout total × treated members ÷ holdout members, for one campaign. */
const incremental = (t: string, h: string) => (col: (name: string) => Fragment) =>
  sql`(CAST(${col(t)} AS DOUBLE) - CAST(${col(h)} AS DOUBLE) * ${col('n_t')} / ${col('n_h')})`

/**
 * Average over the sub-periods (days, weeks, months) of a period of the active members of each sub-period;
 * sub-periods without activity count as 0 (divides by the number of sub-periods in the period).
 */
function averageActive(id: string, sub: 'day' | 'week' | 'month'): Measure {
  return {
    id,
    sources: ['activity'],
    memberBased: true,
    zeroWhenEmpty: true,
    build(ctx) {
      const d = ctx.dialect
      const allowed: Record<typeof sub, readonly string[]> = {
        day: ['day', 'week', 'month', 'quarter', 'year'],
        // Weeks do not nest in months, so weekly actives are read at the week grain only.
        week: ['week'],
        month: ['month', 'quarter', 'year'],
      }
      if (!allowed[sub].includes(ctx.grain)) {
        throw InputError.single({
          field: 'grain',
          value: ctx.grain,
          reason: `${id} is read at grain ${allowed[sub].join(', ')}`,
        })
      }
      const subPeriod = d.dateTrunc(sub, sql`s.ts`)
      // Sub-periods per period: days or months between the period's start and end; a week is 7 days.
      const count =
        sub === 'month'
          ? sql`(${unsafeRaw(ctx.grain === 'month' ? '1' : ctx.grain === 'quarter' ? '3' : '12')})`
          : sub === 'week'
            ? sql`1`
            : d.daysBetween(sql`x.period`, d.addPeriods(ctx.grain, sql`x.period`, 1))
      // From the rollup, each active member-day stands for its facts: sub-periods are whole days or longer.
      const facts =
        ctx.rollups === true
          ? sql`(SELECT r.member_id AS member_id, ${shiftedRollupTime(ctx, 'day')} AS ts
              FROM ${ident(ROLLUP_TABLE)} r WHERE ${rollupActiveFacts(ctx)})`
          : sql`src_activity`
      return sql`SELECT x.period${withDims(dimRefs(ctx, 'x'))}, sum(x.n) * 1.0 / ${count} AS v FROM (
          SELECT ${periodOf(ctx, sql`s.ts`)} AS period${withDims(dimSelects(ctx, 'activity', 's'))}, ${subPeriod} AS sub,
            count(DISTINCT s.member_id) AS n
          FROM ${facts} s${memberJoin(ctx, 's')}
          WHERE ${inRange(ctx, sql`s.ts`)}${memberWhere(ctx)}
          ${groupByPeriodAndDims(ctx, 1)}
        ) x ${groupByPeriodAndDims(ctx)}`
    },
  }
}

/**
 * A running total up to each period's end (members registered by then, net revenue since the start), as the
 * per-period sums of all history joined to the periods of the request: the join is over small aggregates.
 */
function cumulative(
  id: string,
  source: 'registrations' | 'money' | 'points' | 'enrollments',
): Measure {
  const sources: Record<typeof source, SourceId[]> = {
    registrations: ['registrations'],
    money: ['purchases', 'returns'],
    points: ['points'],
    enrollments: ['enrollments'],
  }
  return {
    id,
    sources: sources[source],
    memberBased: true,
    zeroWhenEmpty: true,
    build(ctx) {
      const d = ctx.dialect
      const rows = {
        money: sql`(SELECT member_id, ts, amount AS x FROM src_purchases UNION ALL SELECT member_id, ts, -amount AS x FROM src_returns)`,
        registrations: sql`(SELECT member_id, ts, 1 AS x FROM src_registrations)`,
        points: sql`(SELECT member_id, ts, points AS x FROM src_points)`,
        enrollments: sql`(SELECT member_id, ts, 1 AS x FROM src_enrollments)`,
      }[source]
      // A cross join filtered by WHERE, not JOIN … ON a.period <= sp.period: ClickHouse 18.x joins on equalities only.
      return sql`SELECT sp.period${withDims(dimRefs(ctx, 'a'))}, sum(a.v) AS v
        FROM (${d.periodSeries(ctx.grain, ctx.lo, ctx.last)}) sp
        CROSS JOIN (SELECT ${periodOf(ctx, sql`s.ts`)} AS period${withDims(dimSelects(ctx, 'registrations', 's'))}, sum(s.x) AS v
              FROM ${rows} s${memberJoin(ctx, 's')}
              WHERE s.ts < ${ctx.hi}${memberWhere(ctx)}
              ${groupByPeriodAndDims(ctx)}) a
        WHERE a.period <= sp.period
        ${groupByPeriodAndDims(ctx)}`
    },
  }
}

/**
 * Churn as alive intervals ("islands"). Under the `purchases` basis (the default, the lifecycle definition) a
 * member is alive from each purchase for `churnDays` days, so an island is a purchase spell: it starts with a
 * first purchase or one that follows a gap of at least `churnDays`, and ends — the member becomes churned —
 * `churnDays` after its last purchase. Under the `activity` basis every qualifying event and the registration
 * also keep the member alive. An island is the half-open interval [a, b): at b the member is churned.
 */
function islands(ctx: CompileContext): Fragment {
  const d = ctx.dialect
  const days = ctx.settings.churnDays
  const points =
    ctx.settings.churnBasis === 'activity'
      ? sql`SELECT member_id, ts FROM src_activity UNION SELECT member_id, ts FROM src_registrations`
      : sql`SELECT DISTINCT member_id, ts FROM src_purchases`
  return sql`SELECT member_id, min(a) AS a, max(b) AS b FROM (
      SELECT member_id, a, b, sum(starts) OVER (PARTITION BY member_id ORDER BY a ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS island
      FROM (
        SELECT member_id, ts AS a, ${d.addPeriods('day', sql`ts`, days)} AS b,
          CASE WHEN prev_ts IS NULL OR ${d.addPeriods('day', sql`prev_ts`, days)} <= ts THEN 1 ELSE 0 END AS starts
        FROM (SELECT member_id, ts, ${previousValue(sql`ts`, sql`PARTITION BY member_id ORDER BY ts`)} AS prev_ts
          FROM (${points}) p0) p
      ) q
    ) r GROUP BY member_id, island`
}

/** The latest activity: from the rollup's latest time of an active day when the query reads the rollup. */
function dataEnd(ctx: CompileContext): Fragment {
  if (ctx.rollups !== true) return sql`(SELECT max(ts) FROM src_activity)`
  return sql`(SELECT max(${shiftedRollupTime(ctx, 'last_ts')}) FROM ${ident(ROLLUP_TABLE)} r WHERE ${rollupActiveFacts(ctx)})`
}

/**
 * The churn measures. "Not churned at the start" of a period starting at s means alive just before s
 * (a < s ≤ b), so that a churn falling exactly on s counts in the period it opens; the churn rate's numerator
 * is those of them whose island ends within the period (a < s ≤ b < e).
 */
function churnMeasure(
  id: string,
  kind:
    | 'churned'
    | 'churned_from_start'
    | 'reactivated'
    | 'alive_at_start'
    | 'churned_at_start'
    | 'reactivated_from_start'
    | 'active_base',
): Measure {
  return {
    id,
    sources: ['activity', 'registrations', 'purchases'],
    memberBased: true,
    zeroWhenEmpty: true,
    build(ctx) {
      const d = ctx.dialect
      const spine = sql`(${d.periodSeries(ctx.grain, ctx.lo, ctx.last)})`
      const withMembers = (alias: string) => sql`${memberJoin(ctx, alias)}`
      switch (kind) {
        case 'churned':
          // An island's end is a churn when no later activity extends it and it lies within the data.
          return sql`SELECT ${periodOf(ctx, sql`i.b`)} AS period${withDims(dimSelects(ctx, 'registrations', 'i'))}, count(DISTINCT i.member_id) AS v
            FROM (${islands(ctx)}) i${withMembers('i')}
            WHERE ${inRange(ctx, sql`i.b`)} AND i.b <= ${dataEnd(ctx)}${memberWhere(ctx)}
            ${groupByPeriodAndDims(ctx)}`
        case 'reactivated':
          // A new island that starts after an earlier one ended: the member came back.
          return sql`SELECT ${periodOf(ctx, sql`i.a`)} AS period${withDims(dimSelects(ctx, 'registrations', 'i'))}, count(DISTINCT i.member_id) AS v
            FROM (${islands(ctx)}) i${withMembers('i')}
            WHERE ${inRange(ctx, sql`i.a`)}${memberWhere(ctx)}
              AND EXISTS (SELECT 1 FROM (${islands(ctx)}) e WHERE e.member_id = i.member_id AND e.b <= i.a)
            ${groupByPeriodAndDims(ctx)}`
        case 'alive_at_start':
        case 'churned_from_start': {
          const ends =
            kind === 'churned_from_start'
              ? sql` AND i.b < ${d.addPeriods(ctx.grain, sql`sp.period`, 1)} AND i.b <= ${dataEnd(ctx)}`
              : sql``
          return sql`SELECT sp.period${withDims(dimSelects(ctx, 'registrations', 'i'))}, count(DISTINCT i.member_id) AS v
            FROM ${spine} sp JOIN (${islands(ctx)}) i ON i.a < sp.period AND sp.period <= i.b${ends}${withMembers('i')}
            WHERE true${memberWhere(ctx)}
            ${groupByPeriodAndDims(ctx)}`
        }
        case 'active_base': {
          // Registered by the period's end and not churned by then (alive just before the end, or never
          // churned: no spell has ended), or active in the period, so that the active rate stays a share.
          const end = d.addPeriods(ctx.grain, sql`sp.period`, 1)
          return sql`SELECT sp.period${withDims(dimSelects(ctx, 'registrations', 's'))}, count(*) AS v
            FROM ${spine} sp JOIN src_registrations s ON s.ts < ${end}${withMembers('s')}
            WHERE (NOT EXISTS (SELECT 1 FROM (${islands(ctx)}) i WHERE i.member_id = s.member_id AND i.b < ${end})
              OR EXISTS (SELECT 1 FROM (${islands(ctx)}) i WHERE i.member_id = s.member_id AND i.a < ${end} AND ${end} <= i.b)
              OR EXISTS (SELECT 1 FROM src_activity a WHERE a.member_id = s.member_id AND a.ts >= sp.period AND a.ts < ${end}))${memberWhere(ctx)}
            ${groupByPeriodAndDims(ctx)}`
        }
        case 'churned_at_start':
        case 'reactivated_from_start': {
          // Churned at the start: an island ended before it and none is alive just before it (and, for the
          // second, a new island starts within the period).
          const back =
            kind === 'reactivated_from_start'
              ? sql` AND EXISTS (SELECT 1 FROM (${islands(ctx)}) r WHERE r.member_id = s.member_id
                  AND r.a >= sp.period AND r.a < ${d.addPeriods(ctx.grain, sql`sp.period`, 1)})`
              : sql``
          return sql`SELECT sp.period${withDims(dimSelects(ctx, 'registrations', 's'))}, count(*) AS v
            FROM ${spine} sp JOIN (SELECT member_id, min(b) AS first_end FROM (${islands(ctx)}) e GROUP BY member_id) s
              ON s.first_end < sp.period${withMembers('s')}
            WHERE NOT EXISTS (SELECT 1 FROM (${islands(ctx)}) i WHERE i.member_id = s.member_id AND i.a < sp.period AND sp.period <= i.b)${back}${memberWhere(ctx)}
            ${groupByPeriodAndDims(ctx)}`
        }
        default: {
          const _exhaustive: never = kind
          throw new Error(`unknown churn measure ${String(_exhaustive)}`)
        }
      }
    },
  }
}

const fb = (kind: string) => sql`s.kind = ${kind}`

/** Points debited by one kind of ledger entry (entries store debits as negative points). */
const pointsDebited = (id: string, kind: string) =>
  aggregate(id, 'points', sql`-sum(s.points)`, { rowDims: false, where: fb(kind) })

/** Every measure, by id. */
export const MEASURES: Readonly<Record<string, Measure>> = Object.fromEntries(
  [
    // Active members, and those with an engagement event or a review in the period.
    periodMembers('active_members', false),
    periodMembers('engaged_members', true),
    aggregate('buyers', 'purchases', sql`count(DISTINCT s.member_id)`, {
      // A member has one row per month: within a month, each row is a buyer.
      months: (ctx) => (ctx.grain === 'month' ? sql`count(*)` : sql`count(DISTINCT s.member_id)`),
    }),
    aggregate('orders', 'purchases', sql`count(*)`, { months: () => sql`sum(s.orders)` }),
    aggregate('purchase_amount', 'purchases', sql`sum(s.amount)`, {
      months: () => sql`sum(s.amount)`,
    }),
    aggregate('returns_amount', 'returns', sql`sum(s.amount)`, { rowDims: false }),
    aggregate('returned_orders', 'returns', sql`count(DISTINCT s.order_id)`, {
      rowDims: false,
      where: sql`s.order_id IS NOT NULL`,
    }),
    aggregate('new_members', 'registrations', sql`count(*)`, { rowDims: false }),
    aggregate('sessions', 'sessions', sql`count(*)`),
    aggregate('session_seconds_avg', 'sessions', sql`avg(s.duration_s)`, { zero: false }),
    aggregate(
      'session_seconds_median',
      'sessions',
      (ctx) => ctx.dialect.median(sql`s.duration_s`),
      {
        zero: false,
      },
    ),
    aggregate('page_views', 'sessions', sql`sum(s.page_views)`),
    aggregate('nps_responses', 'feedback', sql`count(*)`, {
      rowDims: false,
      where: sql`${fb('nps')} AND s.score IS NOT NULL`,
    }),
    aggregate('nps_promoters', 'feedback', sql`count(*)`, {
      rowDims: false,
      where: sql`${fb('nps')} AND s.score >= 9`,
    }),
    aggregate('nps_detractors', 'feedback', sql`count(*)`, {
      rowDims: false,
      where: sql`${fb('nps')} AND s.score <= 6`,
    }),
    aggregate('csat_responses', 'feedback', sql`count(*)`, {
      rowDims: false,
      where: sql`${fb('csat')} AND s.score IS NOT NULL`,
    }),
    aggregate('csat_satisfied', 'feedback', sql`count(*)`, {
      rowDims: false,
      where: sql`${fb('csat')} AND s.score >= 4`,
    }),
    aggregate('reviews', 'feedback', sql`count(*)`, {
      rowDims: false,
      where: sql`${fb('review')} AND s.score IS NOT NULL`,
    }),
    aggregate('review_score_avg', 'feedback', sql`avg(s.score)`, {
      rowDims: false,
      zero: false,
      where: sql`${fb('review')}`,
    }),
    aggregate('negative_reviews', 'feedback', sql`count(*)`, {
      rowDims: false,
      where: sql`${fb('review')} AND s.score <= 2`,
    }),
    aggregate('feedback_members', 'feedback', sql`count(DISTINCT s.member_id)`, {
      rowDims: false,
      activeOnly: true,
    }),
    aggregate('support_tickets', 'feedback', sql`count(*)`, {
      rowDims: false,
      where: fb('support_ticket'),
    }),
    aggregate('texts_labelled', 'sentiment', sql`count(*)`, { rowDims: false }),
    aggregate('texts_negative', 'sentiment', sql`count(*)`, {
      rowDims: false,
      where: sql`s.sentiment = 'negative'`,
    }),
    aggregate('complaint_members', 'feedback', sql`count(DISTINCT s.member_id)`, {
      rowDims: false,
      where: fb('complaint'),
    }),
    aggregate('spend_amount', 'spend', sql`sum(s.amount)`, { rowDims: false, memberBased: false }),
    aggregate('visitors', 'visits', sql`sum(s.visitors)`, { rowDims: false, memberBased: false }),
    aggregate('points_issued', 'points', sql`sum(s.points)`, {
      rowDims: false,
      where: sql`${fb('earn')} OR (${fb('adjust')} AND s.points > 0)`,
    }),
    pointsDebited('points_redeemed', 'redeem'),
    pointsDebited('points_expired', 'expire'),
    aggregate('renewals_due', 'renewals_due', sql`count(*)`, { rowDims: false }),
    aggregate('renewals_missed', 'renewals_due', sql`count(*)`, {
      where: sql`s.renewed = 0`,
      rowDims: false,
    }),
    // Coupons (券): issued by issue time, redeemed and their face value by redemption time.
    aggregate('coupons_issued', 'coupons_issued', sql`count(*)`),
    aggregate('coupons_issued_redeemed', 'coupons_issued', sql`sum(s.redeemed)`),
    aggregate('coupons_redeemed', 'coupons_redeemed', sql`count(*)`),
    aggregate('coupon_cost', 'coupons_redeemed', sql`sum(s.face_value)`),
    aggregate('coupon_orders', 'coupons_redeemed', sql`count(DISTINCT s.order_id)`),
    aggregate('clv_scored', 'clv_scores', sql`count(*)`, { rowDims: false }),
    aggregate('clv_sum', 'clv_scores', sql`sum(s.clv)`, { rowDims: false }),
    cohortMembers('cohort_size', false),
    cohortMembers('cohort_retained', true),
    aggregate('tier_upgrades', 'tier_changes', sql`count(*)`, {
      rowDims: false,
      where: fb('upgrade'),
    }),
    aggregate('tier_downgrades', 'tier_changes', sql`count(*)`, {
      rowDims: false,
      where: fb('downgrade'),
    }),
    membersWith('repeat_buyers', 'purchases', sql`count(*) >= 2`, sql`sum(s.orders) >= 2`),
    retainedMembers,
    previousActive,
    repurchasersNext,
    firstPurchaseConverted,
    winback('winback_targeted', 'treatment', false),
    winback('winback_returned', 'treatment', true),
    winback('winback_holdout', 'holdout', false),
    winback('winback_holdout_returned', 'holdout', true),
    averageActive('avg_daily_active', 'day'),
    averageActive('avg_weekly_active', 'week'),
    averageActive('avg_monthly_active', 'month'),
    campaignMeasure('campaign_incremental_orders', overMeasured(incremental('o_t', 'o_h'))),
    campaignMeasure('campaign_incremental_revenue', overMeasured(incremental('r_t', 'r_h'))),
    campaignMeasure(
      'campaign_measured_cost',
      overMeasured((col) => col('cost')),
    ),
    campaignMeasure(
      'campaign_measured_coupons',
      overMeasured((col) => col('coupons')),
    ),
    campaignMeasure('campaign_cost', ({ col }) => sql`sum(${col('cost')})`),
    cumulative('members_total', 'registrations'),
    cumulative('cumulative_net_revenue', 'money'),
    cumulative('points_outstanding', 'points'),
    cumulative('enrolled_total', 'enrollments'),
    churnMeasure('churned_members', 'churned'),
    churnMeasure('churned_from_start', 'churned_from_start'),
    churnMeasure('active_base', 'active_base'),
    churnMeasure('reactivated_members', 'reactivated'),
    churnMeasure('alive_at_start', 'alive_at_start'),
    churnMeasure('churned_at_start', 'churned_at_start'),
    churnMeasure('reactivated_from_start', 'reactivated_from_start'),
  ].map((m) => [m.id, m]),
)

export function getMeasure(id: string): Measure {
  const m = MEASURES[id]
  if (m === undefined) throw new Error(`unknown measure ${id}`)
  return m
}
