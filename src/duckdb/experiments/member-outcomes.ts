/**
 * Per-member values of the experiment metrics around each unit's start time t0: the outcome window
 * [t0, t0 + W), the pre-period [t0 − P, t0) (the CUPED covariate) and a later retention window
 * [t0 + a, t0 + b). One query over orders, returns, events and feedback, fetched into typed arrays.
 *
 * Definitions follow the metric catalog (docs/metrics.md): a purchase is an order whose status is not
 * `cancelled`; net revenue is Σ net_amount of purchases − Σ returned amount in the same window; active =
 * at least one purchase or event; a complaint is feedback of kind `complaint`.
 * @module
 */
import { InputError } from '../../core/errors.js'
import type { DuckDbDriver } from '../driver.js'
import { sql, type Fragment } from '../../engine/sql/fragment.js'
import { fetchFloat64Columns } from '../../engine/summaries/columns.js'

/** Window lengths in days. */
export interface OutcomeWindows {
  /** Outcome window length W. */
  readonly windowDays: number
  /** Pre-period length P. */
  readonly preDays: number
  /** Retention window [t0 + a, t0 + b). */
  readonly retentionFromDays: number
  readonly retentionToDays: number
}

export const OUTCOME_COLUMNS = [
  'arm',
  'member_id',
  /** 1 when [t0, t0 + W) ends before the last activity in the data. */
  'complete_post',
  /** 1 when the retention window ends before the last activity in the data. */
  'complete_retention',
  'orders_post',
  /** Σ net_amount of purchases in the window (before returns). */
  'spend_post',
  'returned_amount_post',
  'returned_orders_post',
  /** spend − returned amount. */
  'revenue_post',
  'complaints_post',
  'tickets_post',
  'active_post',
  'active_retention',
  'orders_retention',
  'orders_pre',
  'spend_pre',
  'revenue_pre',
  'active_pre',
  'complaints_pre',
  /** Days from the last purchase before t0 to t0 (NaN: none). */
  'recency_days',
  /** Days from registration to t0. */
  'tenure_days',
] as const
export type OutcomeColumn = (typeof OUTCOME_COLUMNS)[number]

/** Per-member columns (row i is one member) and the arm names; `arm` holds indices into `arms`. */
export interface MemberOutcomes {
  readonly arms: readonly string[]
  readonly columns: Readonly<Record<OutcomeColumn, Float64Array>>
  /** Last order or event in the data (ISO), the limit of complete windows. */
  readonly dataEnd: string | null
}

function checkWindows(w: OutcomeWindows): void {
  const ok = (v: number) => Number.isInteger(v) && v >= 0 && v <= 3660
  if (
    !ok(w.windowDays) ||
    w.windowDays === 0 ||
    !ok(w.preDays) ||
    !ok(w.retentionFromDays) ||
    !ok(w.retentionToDays)
  ) {
    throw new InputError(
      'windows must be whole days between 0 and 3660 (the outcome window at least 1)',
    )
  }
  if (w.retentionToDays <= w.retentionFromDays) {
    throw new InputError('the retention window must end after it starts')
  }
}

/**
 * Per-member outcomes for the units fragment (columns member_id, arm_name, t0). Arms are numbered in
 * alphabetical order of their names. Rows are ordered by arm, then member_id.
 */
