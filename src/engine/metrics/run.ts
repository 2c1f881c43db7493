/**
 * Reading metrics: a request (metric ids, period range, grain, dimensions, member filter) in, typed series out.
 * Trend forms of any metric — change against the previous period (环比, `:pop`), against the same period a year
 * earlier (同比, `:yoy`) and a rolling average (`:avgN`) — are derived from the metric's own series, read over a
 * range extended backwards as far as they need. The event-aligned 同比 (`:yoy_event`) reads, per period, the
 * window a year back in the same position relative to the nearest calendar event (`event-alignment.ts`).
 * @module
 */
import { nearest } from '../../core/did-you-mean.js'
import { InputError } from '../../core/errors.js'
import { tableExists, type Driver } from '../drivers/driver.js'
import { GRAINS, type Grain } from '../dialects/dialect.js'
import { ident, sql, type Fragment } from '../sql/fragment.js'
import { CATALOG, metricMeasures, type MetricDef } from './catalog.js'
import { metricColumn, buildMetricsQuery } from './compiler.js'
import { timestampParam } from '../cohorts/time-sql.js'
import { DEFAULT_SETTINGS, dimColumn, type CompileContext, type MetricSettings } from './context.js'
import {
  memberFilter,
  parseCondition,
  parseDimension,
  type Dimension,
  type MemberCondition,
} from './dimensions.js'
import { monthRollupServes, rollupIsCurrent } from './rollups.js'
import { SOURCE_REQUIRES } from './sources.js'
import {
  alignPeriod,
  checkAlignmentOptions,
  type EventAlignment,
  type EventAlignmentOptions,
} from './event-alignment.js'

export interface MetricRequest {
  /**
   * Metric ids, optionally with a trend suffix: `net_revenue`, `net_revenue:pop`, `net_revenue:yoy`,
   * `net_revenue:yoy_event`, `net_revenue:avg3`.
   */
  readonly metrics: readonly string[]
  /** First period: any date inside it (YYYY-MM-DD, or YYYY-MM for months). */
  readonly from: string
  /** Last period (inclusive): any date inside it. */
  readonly to: string
  readonly grain?: Grain
  readonly by?: readonly string[]
  /** Member conditions such as `region=上海` or `registration_channel in app|web`. */
  readonly where?: readonly (string | MemberCondition)[]
  /** IANA zone in which days and months are counted (default UTC). */
  readonly timezone?: string
  readonly settings?: Partial<MetricSettings>
  /** Extra metric definitions (a user's custom metrics). */
  readonly extraMetrics?: readonly MetricDef[]
  /** The calendar `:yoy_event` aligns periods on (required when a metric has that suffix). */
  readonly alignment?: EventAlignmentOptions
  /**
   * `auto` (the default): read activity, engagement and retention from the member × day rollup when it is
   * current and keyed by the request's zone (`rollups.ts`); `off`: always from the raw tables.
   */
  readonly rollups?: RollupUse
}

/** Whether a metric query may read the member × day rollup. */
export type RollupUse = 'auto' | 'off'

export type Trend =
  | { readonly kind: 'pop' }
  | { readonly kind: 'yoy' }
  | { readonly kind: 'yoy_event' }
  | { readonly kind: 'avg'; readonly n: number }

export interface MetricColumnInfo {
  /** As requested, e.g. `net_revenue:pop`. */
  readonly key: string
  readonly metric: MetricDef
  readonly trend?: Trend
}

export interface MetricRow {
  /** First day of the period (YYYY-MM-DD). */
  readonly period: string
  /** Human label: 2026-10, 2026-W43, 2026-Q4, 2026, 2026-10-05. */
  readonly label: string
  readonly dims: Readonly<Record<string, string | null>>
  readonly values: Readonly<Record<string, number | null>>
  /** For each `:yoy_event` column: the event the period was aligned on and the window compared. */
  readonly alignments?: Readonly<Record<string, EventAlignment>>
}

