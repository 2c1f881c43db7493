/**
 * The fact sources metrics read, as common table expressions `src_<id>` with the columns measures use.
 * Every `ts` is wall-clock time in the reporting zone, so that periods are the business's days and months.
 *
 * - purchases: orders whose status is not `cancelled` (member_id, ts, amount = net_amount, channel, store_id,
 *   order_id, coupon_id).
 * - returns: member_id, ts = returned_at, amount, order_id.
 * - events: member_id, ts, event_type, session_id, duration_s, channel.
 * - activity: purchases and qualifying events (member_id, ts).
 * - member_periods: one row per member and period with activity, from one period before the range to its end
 *   (member_id, period, engaged = an engagement event or a review in the period) — what active counts,
 *   retention, engagement and "active in the same period" read, computed in one pass over the facts.
 * - sessions: events grouped by session id, or by a gap of inactivity when the source has no session id
 *   (member_id, ts = session start, duration_s, page_views, channel).
 * - feedback: member_id, ts, kind, score.
 * - registrations: member_id, ts = registered_at.
 * - spend: ts = period_start, channel, amount (acquisition spend; no member).
 * - visits: ts = period_start, channel, visitors (anonymous visitors; no member).
 * - sentiment: feedback texts with their derived sentiment (member_id, ts, kind, sentiment), written by
 *   `memberlens voice label`.
 * - touches: campaign touches (member_id, ts = sent_at, kind, treatment_group).
 * - points: the loyalty ledger's entries synced from the ledger (member_id, ts = occurred_at, kind, points).
 * - enrollments: loyalty accounts (member_id, ts = enrolled_at).
 * - tier_changes: tier upgrades and downgrades (member_id, ts = changed_at, kind).
 * - renewals_due: paid-membership terms by the time they end (member_id, ts = ends_at, plan, renewed = 1 when
 *   the term has a renewal time).
 * - clv_scores: the member scores of CLV runs (`memberlens clv fit`), dated at the run's calibration end
 *   (member_id, ts = calibration end day, clv): of several runs calibrated in the same period, only the latest
 *   one's scores, so that each period holds one prediction per scored member.
 * - coupons_issued: coupons by the time they were issued (member_id, ts = issued_at, campaign_id, face_value,
 *   redeemed = 1 when the coupon has a redemption time).
 * - coupons_redeemed: redeemed coupons by the time they were used (member_id, ts = redeemed_at, campaign_id,
 *   face_value, order_id).
 * - campaign_units: one row per member of a campaign, as `memberlens effects` takes them (campaign_id,
 *   member_id, arm = the treatment group of the member's first touch of the campaign, ts = t0 = the campaign's
 *   first send for every member, complete = 1 when [t0, t0 + campaignWindowDays) ends by the last order or event).
 * @module
 */
import { InputError } from '../../core/errors.js'
import { isMonthAligned } from '../dialects/dialect.js'
import { ident, join, sql, unsafeRaw, type Fragment } from '../sql/fragment.js'
import { previousValue } from '../sql/window.js'
import type { CompileContext } from './context.js'
import type { SourceId } from './dimensions.js'
import {
  MONTH_ROLLUP_TABLE,
  ROLLUP_TABLE,
  rollupActiveCondition,
  rollupEngagedCondition,
} from './rollups.js'

/** Sources a source is built from (so that a query includes every CTE it needs, in order). */
const DEPENDS: Readonly<Record<SourceId, readonly SourceId[]>> = {
  purchases: [],
  returns: [],
  events: [],
  activity: ['purchases', 'events'],
  member_periods: ['purchases', 'events', 'feedback'],
  sessions: ['events'],
  feedback: [],
  registrations: [],
  spend: [],
  visits: [],
  touches: [],
  sentiment: [],
  points: [],
  enrollments: [],
  tier_changes: [],
  renewals_due: [],
  clv_scores: [],
  coupons_issued: [],
  // The campaign dimension lists its values from the issued coupons.
  coupons_redeemed: ['coupons_issued'],
  // The campaign metrics read each member's purchases and returns in the campaign's window.
  campaign_units: ['purchases', 'returns'],
}

const LOYALTY = {
  table: 'loyalty_entries',
  hint: 'points and tier metrics read the ledger synced into the engine: run `memberlens loyalty sync` (or `loyalty replay`) first',
}

/** Sources read from tables a command writes (not loaded by ingest), with that command. */
export const SOURCE_REQUIRES: Partial<
  Record<SourceId, { readonly table: string; readonly hint: string }>
> = {
  points: LOYALTY,
  enrollments: LOYALTY,
  tier_changes: LOYALTY,
  clv_scores: {
    table: 'member_scores',
    hint: 'predicted CLV reads the scores of a CLV run: run `memberlens clv fit` first',
  },
  sentiment: {
    table: 'feedback_sentiment',
    hint: 'sentiment metrics read the labels of feedback texts: run `memberlens voice label` first',
  },
}

