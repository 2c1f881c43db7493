/**
 * SQL expressions that parse and check one source column (always read as text) into its canonical type.
 * Pure builders: `(column, context) => Fragment`.
 * @module
 */
import type { FieldDef } from '../core/schema.js'
import { sql, unsafeRaw, type Fragment } from '../engine/sql/fragment.js'
import { blankToNull, type IdentityContext } from '../engine/sql/identity.js'
export { IDENTITY_REASON, identityValid, normalizeIdentity } from '../engine/sql/identity.js'

export interface ParseContext extends IdentityContext {
  /** IANA zone of timestamps that carry no offset. */
  readonly timezone: string
  /** strptime format for timestamps (and dates) without ISO 8601 form; undefined = ISO 8601. */
  readonly dateFormat?: string
}

export { blankToNull }

const OFFSET_RE = String.raw`(Z|z|[+-]\d{2}(:?\d{2})?)$`

/** A timestamp as UTC: offsets in the text win; naive times are read in the context's zone. */
export function parseTimestamp(col: Fragment, ctx: ParseContext): Fragment {
  const v = blankToNull(col)
  const naive =
    ctx.dateFormat === undefined
      ? sql`TRY_CAST(${v} AS TIMESTAMP)`
      : sql`try_strptime(${v}, ${ctx.dateFormat})::TIMESTAMP`
  return sql`(CASE WHEN ${v} IS NULL THEN NULL
    WHEN regexp_matches(${v}, ${OFFSET_RE}) THEN timezone('UTC', TRY_CAST(${v} AS TIMESTAMPTZ))
    ELSE timezone('UTC', timezone(${ctx.timezone}, ${naive})) END)`
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
      return sql`lower(${v})`
    case 'integer':
      return sql`TRY_CAST(${v} AS INTEGER)`
    case 'bigint':
      return sql`TRY_CAST(${v} AS BIGINT)`
    case 'number':
      return sql`TRY_CAST(${v} AS DOUBLE)`
    case 'money':
      // Parse through DECIMAL(38,10) first so that a 5th decimal is detected instead of rounded away.
      return sql`TRY_CAST(TRY_CAST(${v} AS DECIMAL(38,10)) AS DECIMAL(18,4))`
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

/** One rule a field's text must satisfy: `failing` is true on rows that break it. */
export interface Check {
  readonly field: string
  readonly column: Fragment
  readonly failing: Fragment
  readonly reason: string
}

/** The checks a present source column must pass for a field. */
export function fieldChecks(field: FieldDef, col: Fragment, ctx: ParseContext): Check[] {
  const v = blankToNull(col)
  const parsed = parseField(field, col, ctx)
  const checks: Check[] = []
  const add = (failing: Fragment, reason: string): void => {
    checks.push({ field: field.name, column: col, failing, reason })
  }
  if (field.required && field.default === undefined)
    add(sql`${v} IS NULL`, 'required value is missing')
  const t = field.type
  const typeReason: Record<typeof t.kind, string> = {
    string: '',
    enum: t.kind === 'enum' ? `must be one of ${t.values.join(', ')}` : '',
    integer: 'not an integer',
    bigint: 'not an integer',
    number: 'not a number',
    money: 'not an amount (digits with at most 4 decimals)',
    timestamp:
      ctx.dateFormat === undefined
        ? 'not a timestamp (expected ISO 8601, e.g. 2024-03-01 10:00:00 or 2024-03-01T10:00:00+08:00)'
        : `not a timestamp in the format ${ctx.dateFormat}`,
    date: 'not a date (expected YYYY-MM-DD)',
    boolean: 'not a boolean (true/false, yes/no, 1/0)',
    json: 'not a JSON object',
  }
  if (t.kind === 'enum') {
    add(
      sql`${v} IS NOT NULL AND NOT (lower(${v}) IN (${unsafeRaw(enumList(t.values))}))`,
      typeReason.enum,
    )
  } else if (t.kind !== 'string') {
    add(sql`${v} IS NOT NULL AND ${parsed} IS NULL`, typeReason[t.kind])
  }
  if (t.kind === 'money') {
    add(
      sql`${parsed} IS NOT NULL AND TRY_CAST(${v} AS DECIMAL(38,10)) <> ${parsed}`,
      'has more than 4 decimals',
    )
  }
  if (field.nonNegative) add(sql`${parsed} < 0`, 'must not be negative')
  if (field.range) {
    const [lo, hi] = field.range
    add(sql`${parsed} < ${lo} OR ${parsed} > ${hi}`, `must be between ${lo} and ${hi}`)
  }
  return checks
}

function enumList(values: readonly string[]): string {
  for (const v of values) {
    if (!/^[a-z0-9_]+$/.test(v))
      throw new Error(`enum value ${JSON.stringify(v)} is not a plain word`)
  }
  return values.map((v) => `'${v}'`).join(', ')
}