export interface MetricResult {
  readonly grain: Grain
  readonly from: string
  readonly to: string
  readonly by: readonly string[]
  readonly columns: readonly MetricColumnInfo[]
  readonly rows: readonly MetricRow[]
}

/** Finds a metric by id in the catalog (and extra definitions); throws listing the ids when unknown. */
export function getMetric(id: string, extra: readonly MetricDef[] = []): MetricDef {
  const all = [...extra, ...CATALOG]
  const m = all.find((x) => x.id === id)
  if (!m) {
    const ids = all.map((x) => x.id)
    const guess = nearest(id, ids)
    throw InputError.single({
      field: 'metric',
      value: id,
      reason: guess === undefined ? 'unknown metric' : `unknown metric; did you mean ${guess}?`,
      allowed: ids,
    })
  }
  return m
}

/** Parses `id[:pop|:yoy|:yoy_event|:avgN]`. */
export function parseMetricKey(key: string, extra: readonly MetricDef[] = []): MetricColumnInfo {
  const [id, suffix] = key.split(':') as [string, string | undefined]
  const metric = getMetric(id, extra)
  if (suffix === undefined) return { key, metric }
  if (suffix === 'pop' || suffix === 'yoy' || suffix === 'yoy_event')
    return { key, metric, trend: { kind: suffix } }
  const avg = /^avg(\d{1,3})$/.exec(suffix)
  if (avg && Number(avg[1]) >= 2) return { key, metric, trend: { kind: 'avg', n: Number(avg[1]) } }
  throw InputError.single({
    field: 'metric',
    value: key,
    reason:
      'trend suffixes: :pop (vs previous period), :yoy (vs last year), :yoy_event (vs last year, aligned on the nearest calendar event), :avgN (rolling mean of N periods)',
  })
}

/** Periods to look back for a trend at a grain. */
function lookback(trend: Trend | undefined, grain: Grain): number {
  if (trend === undefined) return 0
  if (trend.kind === 'pop') return 1
  if (trend.kind === 'avg') return trend.n - 1
  // :yoy_event falls back to the calendar :yoy where no event is near.
  return YEAR_LAG[grain]
}

/** Same period last year: 52 weeks for weeks, 364 days for days (same weekday), else one calendar year. */
export const YEAR_LAG: Readonly<Record<Grain, number>> = {
  day: 364,
  week: 52,
  month: 12,
  quarter: 4,
  year: 1,
}