const ORDER: readonly SourceId[] = [
  'purchases',
  'returns',
  'events',
  'activity',
  'sessions',
  'feedback',
  'member_periods',
  'registrations',
  'spend',
  'visits',
  'touches',
  'sentiment',
  'points',
  'enrollments',
  'tier_changes',
  'renewals_due',
  'clv_scores',
  'coupons_issued',
  'coupons_redeemed',
  'campaign_units',
]

/** The CTE definitions (`src_x AS (…)`) for the given sources and their dependencies, in dependency order. */
export function sourceCtes(ctx: CompileContext, used: ReadonlySet<SourceId>): Fragment[] {
  const all = new Set<SourceId>()
  const add = (id: SourceId): void => {
    if (all.has(id)) return
    // Read from the rollup, member periods need none of the raw sources.
    const deps = ctx.rollups === true && id === 'member_periods' ? [] : DEPENDS[id]
    for (const d of deps) add(d)
    all.add(id)
  }
  for (const id of used) add(id)
  return ORDER.filter((id) => all.has(id)).map(
    (id) => sql`${ident(`src_${id}`)} AS (${sourceQuery(ctx, id)})`,
  )
}

/** A source time moved by the context's shift (for `:yoy_event`), or unchanged. */
function shifted(ctx: CompileContext, time: Fragment): Fragment {
  const n = ctx.shiftDays ?? 0
  if (!Number.isInteger(n)) throw new Error(`shiftDays must be a whole number of days, not ${n}`)
  return n === 0 ? time : ctx.dialect.addPeriods('day', time, n)
}

function sourceQuery(ctx: CompileContext, id: SourceId): Fragment {
  const local = (col: string) =>
    shifted(ctx, ctx.dialect.localTime(sql`${ident(col)}`, ctx.timezone))
  switch (id) {
    case 'purchases':
      return sql`SELECT member_id, ${local('ordered_at')} AS ts, net_amount AS amount, channel, store_id, order_id, coupon_id
        FROM orders WHERE status <> 'cancelled'`
    case 'returns':
      return sql`SELECT member_id, ${local('returned_at')} AS ts, amount, order_id FROM returns`
    case 'events':
      return sql`SELECT member_id, ${local('ts')} AS ts, event_type, session_id, duration_s, channel FROM events`
    case 'activity': {
      const q = ctx.settings.qualifyingEvents
      const where =
        q.length === 0 ? sql`` : sql` WHERE event_type IN (${join(q.map((e) => sql`${e}`))})`
      return sql`SELECT member_id, ts FROM src_purchases UNION ALL SELECT member_id, ts FROM src_events${where}`
    }
    case 'member_periods': {
      if (ctx.rollups === true) return memberPeriodsFromRollup(ctx)
      // Flags per fact row: active (a purchase or a qualifying event), engaged (an engagement event or a review).
      const q = ctx.settings.qualifyingEvents
      const e = ctx.settings.engagementEvents
      const inList = (xs: readonly string[]) => join(xs.map((x) => sql`${x}`))
      const active =
        q.length === 0 ? sql`1` : sql`CASE WHEN event_type IN (${inList(q)}) THEN 1 ELSE 0 END`
      const engaged =
        e.length === 0 ? sql`0` : sql`CASE WHEN event_type IN (${inList(e)}) THEN 1 ELSE 0 END`
      return sql`SELECT member_id, ${ctx.dialect.dateTrunc(ctx.grain, sql`ts`)} AS period, max(engaged) AS engaged
        FROM (SELECT member_id, ts, 1 AS active, 0 AS engaged FROM src_purchases
          UNION ALL SELECT member_id, ts, ${active} AS active, ${engaged} AS engaged FROM src_events
          UNION ALL SELECT member_id, ts, 0 AS active, 1 AS engaged FROM src_feedback WHERE kind = 'review') f
        WHERE ts >= ${ctx.dialect.addPeriods(ctx.grain, ctx.lo, -1)} AND ts < ${ctx.hi}
        GROUP BY 1, 2 HAVING max(active) = 1`
    }
    case 'sessions':
      return sessionsQuery(ctx)
    case 'feedback':
      return sql`SELECT member_id, ${local('ts')} AS ts, kind, score FROM feedback`
    case 'registrations':
      return sql`SELECT member_id, ${local('registered_at')} AS ts FROM members`
    case 'spend':
      return sql`SELECT ${shifted(ctx, sql`CAST(period_start AS TIMESTAMP)`)} AS ts, channel, amount FROM acquisition_spend`
    case 'visits':
      return sql`SELECT ${shifted(ctx, sql`CAST(period_start AS TIMESTAMP)`)} AS ts, channel, visitors FROM visitors`
    case 'touches':
      return sql`SELECT member_id, ${local('sent_at')} AS ts, kind, coalesce(treatment_group, 'treatment') AS treatment_group FROM touches`
    case 'sentiment':
      return sql`SELECT f.member_id, ${shifted(ctx, ctx.dialect.localTime(sql`f.ts`, ctx.timezone))} AS ts, f.kind, l.sentiment
        FROM feedback f JOIN feedback_sentiment l ON l.feedback_id = f.feedback_id`
    case 'points':
      return sql`SELECT member_id, ${local('occurred_at')} AS ts, kind, points FROM loyalty_entries`
    case 'enrollments':
      return sql`SELECT member_id, ${local('enrolled_at')} AS ts FROM loyalty_accounts`
    case 'tier_changes':
      return sql`SELECT member_id, ${local('changed_at')} AS ts, kind FROM loyalty_tier_changes`
    case 'renewals_due':
      // A paid-membership term falls due when it ends; it counts as renewed when it has a renewal time (the
      // definition of the renewal model, docs/models.md).
      return sql`SELECT member_id, ${local('ends_at')} AS ts, plan,
          CASE WHEN renewed_at IS NULL THEN 0 ELSE 1 END AS renewed
        FROM subscriptions`
    case 'clv_scores': {
      // A run predicts from the end of its calibration day; the latest run of each period stands for it.
      const d = ctx.dialect
      return sql`SELECT s.member_id, ${shifted(ctx, sql`r.ts`)} AS ts, s.clv FROM member_scores s
        JOIN (SELECT run_id, ts, row_number() OVER (PARTITION BY ${d.dateTrunc(ctx.grain, sql`ts`)}
            ORDER BY created_at DESC, run_id DESC) AS rn
          FROM (SELECT run_id, created_at, CAST(${d.jsonText(sql`options`, 'calibrationEnd')} AS TIMESTAMP) AS ts
            FROM model_runs WHERE kind = 'clv') r0) r
        ON r.run_id = s.run_id AND r.rn = 1
        WHERE s.clv IS NOT NULL`
    }
    case 'coupons_issued':
      return sql`SELECT member_id, ${local('issued_at')} AS ts, campaign_id, face_value,
          CASE WHEN redeemed_at IS NULL THEN 0 ELSE 1 END AS redeemed
        FROM coupons`
    case 'coupons_redeemed':
      return sql`SELECT member_id, ${local('redeemed_at')} AS ts, campaign_id, face_value, order_id
        FROM coupons WHERE redeemed_at IS NOT NULL`
    case 'campaign_units':
      return campaignUnitsQuery(ctx)
    default: {
      const _exhaustive: never = id
      throw new Error(`unknown source ${String(_exhaustive)}`)
    }
  }
}