export async function memberOutcomes(
  driver: DuckDbDriver,
  units: Fragment,
  windows: OutcomeWindows,
): Promise<MemberOutcomes> {
  checkWindows(windows)
  const W = windows.windowDays
  const P = windows.preDays
  const A = windows.retentionFromDays
  const B = windows.retentionToDays
  const reach = Math.max(W, B)
  const arms = (
    await driver.all<{ armName: string }>(
      sql`SELECT DISTINCT arm_name FROM (${units}) u WHERE arm_name IS NOT NULL ORDER BY arm_name`,
    )
  ).map((r) => r.armName)
  const end = await driver.first<{ dataEnd: string | null }>(
    sql`SELECT strftime(greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events)),
      '%Y-%m-%dT%H:%M:%SZ') AS data_end`,
  )
  const day = (n: number) => sql`to_days(${n}::INTEGER)`
  const q = sql`WITH
    u AS (SELECT member_id, arm_name, t0, dense_rank() OVER (ORDER BY arm_name) - 1 AS arm
          FROM (${units}) x WHERE member_id IS NOT NULL AND arm_name IS NOT NULL AND t0 IS NOT NULL),
    bounds AS (SELECT greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events)) AS data_end),
    o AS (SELECT u.member_id,
            count(*) FILTER (WHERE o.ordered_at >= u.t0 AND o.ordered_at < u.t0 + ${day(W)}) AS orders_post,
            sum(o.net_amount) FILTER (WHERE o.ordered_at >= u.t0 AND o.ordered_at < u.t0 + ${day(W)}) AS spend_post,
            count(*) FILTER (WHERE o.ordered_at >= u.t0 + ${day(A)} AND o.ordered_at < u.t0 + ${day(B)}) AS orders_retention,
            count(*) FILTER (WHERE o.ordered_at >= u.t0 - ${day(P)} AND o.ordered_at < u.t0) AS orders_pre,
            sum(o.net_amount) FILTER (WHERE o.ordered_at >= u.t0 - ${day(P)} AND o.ordered_at < u.t0) AS spend_pre,
            date_diff('second', max(o.ordered_at) FILTER (WHERE o.ordered_at < u.t0), any_value(u.t0)) / 86400.0 AS recency_days
          FROM u JOIN orders o ON o.member_id = u.member_id AND o.status <> 'cancelled'
            AND o.ordered_at < u.t0 + ${day(reach)}
          GROUP BY u.member_id),
    r AS (SELECT u.member_id,
            sum(r.amount) FILTER (WHERE r.returned_at >= u.t0 AND r.returned_at < u.t0 + ${day(W)}) AS returned_amount_post,
            count(DISTINCT r.order_id) FILTER (WHERE r.returned_at >= u.t0 AND r.returned_at < u.t0 + ${day(W)}) AS returned_orders_post,
            sum(r.amount) FILTER (WHERE r.returned_at >= u.t0 - ${day(P)} AND r.returned_at < u.t0) AS returned_amount_pre
          FROM u JOIN returns r ON r.member_id = u.member_id
            AND r.returned_at >= u.t0 - ${day(P)} AND r.returned_at < u.t0 + ${day(W)}
          GROUP BY u.member_id),
    e AS (SELECT u.member_id,
            count(*) FILTER (WHERE e.ts >= u.t0 AND e.ts < u.t0 + ${day(W)}) AS events_post,
            count(*) FILTER (WHERE e.ts >= u.t0 + ${day(A)} AND e.ts < u.t0 + ${day(B)}) AS events_retention,
            count(*) FILTER (WHERE e.ts >= u.t0 - ${day(P)} AND e.ts < u.t0) AS events_pre
          FROM u JOIN events e ON e.member_id = u.member_id
            AND e.ts >= u.t0 - ${day(P)} AND e.ts < u.t0 + ${day(reach)}
          GROUP BY u.member_id),
    f AS (SELECT u.member_id,
            count(*) FILTER (WHERE f.kind = 'complaint' AND f.ts >= u.t0 AND f.ts < u.t0 + ${day(W)}) AS complaints_post,
            count(*) FILTER (WHERE f.kind = 'support_ticket' AND f.ts >= u.t0 AND f.ts < u.t0 + ${day(W)}) AS tickets_post,
            count(*) FILTER (WHERE f.kind = 'complaint' AND f.ts >= u.t0 - ${day(P)} AND f.ts < u.t0) AS complaints_pre
          FROM u JOIN feedback f ON f.member_id = u.member_id
            AND f.ts >= u.t0 - ${day(P)} AND f.ts < u.t0 + ${day(W)}
          GROUP BY u.member_id)
    SELECT u.arm::DOUBLE AS arm, u.member_id::DOUBLE AS member_id,
      (u.t0 + ${day(W)} <= b.data_end)::INTEGER::DOUBLE AS complete_post,
      (u.t0 + ${day(B)} <= b.data_end)::INTEGER::DOUBLE AS complete_retention,
      coalesce(o.orders_post, 0)::DOUBLE AS orders_post,
      coalesce(o.spend_post, 0)::DOUBLE AS spend_post,
      coalesce(r.returned_amount_post, 0)::DOUBLE AS returned_amount_post,
      coalesce(r.returned_orders_post, 0)::DOUBLE AS returned_orders_post,
      (coalesce(o.spend_post, 0) - coalesce(r.returned_amount_post, 0))::DOUBLE AS revenue_post,
      coalesce(f.complaints_post, 0)::DOUBLE AS complaints_post,
      coalesce(f.tickets_post, 0)::DOUBLE AS tickets_post,
      (coalesce(o.orders_post, 0) + coalesce(e.events_post, 0) > 0)::INTEGER::DOUBLE AS active_post,
      (coalesce(o.orders_retention, 0) + coalesce(e.events_retention, 0) > 0)::INTEGER::DOUBLE AS active_retention,
      coalesce(o.orders_retention, 0)::DOUBLE AS orders_retention,
      coalesce(o.orders_pre, 0)::DOUBLE AS orders_pre,
      coalesce(o.spend_pre, 0)::DOUBLE AS spend_pre,
      (coalesce(o.spend_pre, 0) - coalesce(r.returned_amount_pre, 0))::DOUBLE AS revenue_pre,
      (coalesce(o.orders_pre, 0) + coalesce(e.events_pre, 0) > 0)::INTEGER::DOUBLE AS active_pre,
      coalesce(f.complaints_pre, 0)::DOUBLE AS complaints_pre,
      o.recency_days::DOUBLE AS recency_days,
      greatest(0, date_diff('second', m.registered_at, u.t0) / 86400.0)::DOUBLE AS tenure_days
    FROM u CROSS JOIN bounds b
      LEFT JOIN members m ON m.member_id = u.member_id
      LEFT JOIN o ON o.member_id = u.member_id
      LEFT JOIN r ON r.member_id = u.member_id
      LEFT JOIN e ON e.member_id = u.member_id
      LEFT JOIN f ON f.member_id = u.member_id
    ORDER BY u.arm, u.member_id`
  const columns = await fetchFloat64Columns(driver, q, OUTCOME_COLUMNS)
  return { arms, columns, dataEnd: end?.dataEnd ?? null }
}

/**
 * The `clv` of CLV run `runId` (table member_scores of `memberlens clv fit`) for each member of
 * `memberIds`, in that order; NaN for a member the run did not score.
 */
export async function memberClvScores(
  driver: DuckDbDriver,
  runId: string,
  memberIds: Float64Array,
): Promise<Float64Array> {
  const rows = await driver.all<{ memberId: number; clv: number | null }>(
    sql`SELECT member_id::DOUBLE AS member_id, clv::DOUBLE AS clv FROM member_scores
      WHERE run_id = ${runId} AND clv IS NOT NULL AND NOT isnan(clv)`,
  )
  const byMember = new Map<number, number>()
  for (const r of rows) if (r.clv !== null) byMember.set(Number(r.memberId), r.clv)
  return Float64Array.from(memberIds, (id) => byMember.get(id) ?? NaN)
}
