/**
 * Per-member repeat-buying summaries (x, t_x, T, z̄) computed inside the engine: the inputs of the BG/NBD,
 * Pareto/NBD and Gamma–Gamma models, with an optional holdout period for validation.
 *
 * Definitions (docs/models.md; the CDNOW convention of Fader, Hardie & Lee 2005, see
 * data/README.md): a purchase is an order whose status is not `cancelled`; purchases on the same
 * UTC day are merged into one transaction whose value is the sum of their `net_amount`. With the default
 * origin `first-purchase`, a member's clock starts at the first purchase day, x = distinct purchase days − 1
 * (repeat transactions), t_x = last − first purchase day, T = calibration end − first purchase day, and
 * z̄ = mean value of the repeat days (0 when x = 0). With origin `registration` the clock starts at the
 * registration day, every purchase day counts (x = distinct purchase days on or after it), and members who
 * never bought are included with x = 0: that is BG/NBD for a member base whose "birth" is observed.
 * @module
 */
import { InputError } from '../../core/errors.js'
import type { Driver } from '../drivers/driver.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { fetchFloat64Columns } from './columns.js'

/** Time unit of t_x and T. */
export type TimeUnit = 'week' | 'day'
export const TIME_UNITS: readonly TimeUnit[] = ['week', 'day']
/** Where a member's observation clock starts. */
export type SummaryOrigin = 'first-purchase' | 'registration'
export const SUMMARY_ORIGINS: readonly SummaryOrigin[] = ['first-purchase', 'registration']

const UNIT_DAYS: Readonly<Record<TimeUnit, number>> = { week: 7, day: 1 }

/** Settings of {@link repeatBuyingSummaries}. */
export interface SummaryOptions {
  /** Last day of the calibration period (YYYY-MM-DD, inclusive; T is measured to its start, as in CDNOW). */
  readonly calibrationEnd: string
  /** Last day of the holdout period (YYYY-MM-DD, inclusive), after the calibration end; null for none. */
  readonly holdoutEnd?: string | null
  /** Default `week`. */
  readonly unit?: TimeUnit
  /** Default `first-purchase`. */
  readonly origin?: SummaryOrigin
  /** The zone whose calendar days purchases are merged by and the days above are read in; default UTC. */
  readonly timezone?: string
  /**
   * Which amount a purchase is worth: `net` (net_amount, after discounts; the default) or `gross`
   * (gross_amount, before discounts and coupons: what the shopper chose to spend).
   */
  readonly spend?: SpendBasis
}

/** The amount a purchase is worth in the summaries. */
export type SpendBasis = 'net' | 'gross'
export const SPEND_BASES: readonly SpendBasis[] = ['net', 'gross']

/** Column-oriented summaries, one entry per member, ordered by member_id. */
export interface RepeatBuyingSummaries {
  /** member_id as a double (exact below 2^53). */
  readonly memberId: Float64Array
  readonly x: Float64Array
  readonly tx: Float64Array
  readonly T: Float64Array
  /** Mean value of the transactions counted in x (0 when x = 0). */
  readonly zbar: Float64Array
  /** Distinct purchase days in the holdout (calibration end, holdout end]; zeros without a holdout. */
  readonly holdoutPurchases: Float64Array
  /** Σ net_amount of holdout purchases. */
  readonly holdoutValue: Float64Array
  /** Holdout length in the time unit (0 without a holdout). */
  readonly holdoutLength: number
  readonly options: Required<Pick<SummaryOptions, 'calibrationEnd' | 'unit' | 'origin'>> & {
    readonly holdoutEnd: string | null
    readonly timezone?: string
    /** Absent for net amounts. */
    readonly spend?: 'gross'
  }
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/

/** Checks a YYYY-MM-DD day (a real calendar day); returns its UTC midnight in ms. */
export function parseDay(value: string, field: string): number {
  const ms = DATE_RE.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) {
    throw InputError.single({ field, value, reason: 'expected a date YYYY-MM-DD' })
  }
  return ms
}

/** Validates the options and fills the defaults. */
export function resolveSummaryOptions(options: SummaryOptions): RepeatBuyingSummaries['options'] {
  const cal = parseDay(options.calibrationEnd, 'calibration end')
  const unit = options.unit ?? 'week'
  if (!TIME_UNITS.includes(unit)) {
    throw InputError.single({ field: 'unit', value: String(unit), reason: 'one of week, day' })
  }
  const origin = options.origin ?? 'first-purchase'
  if (!SUMMARY_ORIGINS.includes(origin)) {
    throw InputError.single({
      field: 'origin',
      value: String(origin),
      reason: `one of ${SUMMARY_ORIGINS.join(', ')}`,
    })
  }
  const holdoutEnd = options.holdoutEnd ?? null
  if (holdoutEnd !== null) {
    const hold = parseDay(holdoutEnd, 'holdout end')
    if (hold <= cal) {
      throw InputError.single({
        field: 'holdout end',
        value: holdoutEnd,
        reason: `must be after the calibration end ${options.calibrationEnd}`,
      })
    }
  }
  return {
    calibrationEnd: options.calibrationEnd,
    unit,
    origin,
    holdoutEnd: options.holdoutEnd ?? null,
    ...(options.timezone === undefined || options.timezone === 'UTC'
      ? {}
      : { timezone: options.timezone }),
    ...(spendBasis(options.spend) === 'gross' ? { spend: 'gross' as const } : {}),
  }
}