/** The campaign metrics' outcome window in days, checked. */
export function campaignWindowDays(ctx: CompileContext): number {
  const w = ctx.settings.campaignWindowDays
  if (!(Number.isInteger(w) && w >= 1 && w <= 3660)) {
    throw InputError.single({
      field: 'campaignWindowDays',
      value: String(w),
      reason: 'a whole number of days between 1 and 3660',
    })
  }
  return w
}

/**
 * The members of each campaign as `memberlens effects` analyses them (experiment-units.ts): the arm is the
 * treatment group of the member's first touch of the campaign, and t0 is the campaign's first send (the holdout's
 * rows carry the assignment time) for every member, so that both groups are observed over the same window. A
 * member's window is complete when it ends by the last order or event in the data (in UTC, as effects counts it).
 */
function campaignUnitsQuery(ctx: CompileContext): Fragment {
  const d = ctx.dialect
  const end = d.addPeriods('day', sql`f.t0`, campaignWindowDays(ctx))
  // Joined one table at a time: ClickHouse 18.x takes one join per SELECT.
  return sql`SELECT f.campaign_id AS campaign_id, f.member_id AS member_id, f.arm AS arm,
      ${shifted(ctx, d.localTime(sql`f.t0`, ctx.timezone))} AS ts,
      CASE WHEN ${end} <= greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events))
        THEN 1 ELSE 0 END AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.member_id AS member_id, min(t.treatment_group) AS arm, x.t0 AS t0
      FROM (SELECT fm.campaign_id AS campaign_id, fm.member_id AS member_id, fm.first_at AS first_at, c.t0 AS t0
          FROM (SELECT campaign_id, member_id, min(sent_at) AS first_at FROM touches
            WHERE member_id IS NOT NULL GROUP BY campaign_id, member_id) fm
          JOIN (SELECT campaign_id, min(sent_at) AS t0 FROM touches GROUP BY campaign_id) c
            ON c.campaign_id = fm.campaign_id) x
      JOIN touches t ON t.campaign_id = x.campaign_id AND t.member_id = x.member_id AND t.sent_at = x.first_at
      GROUP BY x.campaign_id, x.member_id, x.t0) f`
}

