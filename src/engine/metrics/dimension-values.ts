/**
 * The values a dimension takes in the data, with how many members have each: what a filter or a split can
 * choose from (a region as stored, 浙江; a registration channel; a tier), so that a person picks a value
 * instead of typing one the data may not hold.
 * @module
 */
import { tableExists, type Driver } from '../drivers/driver.js'
import { ident, join, sql, type Fragment } from '../sql/fragment.js'
import { findDefaultAsOf } from '../lifecycle/default-as-of.js'
import { parseDimension, type Dimension, type SourceId } from './dimensions.js'

/** The tables row dimensions read their values from (the fact sources are built over them). */
const ROW_TABLES: Partial<Record<SourceId, string>> = {
  purchases: 'orders',
  events: 'events',
  sessions: 'events',
  coupons_issued: 'coupons',
  campaign_units: 'touches',
}

/** Dimensions taken at an instant (DimensionOptions.asOf): a stage or segment needs a day to be read at. */
const TAKEN_AT_AN_INSTANT = new Set(['lifecycle_stage', 'rfm_segment'])

export interface DimensionValue {
  readonly value: string
  /** Members with the value (for a row dimension: members with a row that has it). */
  readonly members: number
}

export interface DimensionValues {
  readonly dimension: string
  readonly kind: Dimension['kind']
  /** The instant snapshot dimensions were taken at (lifecycle stage, RFM segment). */
  readonly asOf?: string
  /** Most members first; empty values are left out (a filter cannot choose them). */
  readonly values: readonly DimensionValue[]
  /** Why there are no values although the dimension exists (a table not filled yet), with the command to run. */
  readonly note?: string
}

export interface DimensionValuesOptions {
  /** The day (exclusive) snapshot dimensions are taken at; default: the day after the data's last activity. */
  readonly asOf?: string
  /** At most this many values, most members first (default 1000). */
  readonly limit?: number
}

/**
 * Every value of dimension `id` (as `by` and `where` name it: `region`, `tier`, `attribute:vip`, …) with its
 * members. An unknown dimension is an InputError naming the nearest and the allowed ones.
 */
export async function dimensionValues(
  driver: Driver,
  id: string,
  options: DimensionValuesOptions = {},
): Promise<DimensionValues> {
  const asOf = options.asOf ?? (await findDefaultAsOf(driver))
  // Without activity there is no day to take a stage or segment at, and no member has one yet.
  if (asOf === undefined && TAKEN_AT_AN_INSTANT.has(id))
    return { dimension: id, kind: 'member', values: [] }
  const dim = parseDimension(driver.dialect, id, asOf === undefined ? {} : { asOf })
  const at = TAKEN_AT_AN_INSTANT.has(id) && asOf !== undefined ? { asOf } : {}
  if (dim.requires !== undefined && !(await tableExists(driver, dim.requires.table)))
    return { dimension: id, kind: dim.kind, ...at, values: [], note: dim.requires.hint }
  const limit = options.limit ?? 1000
  const rows = await driver.all<{ v: unknown; members: unknown }>(valuesQuery(dim, limit))
  return {
    dimension: id,
    kind: dim.kind,
    ...at,
    values: rows.map((r) => ({ value: String(r.v), members: Number(r.members) })),
  }
}

function valuesQuery(dim: Dimension, limit: number): Fragment {
  const ctes = (dim.ctes ?? []).map((c) => sql`${ident(c.name)} AS (${c.query})`)
  const withCtes = ctes.length === 0 ? sql`` : sql`WITH ${join(ctes, ',\n')} `
  let from: Fragment
  if (dim.kind === 'member') {
    from = sql`SELECT ${dim.expr('registrations', 's', 'm')} AS v, m.member_id FROM members m`
  } else {
    const source = (dim.sources ?? []).find((s) => ROW_TABLES[s] !== undefined)
    const table = source === undefined ? undefined : ROW_TABLES[source]
    if (source === undefined || table === undefined)
      throw new Error(`dimension ${dim.id} reads no table with values`)
    from = sql`SELECT ${dim.expr(source, 's', 'm')} AS v, s.member_id FROM ${ident(table)} s`
  }
  return sql`${withCtes}SELECT v, count(DISTINCT member_id) AS members FROM (${from}) x
    WHERE v IS NOT NULL AND v <> ''
    GROUP BY v ORDER BY members DESC, v LIMIT ${limit}`
}