/** Runs a metric request. */
export async function runMetrics(driver: Driver, request: MetricRequest): Promise<MetricResult> {
  const grain = request.grain ?? 'month'
  if (!(GRAINS as readonly string[]).includes(grain)) {
    throw InputError.single({
      field: 'grain',
      value: grain,
      reason: `one of ${GRAINS.join(', ')}`,
      allowed: GRAINS,
    })
  }
  const columns = request.metrics.map((k) => parseMetricKey(k, request.extraMetrics))
  if (columns.length === 0)
    throw InputError.single({ field: 'metric', reason: 'name at least one metric' })
  const first = periodStart(parseDay(request.from, 'from'), grain)
  const aligned = columns.filter((c) => c.trend?.kind === 'yoy_event')
  if (aligned.length > 0) {
    if (request.alignment === undefined)
      throw InputError.single({
        field: 'metric',
        value: aligned[0]?.key,
        reason: ':yoy_event needs the retail calendar to align periods on',
      })
    checkAlignmentOptions(request.alignment, Number(first.slice(0, 4)))
  }
  const lastP = periodStart(parseDay(request.to, 'to'), grain)
  if (lastP < first)
    throw InputError.single({
      field: 'to',
      value: request.to,
      reason: `is before the start of the range (${request.from})`,
    })
  const back = Math.max(0, ...columns.map((c) => lookback(c.trend, grain)))
  const queryFirst = addPeriods(first, grain, -back)

  const timezone = request.timezone ?? 'UTC'
  const tz = await driver.first(driver.dialect.knownTimezone(timezone))
  if (!tz)
    throw InputError.single({ field: 'timezone', value: timezone, reason: 'unknown time zone' })
  const dialect = driver.dialect
  const conditions = (request.where ?? []).map((w) =>
    typeof w === 'string' ? parseCondition(w) : w,
  )
  const span = await dataSpan(driver, timezone)
  // Snapshot dimensions (lifecycle stage, RFM segment) are taken at the end of the requested range, or at
  // the end of the data when the range runs past it: a snapshot after the data would age every member.
  const rangeEnd = addPeriods(lastP, grain, 1)
  const dataEnd = span === undefined ? rangeEnd : addPeriods(span.last, 'day', 1)
  const dimOptions = { asOf: dataEnd < rangeEnd ? dataEnd : rangeEnd }
  const filter = memberFilter(dialect, conditions, dimOptions)
  const dims = (request.by ?? []).map((b) => parseDimension(dialect, b, dimOptions))
  const used = [...dims, ...conditions.map((c) => parseDimension(dialect, c.dimension, dimOptions))]
  await checkTables(driver, columns, used)
  const settings = { ...DEFAULT_SETTINGS, ...request.settings }
  const rollups = request.rollups !== 'off' && (await rollupIsCurrent(driver, timezone))
  const monthRollup = rollups && (await monthRollupServes(driver, settings))
  const ctx: CompileContext = {
    dialect,
    grain,
    lo: timestampParam(queryFirst),
    last: timestampParam(lastP),
    hi: timestampParam(addPeriods(lastP, grain, 1)),
    dims,
    ...(filter === undefined ? {} : { memberFilter: filter }),
    timezone,
    settings,
    dimensionCtes: dimensionCtes(used),
    rollups,
    monthRollup,
    loyaltyLedger: await campaignsNeedLedger(driver, columns),
  }
  const metrics = uniqueBy(
    columns.map((c) => c.metric),
    (m) => m.id,
  )
  const rows = await driver.all(buildMetricsQuery(ctx, metrics))
  // A period wholly before the first record or after the last one has no data: its values are null, not 0.
  const covered = (period: string) =>
    span !== undefined && addPeriods(period, grain, 1) > span.first && period <= span.last

  // Series per metric and dimension combination, keyed by period start.
  const by = request.by ?? []
  const keyOf = (r: Record<string, unknown>) =>
    by.map((_, i) => String(r[dimColumn(i)] ?? '\u0000')).join('\u0001')
  const series = new Map<string, Map<string, Map<string, number | null>>>()
  for (const r of rows) {
    const period = toDay(r['period'])
    const k = keyOf(r)
    metrics.forEach((m, i) => {
      const v = r[metricColumn(i)]
      const perMetric = series.get(m.id) ?? new Map<string, Map<string, number | null>>()
      series.set(m.id, perMetric)
      const perKey = perMetric.get(k) ?? new Map<string, number | null>()
      perMetric.set(k, perKey)
      perKey.set(period, v === null || v === undefined || !covered(period) ? null : Number(v))
    })
  }
  const eventAligned =
    aligned.length === 0 || request.alignment === undefined
      ? undefined
      : await readAligned(driver, ctx, request.alignment, {
          first,
          last: lastP,
          metrics: uniqueBy(
            aligned.map((c) => c.metric),
            (m) => m.id,
          ),
          span,
          keyOf,
        })
  const out: MetricRow[] = []
  for (const r of rows) {
    const period = toDay(r['period'])
    if (period < first) continue
    const k = keyOf(r)
    const dims: Record<string, string | null> = {}
    by.forEach((b, i) => {
      const v = r[dimColumn(i)]
      dims[b] = v === null || v === undefined ? null : String(v)
    })
    const values: Record<string, number | null> = {}
    const alignments: Record<string, EventAlignment> = {}
    for (const c of columns) {
      const s = series.get(c.metric.id)?.get(k) ?? new Map<string, number | null>()
      const a = c.trend?.kind === 'yoy_event' ? eventAligned?.alignments.get(period) : undefined
      if (a === undefined || a.event === null) {
        const calendar = c.trend?.kind === 'yoy_event' ? ({ kind: 'yoy' } as const) : c.trend
        values[c.key] = trendValue(s, period, grain, calendar)
      } else {
        const v = s.get(period) ?? null
        const before = eventAligned?.values.get(c.metric.id)?.get(k)?.get(period) ?? null
        values[c.key] = v === null || before === null || before === 0 ? null : v / before - 1
      }
      if (a !== undefined) alignments[c.key] = a
    }
    out.push({
      period,
      label: periodLabel(period, grain),
      dims,
      values,
      ...(aligned.length === 0 ? {} : { alignments }),
    })
  }
  return { grain, from: first, to: lastP, by, columns, rows: out }
}

