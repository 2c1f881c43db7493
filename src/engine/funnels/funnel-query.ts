/**
 * Funnel conversion in SQL. Each member enters at their first step-1 event in [from, to); step k is the
 * member's first matching event at or after step k − 1 (strictly after when both steps are the same
 * definition, so one event never counts twice) and within `windowDays` of the entry. Members who re-enter
 * the funnel later are counted once, from their first entry (as Amplitude's "first entry" default).
 *
 * Property filters and medians go through the dialect (`jsonText`, `median`): DuckDB's `json_extract_string`
 * and `median`, ClickHouse's `JSONExtract…` and exact `quantileExactInclusive(0.5)`.
 * @module
 */
import type { SqlDialect } from '../dialects/dialect.js'
import type { Driver } from '../drivers/driver.js'
import { join, sql, unsafeRaw, type Fragment } from '../sql/fragment.js'
import { dimensionSubquery } from '../cohorts/dimension.js'
import { daysBetween, normaliseInstant, timestampParam } from '../cohorts/time-sql.js'
import {
  funnelSpecSchema,
  type FunnelSpec,
  type FunnelSpecInput,
  type FunnelStep,
} from './funnel-spec.js'

function stepFilter(dialect: SqlDialect, alias: string, step: FunnelStep): Fragment {
  const e = (col: string) => sql`${unsafeAlias(alias)}.${unsafeAlias(col)}`
  const parts: Fragment[] = [sql`${e('event_type')} = ${step.eventType}`]
  for (const [key, value] of Object.entries(step.where ?? {})) {
    parts.push(sql`${dialect.jsonText(e('properties'), key)} = ${String(value)}`)
  }
  return join(parts, ' AND ')
}

/**
 * Aliases and column names built in this module from fixed literals and step numbers (`s3`, `members_3`),
 * never from user input; checked against that closed pattern before they become text.
 */
function unsafeAlias(name: string): Fragment {
  if (!/^(e|p|properties|event_type|s\d{1,2}|members_\d{1,2}|median_seconds_\d{1,2})$/.test(name)) {
    throw new Error(`bad alias ${name}`)
  }
  return unsafeRaw(name)
}

const sameStep = (a: FunnelStep, b: FunnelStep) =>
  JSON.stringify(a.eventType) + JSON.stringify(a.where ?? {}) ===
  JSON.stringify(b.eventType) + JSON.stringify(b.where ?? {})

/**
 * `(dim, members_1 … members_n, median_seconds_2 … median_seconds_n)`: members reaching each step and the
 * median time from the previous step among those reaching it.
 */
export function buildFunnelQuery(spec: FunnelSpec, dialect: SqlDialect): Fragment {
  const from = timestampParam(normaliseInstant(spec.from))
  const to = timestampParam(normaliseInstant(spec.to))
  const ctes: Fragment[] = [
    sql`s1 AS (SELECT e.member_id, min(e.ts) AS t, min(e.ts) AS t0 FROM events e
      WHERE ${stepFilter(dialect, 'e', spec.steps[0] as FunnelStep)} AND e.ts >= ${from} AND e.ts < ${to} GROUP BY e.member_id)`,
  ]
  for (let k = 1; k < spec.steps.length; k++) {
    const step = spec.steps[k] as FunnelStep
    const prev = unsafeAlias(`s${k}`)
    const cmp = sameStep(step, spec.steps[k - 1] as FunnelStep) ? sql`>` : sql`>=`
    ctes.push(sql`${unsafeAlias(`s${k + 1}`)} AS (SELECT p.member_id, min(e.ts) AS t, p.t0 FROM ${prev} p
      JOIN events e ON e.member_id = p.member_id AND ${stepFilter(dialect, 'e', step)} AND e.ts ${cmp} p.t
        AND ${daysBetween(sql`p.t0`, sql`e.ts`)} <= ${spec.windowDays}
      GROUP BY p.member_id, p.t0)`)
  }
  const counts = spec.steps.map(
    (_, i) => sql`count(${unsafeAlias(`s${i + 1}`)}.t) AS ${unsafeAlias(`members_${i + 1}`)}`,
  )
  const medians = spec.steps
    .slice(1)
    .map(
      (_, i) =>
        sql`${dialect.median(sql`date_diff('second', ${unsafeAlias(`s${i + 1}`)}.t, ${unsafeAlias(`s${i + 2}`)}.t)`)} AS ${unsafeAlias(`median_seconds_${i + 2}`)}`,
    )
  const joins = spec.steps
    .slice(1)
    .map(
      (_, i) =>
        sql`LEFT JOIN ${unsafeAlias(`s${i + 2}`)} ON ${unsafeAlias(`s${i + 2}`)}.member_id = s1.member_id`,
    )
  return sql`WITH ${join(ctes, ',\n')}
    SELECT d.dim, ${join([...counts, ...medians])}
    FROM s1 ${join(joins, ' ')} LEFT JOIN (${dimensionSubquery(dialect, spec.dimension)}) d ON d.member_id = s1.member_id
    GROUP BY d.dim ORDER BY d.dim`
}

export interface FunnelStepResult {
  readonly step: number
  readonly label: string
  readonly members: number
  /** members / members at the previous step (1 for the first step; null when the previous step is empty). */
  readonly stepConversion: number | null
  /** members / members at step 1. */
  readonly overallConversion: number | null
  /** Members lost since the previous step. */
  readonly dropOff: number
  /** Median seconds from the previous step, among members reaching this one. */
  readonly medianSecondsFromPrevious: number | null
}

export interface FunnelResult {
  readonly dimension: string | null
  readonly steps: readonly FunnelStepResult[]
}

/** Runs a funnel; one result per dimension value (a single one without a dimension). */
export async function getFunnel(driver: Driver, input: FunnelSpecInput): Promise<FunnelResult[]> {
  const spec = funnelSpecSchema.parse(input)
  const rows = await driver.all(buildFunnelQuery(spec, driver.dialect))
  return rows.map((row) => {
    const members = spec.steps.map((_, i) => Number(row[`members${i + 1}`] ?? 0))
    const first = members[0] ?? 0
    return {
      dimension: (row['dim'] as string | null) ?? null,
      steps: spec.steps.map((s, i) => {
        const n = members[i] ?? 0
        const prev = i === 0 ? n : (members[i - 1] ?? 0)
        const med = i === 0 ? null : row[`medianSeconds${i + 1}`]
        return {
          step: i + 1,
          label: s.label ?? s.eventType,
          members: n,
          stepConversion: prev > 0 ? n / prev : null,
          overallConversion: first > 0 ? n / first : null,
          dropOff: prev - n,
          medianSecondsFromPrevious: med === null || med === undefined ? null : Number(med),
        }
      }),
    }
  })
}
