/**
 * The loaded history as the loyalty replays read it from the member database: members with their enrolment
 * time, and one time line of orders, the points paid in them, returns, check-ins and reviews.
 * Times are read to the millisecond, as the ledger keeps them; the bulk replay stages them in two temporary
 * tables with the day and month each event falls on in the program's zone.
 * @module
 */
import { sql, unsafeRaw, type Fragment } from '../engine/sql/fragment.js'
import type { DuckDbDriver } from './driver.js'

/** Which earn events of the source data the program rewards (the others are left out of the time line). */
export interface HistoryKinds {
  /**
   * `events` rows of type `check_in`: the daily check-in bonus. The first check-in of a member's local day (at
   * `offsetMinutes` from UTC, the program's) is the day's check-in; later ones that day are left out.
   */
  readonly checkIns: boolean
  /** `feedback` rows of kind `review`: the review bonus, once per review id. */
  readonly reviews: boolean
  /** The program's offset from UTC in minutes, which days are counted in. */
  readonly offsetMinutes: number
}

/**
 * The time line: orders (not cancelled) of members, the points paid in them (`payment`, just before the order
 * earns), their returns, and the check-ins and reviews the program rewards. `seq` orders the events of one
 * instant: check-in, review, payment, order, return.
 */
function history(kinds: HistoryKinds): Fragment {
  const checkIns = kinds.checkIns
    ? sql`
    UNION ALL
    SELECT 'check_in', 0, event_id, NULL, CAST(member_id AS VARCHAR), ts, channel, NULL
    FROM events WHERE event_type = 'check_in' AND member_id IS NOT NULL
    QUALIFY row_number() OVER (
      PARTITION BY member_id, CAST(ts + to_minutes(${unsafeRaw(String(Math.trunc(kinds.offsetMinutes)))}) AS DATE)
      ORDER BY ts, event_id) = 1`
    : sql``
  const reviews = kinds.reviews
    ? sql`
    UNION ALL
    SELECT 'review', 1, feedback_id, NULL, CAST(member_id AS VARCHAR), ts, channel, NULL
    FROM feedback WHERE kind = 'review' AND member_id IS NOT NULL`
    : sql``
  return sql`
    SELECT 'order' AS kind, 3 AS seq, order_id AS id, order_id, CAST(member_id AS VARCHAR) AS member_id,
           ordered_at AS ts, channel, CAST(net_amount AS VARCHAR) AS amount
    FROM orders WHERE status <> 'cancelled' AND member_id IS NOT NULL
    UNION ALL
    SELECT 'payment', 2, order_id, order_id, CAST(member_id AS VARCHAR), ordered_at, channel,
           CAST(points_used AS VARCHAR)
    FROM orders WHERE status <> 'cancelled' AND member_id IS NOT NULL AND points_used > 0
    UNION ALL
    SELECT 'return', 4, r.return_id, r.order_id, CAST(o.member_id AS VARCHAR), r.returned_at, NULL, CAST(r.amount AS VARCHAR)
    FROM returns r JOIN orders o ON o.order_id = r.order_id
    WHERE o.status <> 'cancelled' AND o.member_id IS NOT NULL${checkIns}${reviews}`
}

/**
 * An event of the time line; `ts` is an ISO instant with milliseconds. `kind` is `order`, `payment`, `return`,
 * `check_in` or `review`; `amount` is the net amount (order), the amount refunded (return) or the points paid
 * (payment), and null for check-ins and reviews; `orderId` is null for check-ins and reviews.
 */
export interface HistoryEvent extends Record<string, unknown> {
  kind: string
  id: string
  orderId: string | null
  memberId: string
  ts: string
  channel: string | null
  amount: string | null
}

/** Every member with the instant of registration (ISO, milliseconds) and birthday, by member id. */
export function readEnrolments(
  d: DuckDbDriver,
): Promise<{ memberId: string; registeredAt: string; birthday: string | null }[]> {
  return d.all(
    sql`SELECT CAST(member_id AS VARCHAR) AS member_id, strftime(registered_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS registered_at,
          CAST(birthday AS VARCHAR) AS birthday FROM members ORDER BY member_id`,
  )
}

/** One page of the time line, in replay order. */
export function readHistoryPage(
  d: DuckDbDriver,
  kinds: HistoryKinds,
  offset: number,
  pageSize: number,
): Promise<HistoryEvent[]> {
  return d.all<HistoryEvent>(
    sql`SELECT kind, id, order_id, member_id, strftime(ts, '%Y-%m-%dT%H:%M:%S.%gZ') AS ts, channel, amount
        FROM (${history(kinds)}) ORDER BY ts, seq, id LIMIT ${pageSize} OFFSET ${offset}`,
  )
}

/**
 * Stages the history for the bulk replay: `loyalty_bulk_members` (each member's rank in enrolment order,
 * registration in epoch milliseconds) and `loyalty_bulk_events` (the time line in epoch milliseconds, with the
 * member's rank, the local day at the program's offset from UTC and the UTC month).
 */
export async function stageBulkHistory(d: DuckDbDriver, kinds: HistoryKinds): Promise<void> {
  const offsetMinutes = kinds.offsetMinutes
  await dropBulkHistory(d)
  await d.execute(
    sql`CREATE TEMP TABLE loyalty_bulk_members AS
        SELECT row_number() OVER (ORDER BY member_id) AS member_rank, CAST(member_id AS VARCHAR) AS member_id,
               epoch_ms(registered_at) AS registered_at, CAST(birthday AS VARCHAR) AS birthday
        FROM members`,
  )
  await d.execute(
    sql`CREATE TEMP TABLE loyalty_bulk_events AS
        WITH e AS (${history(kinds)})
        SELECT COALESCE(m.member_rank, 0) AS member_rank, e.member_id AS member_id, e.kind, e.seq, e.id, e.order_id,
               epoch_ms(e.ts) AS ts, e.channel, e.amount,
               strftime(e.ts + to_minutes(${unsafeRaw(String(Math.trunc(offsetMinutes)))}), '%Y-%m-%d') AS local_day,
               date_trunc('month', e.ts) AS month
        FROM e LEFT JOIN loyalty_bulk_members m ON m.member_id = e.member_id`,
  )
}

/** Each local day of the staged history with its first event (epoch milliseconds). */
export function bulkHistoryDays(
  d: DuckDbDriver,
): Promise<{ localDay: string; first: number | bigint }[]> {
  return d.all(
    sql`SELECT local_day, min(ts) AS first FROM loyalty_bulk_events GROUP BY local_day ORDER BY local_day`,
  )
}

/** Each UTC month of the staged history (`YYYY-MM-01`) with its first event (epoch milliseconds). */
export function bulkHistoryMonths(
  d: DuckDbDriver,
): Promise<{ month: string; first: number | bigint }[]> {
  return d.all(
    sql`SELECT strftime(month, '%Y-%m-%d') AS month, min(ts) AS first FROM loyalty_bulk_events
        GROUP BY month ORDER BY month`,
  )
}

/** Drops the staged history. */
export async function dropBulkHistory(d: DuckDbDriver): Promise<void> {
  await d.execute(sql`DROP TABLE IF EXISTS loyalty_bulk_events`)
  await d.execute(sql`DROP TABLE IF EXISTS loyalty_bulk_members`)
}