function spendBasis(value: unknown): SpendBasis {
  if (value === undefined) return 'net'
  if (value === 'net' || value === 'gross') return value
  throw InputError.single({ field: 'spend', value: String(value), reason: 'one of net, gross' })
}

/** A timestamp column's calendar date in `timezone` (DuckDB; as stored for UTC). */
function localDate(column: Fragment, timezone: string | undefined): Fragment {
  return timezone === undefined || timezone === 'UTC'
    ? sql`CAST(${column} AS DATE)`
    : sql`CAST(timezone(${timezone}, CAST(${column} AS TIMESTAMPTZ)) AS DATE)`
}

/**
 * Purchase days per member up to `lastDay`: one row per (member_id, day) with the merged value. Shared by
 * the repeat-buying summaries and the churn features.
 * @internal
 */
export function purchaseDays(
  lastDay: string,
  timezone?: string,
  spend: SpendBasis = 'net',
): Fragment {
  const day = localDate(sql`ordered_at`, timezone)
  const amount = spend === 'gross' ? sql`gross_amount` : sql`net_amount`
  return sql`SELECT member_id, ${day} AS day, sum(${amount})::DOUBLE AS value
    FROM orders
    WHERE status <> 'cancelled' AND member_id IS NOT NULL AND ${day} <= CAST(${lastDay} AS DATE)
    GROUP BY 1, 2`
}

/**
 * Each member's origin day (`member_id, origin`), reading the purchase days from a CTE named `days`.
 * @internal
 */
export function originQuery(
  origin: SummaryOrigin,
  calibrationEnd: string,
  timezone?: string,
): Fragment {
  const registered = localDate(sql`registered_at`, timezone)
  return origin === 'registration'
    ? sql`SELECT member_id, ${registered} AS origin FROM members
          WHERE ${registered} <= CAST(${calibrationEnd} AS DATE)`
    : sql`SELECT member_id, min(day) AS origin FROM days WHERE day <= CAST(${calibrationEnd} AS DATE) GROUP BY member_id`
}

/**
 * The purchase days `d` counted as transactions of member `g`: after the origin day, and on it too when the
 * clock starts at registration (the first purchase is then an event of the process, not its start).
 * @internal
 */
export function countedAfterOrigin(origin: SummaryOrigin): Fragment {
  return sql`(d.day > g.origin OR (${origin === 'registration'} AND d.day = g.origin))`
}

/**
 * The summaries query (exposed for the bench and for inspection). Generated SQL on DuckDB, abridged:
 * ```sql
 * WITH days AS (SELECT member_id, CAST(ordered_at AS DATE) AS day, sum(net_amount)::DOUBLE AS value
 *               FROM orders WHERE status <> 'cancelled' … GROUP BY 1, 2),
 *      origin AS (SELECT member_id, min(day) AS origin FROM days WHERE day <= $cal GROUP BY 1)
 * SELECT member_id, count(*) FILTER (counted) AS x, date_diff('day', origin, max(day) FILTER (counted)) / 7 AS tx,
 *        date_diff('day', origin, $cal) / 7 AS T, avg(value) FILTER (counted) AS zbar, … holdout …
 * FROM origin LEFT JOIN days USING (member_id) GROUP BY member_id, origin ORDER BY member_id
 * ```
 */
export function repeatBuyingSummariesQuery(options: SummaryOptions): Fragment {
  const o = resolveSummaryOptions(options)
  const unitDays = UNIT_DAYS[o.unit]
  const cal = o.calibrationEnd
  const last = o.holdoutEnd ?? cal
  const origin = originQuery(o.origin, cal, o.timezone)
  const counted = sql`d.day <= CAST(${cal} AS DATE) AND ${countedAfterOrigin(o.origin)}`
  const holdout = sql`d.day > CAST(${cal} AS DATE) AND d.day <= CAST(${last} AS DATE)`
  return sql`WITH days AS (${purchaseDays(last, o.timezone, o.spend)}), origin AS (${origin})
    SELECT g.member_id::DOUBLE AS member_id,
      (count(d.day) FILTER (WHERE ${counted}))::DOUBLE AS x,
      coalesce(date_diff('day', g.origin, max(d.day) FILTER (WHERE ${counted})), 0)::DOUBLE / ${unitDays} AS tx,
      date_diff('day', g.origin, CAST(${cal} AS DATE))::DOUBLE / ${unitDays} AS t_cal,
      coalesce(avg(d.value) FILTER (WHERE ${counted}), 0)::DOUBLE AS zbar,
      (count(d.day) FILTER (WHERE ${holdout}))::DOUBLE AS holdout_purchases,
      coalesce(sum(d.value) FILTER (WHERE ${holdout}), 0)::DOUBLE AS holdout_value
    FROM origin g LEFT JOIN days d ON d.member_id = g.member_id AND d.day >= g.origin
    GROUP BY g.member_id, g.origin
    ORDER BY g.member_id`
}

