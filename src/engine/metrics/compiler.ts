/**
 * Compiles metrics into one query: the sources they read, one aggregate per measure, the grid of every
 * period × dimension value (so that empty periods and values show as 0 or empty, never vanish), and each
 * metric's value computed from its measures per group.
 * @module
 */
import { InputError } from '../../core/errors.js'
import { ident, join, sql, type Fragment } from '../sql/fragment.js'
import { allowedDimensions, metricMeasures, type MetricDef } from './catalog.js'
import { dimColumn, dimRefs, type CompileContext } from './context.js'
import type { SourceId } from './dimensions.js'
import type { Measure, SharedTable } from './measures.js'
import { sourceCtes } from './sources.js'

/** Checks that every metric can be read at the grain, by the dimensions and with the filter of the context. */
export function checkMetrics(ctx: CompileContext, metrics: readonly MetricDef[]): void {
  for (const m of metrics) {
    if (m.grains && !m.grains.includes(ctx.grain)) {
      throw InputError.single({
        field: 'grain',
        value: ctx.grain,
        reason: `${m.id} is read at grain ${m.grains.join(', ')}`,
      })
    }
    const allowed = allowedDimensions(m)
    for (const d of ctx.dims) {
      const ok =
        allowed.includes(d.id) ||
        (d.id.startsWith('attribute:') && allowed.includes('attribute:<key>')) ||
        (d.id.startsWith('experiment:') && allowed.includes('experiment:<id>'))
      if (!ok) {
        throw InputError.single({
          field: 'dimension',
          value: d.id,
          reason: `${m.id} can be split by ${allowed.join(', ') || 'nothing'}`,
          allowed,
        })
      }
    }
    const measures = metricMeasures(m)
    if (ctx.memberFilter !== undefined && measures.some((x) => !x.memberBased)) {
      throw InputError.single({
        field: 'where',
        reason: `${m.id} includes spend or visitors, which have no members to filter`,
      })
    }
  }
}

/** The query for several metrics at once; columns: period, d0…dn, then one column per metric id. */
export function buildMetricsQuery(ctx: CompileContext, metrics: readonly MetricDef[]): Fragment {
  checkMetrics(ctx, metrics)
  const measures = new Map<string, Measure>()
  for (const m of metrics) for (const x of metricMeasures(m)) measures.set(x.id, x)
  const used = new Set<SourceId>()
  for (const m of measures.values()) for (const s of m.sources) used.add(s)
  for (const d of ctx.dims) if (d.kind === 'row') for (const s of d.sources ?? []) used.add(s)
  used.add('activity')

  const measureAlias = (id: string) => `m_${id}`
  const shared = new Map<string, SharedTable>()
  for (const m of measures.values()) for (const t of m.shared ?? []) shared.set(t.name, t)
  const ctes: Fragment[] = [
    ...sourceCtes(ctx, used),
    ...(ctx.dimensionCtes ?? []),
    ...[...shared.values()].map((t) => sql`${ident(t.name)} AS (${t.build(ctx)})`),
    ...[...measures.values()].map((m) => sql`${ident(measureAlias(m.id))} AS (${m.build(ctx)})`),
  ]

  // The grid: every period × every dimension value (member dimensions as the combinations members have).
  const memberDims = ctx.dims.map((d, i) => [d, i] as const).filter(([d]) => d.kind === 'member')
  const rowDims = ctx.dims.map((d, i) => [d, i] as const).filter(([d]) => d.kind === 'row')
  const parts: Fragment[] = [sql`(${ctx.dialect.periodSeries(ctx.grain, ctx.lo, ctx.last)}) sp`]
  if (memberDims.length > 0) {
    const where = ctx.memberFilter === undefined ? sql`` : sql` WHERE ${ctx.memberFilter}`
    parts.push(
      sql`(SELECT DISTINCT ${join(memberDims.map(([d, i]) => sql`${d.expr('registrations', 's', 'm')} AS ${ident(dimColumn(i))}`))} FROM members m${where}) md`,
    )
  }
  rowDims.forEach(([d, i]) => {
    parts.push(sql`(SELECT v AS ${ident(dimColumn(i))} FROM (${d.domain()}) x) ${ident(`rd${i}`)}`)
  })
  const gridCols = [sql`sp.period`, ...ctx.dims.map((_, i) => sql`${ident(dimColumn(i))}`)]
  ctes.push(sql`grid AS (SELECT ${join(gridCols)} FROM ${join(parts, ' CROSS JOIN ')})`)

  const onGrid = (a: string): Fragment =>
    join(
      [
        sql`${ident(a, 'period')} = g.period`,
        ...ctx.dims.map(
          (_, i) => sql`${ident(a, dimColumn(i))} IS NOT DISTINCT FROM ${ident('g', dimColumn(i))}`,
        ),
      ],
      ' AND ',
    )
  const ids = [...measures.keys()]
  // One join per SELECT where the engine allows no more (ClickHouse 18.x): the grid picks up one measure per
  // level, its value renamed `mv_<id>`; elsewhere the grid joins every measure at once.
  const nested = !ctx.dialect.supportsMultipleJoins
  let from: Fragment = sql`grid g ${join(
    ids.map((id) => sql`LEFT JOIN ${ident(measureAlias(id))} ON ${onGrid(measureAlias(id))}`),
    ' ',
  )}`
  if (nested) {
    const keep = [
      sql`g.period AS period`,
      ...ctx.dims.map((_, i) => sql`${ident('g', dimColumn(i))} AS ${ident(dimColumn(i))}`),
    ]
    from = sql`grid`
    ids.forEach((id, k) => {
      const carried = ids
        .slice(0, k)
        .map((p) => sql`${ident('g', `mv_${p}`)} AS ${ident(`mv_${p}`)}`)
      const a = measureAlias(id)
      from = sql`(SELECT ${join([...keep, ...carried, sql`${ident(a, 'v')} AS ${ident(`mv_${id}`)}`])}
        FROM ${from} g LEFT JOIN ${ident(a)} ON ${onGrid(a)})`
    })
    from = sql`${from} g`
  }
  const col = (id: string): Fragment => {
    const m = measures.get(id)
    if (m === undefined) throw new Error(`measure ${id} is not part of the query`)
    const v = nested ? sql`${ident('g', `mv_${id}`)}` : sql`${ident(measureAlias(id), 'v')}`
    return m.zeroWhenEmpty ? sql`coalesce(${v}, 0)` : v
  }
  const values = metrics.map((m, i) => {
    const value = m.value(col)
    const guarded = m.complete
      ? sql`CASE WHEN ${m.complete(ctx, sql`g.period`)} THEN ${value} END`
      : value
    return sql`${guarded} AS ${ident(metricColumn(i))}`
  })
  const order = [sql`g.period`, ...dimRefs(ctx, 'g')]
  return sql`WITH ${join(ctes, ',\n')}
    SELECT g.period${ctx.dims.length > 0 ? sql`, ${join(dimRefs(ctx, 'g'))}` : sql``}, ${join(values)}
    FROM ${from}
    ORDER BY ${join(order)}`
}

/** Column name of the i-th metric in the result. */
export function metricColumn(i: number): string {
  return `v${i}`
}