/**
 * `:yoy_event`: the alignment of every period from `first` to `last`, and the metrics' values over the windows
 * compared (by metric, dimension key and period), read with one query per distinct shift. A window wholly
 * outside the data is null.
 */
async function readAligned(
  driver: Driver,
  ctx: CompileContext,
  options: EventAlignmentOptions,
  range: {
    readonly first: string
    readonly last: string
    readonly metrics: readonly MetricDef[]
    readonly span: { readonly first: string; readonly last: string } | undefined
    readonly keyOf: (r: Record<string, unknown>) => string
  },
): Promise<{
  alignments: Map<string, EventAlignment>
  values: Map<string, Map<string, Map<string, number | null>>>
}> {
  const grain = ctx.grain
  const alignments = new Map<string, EventAlignment>()
  const byShift = new Map<number, string[]>()
  for (let p = range.first; p <= range.last; p = addPeriods(p, grain, 1)) {
    const end = addPeriods(addPeriods(p, grain, 1), 'day', -1)
    const yoy = addPeriods(p, grain, -YEAR_LAG[grain])
    const calendar = { from: yoy, to: addPeriods(addPeriods(yoy, grain, 1), 'day', -1) }
    const a = alignPeriod(p, end, grain, calendar, options)
    alignments.set(p, a)
    if (a.event !== null) byShift.set(a.daysBack, [...(byShift.get(a.daysBack) ?? []), p])
  }
  const values = new Map<string, Map<string, Map<string, number | null>>>()
  for (const [back, periods] of byShift) {
    const lo = periods[0] ?? range.first
    const hi = periods.at(-1) ?? range.last
    const shiftedCtx: CompileContext = {
      ...ctx,
      lo: sql`CAST(${lo} AS TIMESTAMP)`,
      last: sql`CAST(${hi} AS TIMESTAMP)`,
      hi: sql`CAST(${addPeriods(hi, grain, 1)} AS TIMESTAMP)`,
      shiftDays: back,
    }
    const wanted = new Set(periods)
    const rows = await driver.all(buildMetricsQuery(shiftedCtx, range.metrics))
    for (const r of rows) {
      const period = toDay(r['period'])
      if (!wanted.has(period)) continue
      const against = alignments.get(period)?.against
      const covered =
        range.span !== undefined &&
        against !== undefined &&
        against.to >= range.span.first &&
        against.from <= range.span.last
      const k = range.keyOf(r)
      range.metrics.forEach((m, i) => {
        const v = r[metricColumn(i)]
        const perMetric = values.get(m.id) ?? new Map<string, Map<string, number | null>>()
        values.set(m.id, perMetric)
        const perKey = perMetric.get(k) ?? new Map<string, number | null>()
        perMetric.set(k, perKey)
        perKey.set(period, v === null || v === undefined || !covered ? null : Number(v))
      })
    }
  }
  return { alignments, values }
}

