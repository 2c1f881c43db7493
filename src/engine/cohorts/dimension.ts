/**
 * Member dimensions for splitting cohorts, survival curves and funnels: a closed set of member columns,
 * an experiment's variant, the channel of the first purchase, or one key of the `attributes` JSON.
 *
 * The attribute form reads the JSON member through the dialect (`jsonText`).
 * @module
 */
import { z } from 'zod'
import type { SqlDialect } from '../dialects/dialect.js'
import { ident, sql, type Fragment } from '../sql/fragment.js'

export const MEMBER_DIMENSION_COLUMNS = [
  'registration_channel',
  'region',
  'city',
  'gender',
] as const

const KEY_RE = /^[A-Za-z0-9_.-]{1,100}$/

/**
 * `registration_channel`, `region`, `city`, `gender`, `first_order_channel`, `experiment:<id>` or
 * `attribute:<key>`.
 */
export const dimensionSchema = z
  .string()
  .refine(
    (s) =>
      (MEMBER_DIMENSION_COLUMNS as readonly string[]).includes(s) ||
      s === 'first_order_channel' ||
      (s.startsWith('experiment:') && s.length > 11 && s.length < 200) ||
      (s.startsWith('attribute:') && KEY_RE.test(s.slice(10))),
    {
      message: `expected one of ${MEMBER_DIMENSION_COLUMNS.join(', ')}, first_order_channel, experiment:<id>, attribute:<key>`,
    },
  )
export type Dimension = z.infer<typeof dimensionSchema>

/**
 * A subquery `(member_id, dim)` with one row per member (dim NULL when unknown), to LEFT JOIN on member_id.
 * Without a dimension every member has the same NULL value, so callers can always group by `dim`.
 */
export function dimensionSubquery(dialect: SqlDialect, dimension: Dimension | undefined): Fragment {
  if (dimension === undefined)
    return sql`SELECT member_id, CAST(NULL AS VARCHAR) AS dim FROM members`
  const column = (MEMBER_DIMENSION_COLUMNS as readonly string[]).find((c) => c === dimension)
  if (column !== undefined) {
    return sql`SELECT member_id, CAST(${ident(column)} AS VARCHAR) AS dim FROM members`
  }
  if (dimension === 'first_order_channel') {
    // The channel of the earliest purchase; ties on time broken by order_id so the answer is stable.
    return sql`SELECT member_id, channel AS dim FROM (
      SELECT member_id, channel, row_number() OVER (PARTITION BY member_id ORDER BY ordered_at, order_id) AS rn
      FROM orders WHERE status <> 'cancelled'
    ) WHERE rn = 1`
  }
  if (dimension.startsWith('experiment:')) {
    const id = dimension.slice('experiment:'.length)
    return sql`SELECT member_id, min(variant) AS dim FROM experiments WHERE experiment_id = ${id} GROUP BY member_id`
  }
  if (dimension.startsWith('attribute:')) {
    const key = dimension.slice('attribute:'.length)
    if (!KEY_RE.test(key)) throw new Error(`invalid attribute key ${JSON.stringify(key)}`)
    return sql`SELECT member_id, ${dialect.jsonText(sql`attributes`, key)} AS dim FROM members`
  }
  throw new Error(`unknown dimension ${JSON.stringify(dimension)}`)
}
