/**
 * The interface every SQL engine implements. Everything that differs between engines lives in this folder;
 * the rest of the engine is written once against this interface.
 * @module
 */
import type { FieldType } from '../../core/schema.js'
import type { SqlValue } from '../compiled-query.js'
import type { Fragment } from '../sql/fragment.js'

export const GRAINS = ['day', 'week', 'month', 'quarter', 'year'] as const
/** Calendar grains; `week` is the ISO week starting on Monday. */
export type Grain = (typeof GRAINS)[number]

/** Whether a grain's periods are whole calendar months (so that a month lies in one period). */
export function isMonthAligned(grain: Grain): boolean {
  return grain === 'month' || grain === 'quarter' || grain === 'year'
}

/**
 * What {@link SqlDialect.dateText} writes: the day (`YYYY-MM-DD`), the month (`YYYY-MM`), or the UTC instant to
 * the second (`YYYY-MM-DDTHH:MM:SSZ`, of a timestamp stored in UTC).
 */
export type DateTextUnit = 'day' | 'month' | 'instant'

export interface SqlDialect {
  readonly name: string
  /** Quotes one identifier part. */
  quoteIdentifier(name: string): string
  /**
   * Placeholder for the i-th (1-based) parameter. `value` is the bound value, for engines whose placeholders
   * carry a type (ClickHouse `{p1:Int64}`) or that cannot bind parameters at all and take an escaped literal.
   */
  placeholder(index: number, value: SqlValue): string
  /** Column type for a canonical logical type. */
  columnType(type: FieldType): string
  /** Start of the period of `grain` containing `expr` (a timestamp or date expression). */
  dateTrunc(grain: Grain, expr: Fragment): Fragment
  /** `expr` plus `n` periods of `grain` (n may be negative). */
  addPeriods(grain: Grain, expr: Fragment, n: number): Fragment
  /** Every period start of `grain` from `first` to `last` inclusive, as a one-column query named `period`. */
  periodSeries(grain: Grain, first: Fragment, last: Fragment): Fragment
  /** A UTC timestamp as wall-clock time in an IANA zone (the zone is a parameter). */
  localTime(expr: Fragment, timezone: string): Fragment
  /** Whole seconds from `a` to `b`. */
  secondsBetween(a: Fragment, b: Fragment): Fragment
  /** Whole days from `a` to `b`. */
  daysBetween(a: Fragment, b: Fragment): Fragment
  /** A query returning one row (column `ok`) when `name` is a time zone the engine knows; the name is a parameter. */
  knownTimezone(name: string): Fragment
  /** A query returning one row (column `ok`) when the current database has a table `name` (a parameter). */
  tableLookup(name: string): Fragment
  /** Median of an expression (an aggregate). */
  median(expr: Fragment): Fragment
  /** The `p` quantile (0 … 1) of an expression, interpolated between values as `median` is (an aggregate). */
  quantile(expr: Fragment, p: number): Fragment
  /** Text of a JSON object's member (`attributes ->> key`); the key is a parameter. */
  jsonText(expr: Fragment, key: string): Fragment
  /**
   * A timestamp's calendar date as text, `YYYY-MM-DD` (`day`) or `YYYY-MM` (`month`); NULL stays NULL.
   */
  dateText(expr: Fragment, unit: DateTextUnit): Fragment
  /** One row per part of a text split at `separator` (a set-returning select expression). */
  splitToRows(expr: Fragment, separator: string): Fragment
  /** The MD5 digest of a text as 32 lower-case hex digits. */
  md5Hex(expr: Fragment): Fragment
  /** Parses text in a strftime-style format; null when it does not parse. */
  tryParseTimestamp(expr: Fragment, format: Fragment): Fragment
  /**
   * Whether the engine supports `INSERT … ON CONFLICT`. Default false: the portable path (anti-join insert
   * then update) is used instead.
   */
  readonly supportsOnConflict: boolean
  /** Whether DDL runs inside transactions (and rolls back). Default false. */
  readonly supportsTransactionalDdl: boolean
  /**
   * Whether the engine reads `WITH name AS (…)`. When false, `compile()` writes each one out as a subquery where
   * it is read (`sql/inline-ctes.ts`); only for dialects whose values are inlined literals. Default true.
   */
  readonly supportsCtes: boolean
  /** Whether one SELECT may join more than two relations. When false, builders nest one join per level. */
  readonly supportsMultipleJoins: boolean
}