/** The common table expressions of the dimensions, each once. */
function dimensionCtes(dims: readonly Dimension[]) {
  const seen = new Map<string, ReturnType<typeof sql>>()
  for (const d of dims)
    for (const c of d.ctes ?? [])
      if (!seen.has(c.name)) seen.set(c.name, sql`${ident(c.name)} AS (${c.query})`)
  return [...seen.values()]
}

/**
 * True when a campaign metric is asked for and the loyalty ledger is synced: its cost then counts the campaign's
 * bonus points (the tables are looked up only for campaign metrics).
 */
async function campaignsNeedLedger(
  driver: Driver,
  columns: readonly MetricColumnInfo[],
): Promise<boolean> {
  const campaigns = columns.some((c) =>
    metricMeasures(c.metric).some((m) => m.sources.includes('campaign_units')),
  )
  return (
    campaigns &&
    (await tableExists(driver, 'loyalty_entries')) &&
    (await tableExists(driver, 'loyalty_sync_state'))
  )
}

/** Refuses, with the command to run, a request whose metrics or dimensions read tables that do not exist. */
async function checkTables(
  driver: Driver,
  columns: readonly MetricColumnInfo[],
  dims: readonly Dimension[],
): Promise<void> {
  const needs = new Map<string, string>()
  for (const c of columns)
    for (const m of metricMeasures(c.metric))
      for (const s of m.sources) {
        const r = SOURCE_REQUIRES[s]
        if (r) needs.set(r.table, `${c.metric.id}: ${r.hint}`)
      }
  for (const d of dims) if (d.requires) needs.set(d.requires.table, `${d.id}: ${d.requires.hint}`)
  for (const [table, hint] of needs) {
    if (!(await tableExists(driver, table)))
      throw InputError.single({ field: 'metric', value: table, reason: hint })
  }
}

function trendValue(
  s: ReadonlyMap<string, number | null>,
  period: string,
  grain: Grain,
  trend: Trend | undefined,
): number | null {
  const at = (p: string) => s.get(p) ?? null
  const v = at(period)
  if (trend === undefined) return v
  if (trend.kind === 'avg') {
    const xs: number[] = []
    for (let i = 0; i < trend.n; i++) {
      const x = at(addPeriods(period, grain, -i))
      if (x === null) return null
      xs.push(x)
    }
    return xs.reduce((a, b) => a + b, 0) / xs.length
  }
  const before = at(addPeriods(period, grain, trend.kind === 'pop' ? -1 : -YEAR_LAG[grain]))
  if (v === null || before === null || before === 0) return null
  return v / before - 1
}

function uniqueBy<T>(xs: readonly T[], key: (x: T) => string): T[] {
  const seen = new Set<string>()
  return xs.filter((x) => (seen.has(key(x)) ? false : (seen.add(key(x)), true)))
}

// Calendar arithmetic on YYYY-MM-DD strings (UTC dates; periods are dates, so no zone applies here).

/** A date as YYYY-MM-DD from YYYY, YYYY-MM or YYYY-MM-DD; throws naming `field` when it is not a real date. */
export function parseDay(text: string, field: string): string {
  const t = /^\d{4}-\d{2}$/.test(text)
    ? `${text}-01`
    : /^\d{4}$/.test(text)
      ? `${text}-01-01`
      : text
  const d = new Date(`${t}T00:00:00Z`)
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(t) ||
    Number.isNaN(d.getTime()) ||
    d.toISOString().slice(0, 10) !== t
  ) {
    throw InputError.single({
      field,
      value: text,
      reason: 'expected a date YYYY-MM-DD (or YYYY-MM, YYYY)',
    })
  }
  return t
}

function toDay(v: unknown): string {
  return String(v).slice(0, 10)
}

