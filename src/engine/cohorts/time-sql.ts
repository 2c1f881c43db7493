/**
 * Time arithmetic shared by the retention, lifecycle, RFM and funnel builders.
 *
 * Portability: `date_diff('second', a, b)` exists under that name in DuckDB and (as an alias of `dateDiff`)
 * in ClickHouse; `EXTRACT(YEAR | QUARTER | MONTH FROM x)` is ANSI and supported by both. Calendar truncation
 * goes through the dialect ({@link SqlDialect.dateTrunc}). No interval arithmetic is used, so the text needs
 * no per-engine rewrite.
 * @see https://duckdb.org/docs/sql/functions/date#date_diffpart-startdate-enddate
 * @see https://clickhouse.com/docs/en/sql-reference/functions/date-time-functions#date_diff
 * @module
 */
import type { Grain, SqlDialect } from '../dialects/dialect.js'
import { sql, type Fragment } from '../sql/fragment.js'

/**
 * A timestamp parameter: `iso` is `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (UTC). A bare day is sent with its
 * time, `00:00:00`, which every engine casts (ClickHouse 18.x reads no bare day as a DateTime).
 */
export function timestampParam(iso: string): Fragment {
  return sql`CAST(${/^\d{4}-\d{2}-\d{2}$/.test(iso) ? `${iso} 00:00:00` : iso} AS TIMESTAMP)`
}

/** Fractional days from `a` to `b` (second resolution). */
export function daysBetween(a: Fragment, b: Fragment): Fragment {
  return sql`(date_diff('second', ${a}, ${b}) / 86400.0)`
}

/**
 * Whole periods of `grain` from the period starting at `fromStart` to the period starting at `toStart`
 * (both already truncated to `grain`). Weeks are ISO weeks, so the day difference is a multiple of 7.
 */
export function periodIndex(grain: Grain, fromStart: Fragment, toStart: Fragment): Fragment {
  const y = (x: Fragment): Fragment => sql`EXTRACT(YEAR FROM ${x})`
  switch (grain) {
    case 'day':
      return sql`CAST(date_diff('day', ${fromStart}, ${toStart}) AS INTEGER)`
    case 'week':
      return sql`CAST(date_diff('day', ${fromStart}, ${toStart}) / 7 AS INTEGER)`
    case 'month':
      return sql`CAST((${y(toStart)} - ${y(fromStart)}) * 12 + EXTRACT(MONTH FROM ${toStart}) - EXTRACT(MONTH FROM ${fromStart}) AS INTEGER)`
    case 'quarter':
      return sql`CAST((${y(toStart)} - ${y(fromStart)}) * 4 + EXTRACT(QUARTER FROM ${toStart}) - EXTRACT(QUARTER FROM ${fromStart}) AS INTEGER)`
    case 'year':
      return sql`CAST(${y(toStart)} - ${y(fromStart)} AS INTEGER)`
    default: {
      const _exhaustive: never = grain
      throw new Error(`unknown grain ${String(_exhaustive)}`)
    }
  }
}

/** The `YYYY-MM-DD` text of the start of the `grain` period holding `expr`. */
export function periodLabel(dialect: SqlDialect, grain: Grain, expr: Fragment): Fragment {
  return sql`CAST(CAST(${dialect.dateTrunc(grain, expr)} AS DATE) AS VARCHAR)`
}

/** Purchases (DOMAIN §2: any order not cancelled) as `(member_id, ts, amount)`, before `asOf`. */
export function purchasesBefore(asOf: Fragment): Fragment {
  return sql`SELECT member_id, ordered_at AS ts, net_amount AS amount FROM orders WHERE status <> 'cancelled' AND ordered_at < ${asOf}`
}

/** A `YYYY-MM-DD` date or `YYYY-MM-DD[ T]HH:MM[:SS]` instant, as accepted by every builder here. */
export const ISO_INSTANT_RE = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$/

/** Normalises an accepted instant to `YYYY-MM-DD HH:MM:SS`. */
export function normaliseInstant(text: string): string {
  if (!ISO_INSTANT_RE.test(text)) throw new Error(`invalid instant ${JSON.stringify(text)}`)
  const [d, t = '00:00:00'] = text.replace('T', ' ').split(' ')
  return `${d} ${t.length === 5 ? `${t}:00` : t}`
}