/** The day rollup's rows (aliased `r`) that make a member active on their day, under the context's settings. */
export function rollupActiveFacts(ctx: CompileContext): Fragment {
  return rollupActiveCondition(ctx.settings)
}

/** A rollup day (or time) moved by the context's shift, as {@link shifted} moves raw times. */
export function shiftedRollupTime(ctx: CompileContext, column: 'day' | 'last_ts'): Fragment {
  return shifted(ctx, sql`${ident('r', column)}`)
}

/** The member × month table answers this query's member periods: it serves, whole months, no shift by days. */
export function readsMonthTable(ctx: CompileContext): boolean {
  return ctx.monthRollup === true && isMonthAligned(ctx.grain) && (ctx.shiftDays ?? 0) === 0
}

/**
 * The member × month table's purchase columns also stand for the purchases source (every order has a member):
 * it is read ({@link readsMonthTable}) and every dimension is a member's (no order channel or store).
 */
export function readsMonthPurchases(ctx: CompileContext): boolean {
  return readsMonthTable(ctx) && ctx.dims.every((d) => d.kind === 'member')
}

/**
 * Member periods from the rollups: the member × month table when it serves the query (its settings match, a
 * grain of whole months, no shift by days), else the member × day rollup with the same flags per day instead of
 * per fact. Periods start at midnight, so a fact's day lies in a period exactly when the fact does, and a
 * month in a month-aligned period exactly when its days do.
 */
function memberPeriodsFromRollup(ctx: CompileContext): Fragment {
  const d = ctx.dialect
  const from = d.addPeriods(ctx.grain, ctx.lo, -1)
  if (readsMonthTable(ctx)) {
    const t = ident(MONTH_ROLLUP_TABLE)
    return ctx.grain === 'month'
      ? sql`SELECT member_id, month AS period, engaged FROM ${t}
          WHERE active = 1 AND month >= ${from} AND month < ${ctx.hi}`
      : sql`SELECT member_id, ${d.dateTrunc(ctx.grain, sql`month`)} AS period, max(engaged) AS engaged
          FROM ${t} WHERE month >= ${from} AND month < ${ctx.hi}
          GROUP BY 1, 2 HAVING max(active) = 1`
  }
  return sql`SELECT member_id, ${d.dateTrunc(ctx.grain, sql`day_ts`)} AS period, max(engaged) AS engaged
    FROM (SELECT r.member_id AS member_id, ${shiftedRollupTime(ctx, 'day')} AS day_ts,
        CASE WHEN ${rollupActiveCondition(ctx.settings)} THEN 1 ELSE 0 END AS active,
        CASE WHEN ${rollupEngagedCondition(ctx.settings)} THEN 1 ELSE 0 END AS engaged
      FROM ${ident(ROLLUP_TABLE)} r) f
    WHERE day_ts >= ${from} AND day_ts < ${ctx.hi}
    GROUP BY 1, 2 HAVING max(active) = 1`
}

/**
 * Sessions: events that carry a session id form one session per id; the others are cut where a member was
 * inactive for more than the gap. Duration is the session_start event's duration_s when the source records
 * it, otherwise the time from the first to the last event of the session.
 */
function sessionsQuery(ctx: CompileContext): Fragment {
  const d = ctx.dialect
  const gap = Math.trunc(ctx.settings.sessionGapMinutes)
  if (!(gap > 0)) throw new Error('sessionGapMinutes must be a positive integer')
  const gapSeconds = unsafeRaw(String(gap * 60))
  return sql`SELECT member_id, min(ts) AS ts,
      coalesce(max(CASE WHEN event_type = 'session_start' THEN duration_s END), ${d.secondsBetween(sql`min(ts)`, sql`max(ts)`)}) AS duration_s,
      count(CASE WHEN event_type = 'page_view' THEN 1 END) AS page_views,
      min(channel) AS channel
    FROM (
      SELECT *, CASE WHEN session_id IS NOT NULL THEN 'id:' || session_id
        ELSE 'gap:' || CAST(sum(new_session) OVER (PARTITION BY member_id, session_id IS NULL ORDER BY ts
          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS VARCHAR) END AS session_key
      FROM (
        SELECT *, CASE WHEN session_id IS NULL AND (prev_ts IS NULL OR ${d.secondsBetween(sql`prev_ts`, sql`ts`)} > ${gapSeconds})
          THEN 1 ELSE 0 END AS new_session
        FROM (SELECT *, ${previousValue(sql`ts`, sql`PARTITION BY member_id, session_id IS NULL ORDER BY ts`)} AS prev_ts
          FROM src_events) e0
      ) e1
    ) e2
    GROUP BY member_id, session_key`
}