export function periodStart(day: string, grain: Grain): string {
  const d = new Date(`${day}T00:00:00Z`)
  switch (grain) {
    case 'day':
      break
    case 'week':
      // ISO weeks start on Monday.
      d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7))
      break
    case 'month':
      d.setUTCDate(1)
      break
    case 'quarter':
      d.setUTCMonth(Math.floor(d.getUTCMonth() / 3) * 3, 1)
      break
    case 'year':
      d.setUTCMonth(0, 1)
      break
  }
  return d.toISOString().slice(0, 10)
}

export function addPeriods(day: string, grain: Grain, n: number): string {
  const d = new Date(`${day}T00:00:00Z`)
  switch (grain) {
    case 'day':
      d.setUTCDate(d.getUTCDate() + n)
      break
    case 'week':
      d.setUTCDate(d.getUTCDate() + 7 * n)
      break
    case 'month':
      d.setUTCMonth(d.getUTCMonth() + n)
      break
    case 'quarter':
      d.setUTCMonth(d.getUTCMonth() + 3 * n)
      break
    case 'year':
      d.setUTCFullYear(d.getUTCFullYear() + n)
      break
  }
  return d.toISOString().slice(0, 10)
}

export function periodLabel(day: string, grain: Grain): string {
  switch (grain) {
    case 'day':
      return day
    case 'month':
      return day.slice(0, 7)
    case 'quarter':
      return `${day.slice(0, 4)}-Q${Math.floor(Number(day.slice(5, 7)) / 3) + 1}`
    case 'year':
      return day.slice(0, 4)
    case 'week': {
      // ISO week number: the week with the year's first Thursday is week 1.
      const d = new Date(`${day}T00:00:00Z`)
      const thursday = new Date(d)
      thursday.setUTCDate(d.getUTCDate() + 3)
      const yearStart = new Date(Date.UTC(thursday.getUTCFullYear(), 0, 1))
      const week = Math.floor((thursday.getTime() - yearStart.getTime()) / 86_400_000 / 7) + 1
      return `${thursday.getUTCFullYear()}-W${String(week).padStart(2, '0')}`
    }
    default: {
      const _exhaustive: never = grain
      return String(_exhaustive)
    }
  }
}

/**
 * The first and last day (YYYY-MM-DD, in `timezone`) of the data: registrations, orders and events. Undefined
 * for a database that holds none.
 */
export async function dataSpan(
  driver: Driver,
  timezone = 'UTC',
): Promise<{ readonly first: string; readonly last: string } | undefined> {
  const d = driver.dialect
  const day = (t: Fragment) => d.dateText(d.localTime(t, timezone), 'day')
  const r = await driver.first<{ first: string | null; last: string | null }>(
    sql`SELECT ${day(sql`min(lo)`)} AS first, ${day(sql`max(hi)`)} AS last FROM (
      SELECT min(registered_at) AS lo, max(registered_at) AS hi FROM members
      UNION ALL SELECT min(ordered_at), max(ordered_at) FROM orders
      UNION ALL SELECT min(ts), max(ts) FROM events)`,
  )
  if (!r?.first || !r.last) return undefined
  return { first: r.first, last: r.last }
}

/**
 * The last period of the data that is complete: the period of the latest order or event if that day closes it,
 * else the one before. Undefined when there is no activity.
 */
export async function lastCompletePeriod(
  driver: Driver,
  grain: Grain,
  timezone = 'UTC',
): Promise<string | undefined> {
  const d = driver.dialect
  const r = await driver.first<{
    day: string | null
  }>(sql`SELECT ${d.dateText(d.localTime(sql`max(t)`, timezone), 'day')} AS day FROM (
    SELECT max(ordered_at) AS t FROM orders UNION ALL SELECT max(ts) FROM events)`)
  if (!r?.day) return undefined
  const start = periodStart(r.day, grain)
  return addPeriods(addPeriods(start, grain, 1), 'day', -1) === r.day
    ? start
    : addPeriods(start, grain, -1)
}
