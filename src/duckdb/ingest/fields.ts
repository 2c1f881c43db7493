/**
 * SQL expressions that parse and check one source column (always read as text) into its canonical type.
 * Pure builders: `(column, context) => Fragment`.
 * @module
 */
import type { FieldDef } from '../../core/schema.js'
import { sql, unsafeRaw, type Fragment } from '../../engine/sql/fragment.js'
import { blankToNull, type IdentityContext } from '../identity.js'

export interface ParseContext extends IdentityContext {
  /** IANA zone of timestamps that carry no offset. */
  readonly timezone: string
  /** strptime format for timestamps (and dates) without ISO 8601 form; undefined = ISO 8601. */
  readonly dateFormat?: string
}

export { blankToNull }

/**
 * True when ISO 8601 text carries a numeric UTC offset (`+08:00`, `-05`) after its date part. `Z` and `UTC`
 * need no flag: a plain TIMESTAMP cast reads them as UTC already. Cheap string tests, no regular expression.
 */
function hasNumericOffset(v: Fragment): Fragment {
  return sql`(contains(substr(${v}, 11), '+') OR contains(substr(${v}, 11), '-'))`
}

/**
 * A timestamp as UTC. ISO 8601 text: a numeric offset keeps its instant, `Z`/`UTC` are UTC, naive times are
 * read in the context's zone. With a strptime format: a format with `%z`/`%Z` gives the instant, others are
 * naive times in the context's zone. Relies on the session zone being UTC (set by the driver), so that
 * `TIMESTAMPTZ → TIMESTAMP` yields UTC wall time. Note that a plain `TIMESTAMP` cast would drop an offset
 * silently, which is why offsets take the `TIMESTAMPTZ` path.
 */
export function parseTimestamp(col: Fragment, ctx: ParseContext): Fragment {
  const v = blankToNull(col)
  const utc = ctx.timezone === 'UTC'
  // Zone conversion costs a time-zone lookup per row; UTC needs none.
  const local = (naive: Fragment): Fragment =>
    utc ? naive : sql`timezone(${ctx.timezone}, ${naive})::TIMESTAMP`
  if (ctx.dateFormat !== undefined) {
    const parsed = sql`try_strptime(${v}, ${ctx.dateFormat})::TIMESTAMP`
    return /%[zZ]/.test(ctx.dateFormat) ? parsed : local(parsed)
  }
  const offsetOrUtc = utc ? sql`` : sql` OR right(${v}, 1) IN ('Z', 'z') OR ends_with(${v}, 'UTC')`
  return sql`(CASE WHEN ${hasNumericOffset(v)}${offsetOrUtc} THEN TRY_CAST(${v} AS TIMESTAMPTZ)::TIMESTAMP
    ELSE ${local(sql`TRY_CAST(${v} AS TIMESTAMP)`)} END)`
}

export function parseDate(col: Fragment, ctx: ParseContext): Fragment {
  const v = blankToNull(col)
  return ctx.dateFormat === undefined
    ? sql`TRY_CAST(${v} AS DATE)`
    : sql`coalesce(TRY_CAST(${v} AS DATE), try_strptime(${v}, ${ctx.dateFormat})::DATE)`
}

const TRUE_WORDS = ['true', 't', 'yes', 'y', '1']
const FALSE_WORDS = ['false', 'f', 'no', 'n', '0']

/** Parsed value of a field from its text column; NULL when blank or unparsable. */
export function parseField(field: FieldDef, col: Fragment, ctx: ParseContext): Fragment {
  const v = blankToNull(col)
  const t = field.type
  switch (t.kind) {
    case 'string':
      return v
    case 'enum':
      return sql`(CASE WHEN lower(${v}) IN (${unsafeRaw(enumList(t.values))}) THEN lower(${v}) END)`
    case 'integer':
      return sql`TRY_CAST(${v} AS INTEGER)`
    case 'bigint':
      return sql`TRY_CAST(${v} AS BIGINT)`
    case 'number':
      return sql`TRY_CAST(${v} AS DOUBLE)`
    case 'money':
      return sql`TRY_CAST(${v} AS DECIMAL(18,4))`
    case 'timestamp':
      return parseTimestamp(col, ctx)
    case 'date':
      return parseDate(col, ctx)
    case 'boolean':
      return sql`(CASE WHEN lower(${v}) IN (${unsafeRaw(quoted(TRUE_WORDS))}) THEN true
        WHEN lower(${v}) IN (${unsafeRaw(quoted(FALSE_WORDS))}) THEN false END)`
    case 'json':
      return sql`(CASE WHEN json_valid(${v}) AND json_type(${v}::JSON) = 'OBJECT' THEN ${v}::JSON END)`
    default: {
      const _exhaustive: never = t
      throw new Error(`unhandled type ${JSON.stringify(_exhaustive)}`)
    }
  }
}

function quoted(words: readonly string[]): string {
  // Closed sets of lowercase ASCII words defined above.
  return words.map((w) => `'${w}'`).join(', ')
}

function enumList(values: readonly string[]): string {
  for (const v of values) {
    if (!/^[a-z0-9_]+$/.test(v))
      throw new Error(`enum value ${JSON.stringify(v)} is not a plain word`)
  }
  return values.map((v) => `'${v}'`).join(', ')
}

/** The DuckDB type of a parsed field in the typed staging table. */
export function typeName(f: FieldDef): string {
  switch (f.type.kind) {
    case 'string':
    case 'enum':
      return 'VARCHAR'
    case 'integer':
      return 'INTEGER'
    case 'bigint':
      return 'BIGINT'
    case 'number':
      return 'DOUBLE'
    case 'money':
      return 'DECIMAL(18,4)'
    case 'timestamp':
      return 'TIMESTAMP'
    case 'date':
      return 'DATE'
    case 'boolean':
      return 'BOOLEAN'
    case 'json':
      return 'JSON'
    default: {
      const _exhaustive: never = f.type
      throw new Error(`unhandled type ${JSON.stringify(_exhaustive)}`)
    }
  }
}

/** Why a present value of this type failed to parse. */
export function typeReason(f: FieldDef, ctx: ParseContext): string {
  const t = f.type
  switch (t.kind) {
    case 'string':
      return ''
    case 'enum':
      return `must be one of ${t.values.join(', ')}`
    case 'integer':
    case 'bigint':
      return 'not an integer'
    case 'number':
      return 'not a number'
    case 'money':
      return 'not an amount (digits with at most 4 decimals)'
    case 'timestamp':
      return ctx.dateFormat === undefined
        ? 'not a timestamp (expected ISO 8601, e.g. 2024-03-01 10:00:00 or 2024-03-01T10:00:00+08:00)'
        : `not a timestamp in the format ${ctx.dateFormat}`
    case 'date':
      return 'not a date (expected YYYY-MM-DD)'
    case 'boolean':
      return 'not a boolean (true/false, yes/no, 1/0)'
    case 'json':
      return 'not a JSON object'
    default: {
      const _exhaustive: never = t
      throw new Error(`unhandled type ${JSON.stringify(_exhaustive)}`)
    }
  }
}