/**
 * Per-member (x, t_x, T, z̄) and holdout purchases for a calibration end date, computed in SQL and fetched
 * into Float64Arrays. Throws InputError on bad options and when no member qualifies (no purchases up to
 * the calibration end).
 * @example
 * const s = await repeatBuyingSummaries(db.driver, { calibrationEnd: '1997-09-30', holdoutEnd: '1998-06-30' })
 * const fit = fitBgNbd(s.x, s.tx, s.T)
 */
export async function repeatBuyingSummaries(
  driver: Driver,
  options: SummaryOptions,
): Promise<RepeatBuyingSummaries> {
  const o = resolveSummaryOptions(options)
  const c = await fetchFloat64Columns(driver, repeatBuyingSummariesQuery(o), [
    'member_id',
    'x',
    'tx',
    't_cal',
    'zbar',
    'holdout_purchases',
    'holdout_value',
  ])
  if (c.member_id.length === 0) {
    throw new InputError(
      o.origin === 'registration'
        ? `no members registered on or before ${o.calibrationEnd}`
        : `no purchases on or before ${o.calibrationEnd}: nothing to summarise (load orders, or choose a later calibration end)`,
    )
  }
  const holdoutLength =
    o.holdoutEnd === null
      ? 0
      : (parseDay(o.holdoutEnd, 'holdout end') - parseDay(o.calibrationEnd, 'calibration end')) /
        86_400_000 /
        UNIT_DAYS[o.unit]
  return {
    memberId: c.member_id,
    x: c.x,
    tx: c.tx,
    T: c.t_cal,
    zbar: c.zbar,
    holdoutPurchases: c.holdout_purchases,
    holdoutValue: c.holdout_value,
    holdoutLength,
    options: o,
  }
}

/** The latest purchase day in the database (YYYY-MM-DD), or null without purchases. */
export async function lastPurchaseDay(driver: Driver, timezone?: string): Promise<string | null> {
  const row = await driver.first<{ day: string | null }>(
    sql`SELECT CAST(max(${localDate(sql`ordered_at`, timezone)}) AS VARCHAR) AS day FROM orders WHERE status <> 'cancelled'`,
  )
  return row?.day ?? null
}

/** Transactions per period since the earliest origin: the actual side of a tracking plot. */
export interface TransactionsByPeriod {
  /** Earliest origin day (YYYY-MM-DD): period k covers [start + k·unit, start + (k+1)·unit). */
  readonly start: string
  /** Transactions (counted as in x) per period, up to the last day (holdout end or calibration end). */
  readonly counts: Float64Array
}

/**
 * Transactions counted as in x (repeat purchase days, or every purchase day from registration) per time
 * unit since the earliest origin, up to the holdout end (or the calibration end), for the members of
 * {@link repeatBuyingSummaries} with the same options.
 */
export async function transactionsByPeriod(
  driver: Driver,
  options: SummaryOptions,
): Promise<TransactionsByPeriod> {
  const o = resolveSummaryOptions(options)
  const unitDays = UNIT_DAYS[o.unit]
  const last = o.holdoutEnd ?? o.calibrationEnd
  const startRow = await driver.first<{ start: string | null; periods: bigint | number | null }>(
    sql`WITH days AS (${purchaseDays(last, o.timezone, o.spend)}), origin AS (${originQuery(o.origin, o.calibrationEnd, o.timezone)})
      SELECT CAST(min(origin) AS VARCHAR) AS start,
        floor(date_diff('day', min(origin), CAST(${last} AS DATE)) / ${unitDays})::BIGINT + 1 AS periods
      FROM origin`,
  )
  if (startRow?.start == null)
    throw new InputError(`no members with purchases on or before ${o.calibrationEnd}`)
  const start = startRow.start
  const c = await fetchFloat64Columns(
    driver,
    sql`WITH days AS (${purchaseDays(last, o.timezone, o.spend)}), origin AS (${originQuery(o.origin, o.calibrationEnd, o.timezone)})
      SELECT floor(date_diff('day', CAST(${start} AS DATE), d.day) / ${unitDays})::DOUBLE AS period,
        count(*)::DOUBLE AS n
      FROM origin g JOIN days d ON d.member_id = g.member_id AND ${countedAfterOrigin(o.origin)}
      GROUP BY 1 ORDER BY 1`,
    ['period', 'n'],
  )
  const counts = new Float64Array(Number(startRow.periods))
  for (let i = 0; i < c.period.length; i++) {
    const k = c.period[i] as number
    if (k >= 0 && k < counts.length) counts[k] = c.n[i] as number
  }
  return { start, counts }
}
