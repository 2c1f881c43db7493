/**
 * Custom metrics from a config file (YAML or JSON), validated: counts of rows or members, sums and means of a
 * field, over one source with filters on its columns, and ratios of any two metrics. No code is needed.
 *
 * ```yaml
 * metrics:
 *   - id: app_buyers
 *     name: { en: App buyers, zh: App 购买会员数 }
 *     count_members: { source: purchases, where: { channel: [app, mini_program] } }
 *   - id: coupon_orders
 *     count: { source: purchases, where: { coupon_id: present } }
 *   - id: coupon_order_share
 *     ratio: { numerator: coupon_orders, denominator: orders }
 *     unit: ratio
 * ```
 * @module
 */
import { z } from 'zod'
import { ConfigError } from '../../core/errors.js'
import { ident, join, sql, type Fragment } from '../sql/fragment.js'
import { CATALOG, FAMILIES, metricMeasures, ratio, type MetricDef } from './catalog.js'
import type { SourceId } from './dimensions.js'
import { aggregate, type Measure } from './measures.js'

/** Columns a custom metric may filter on or aggregate, per source (closed sets: they become identifiers). */
export const SOURCE_COLUMNS: Readonly<
  Record<string, { filters: readonly string[]; numbers: readonly string[] }>
> = {
  purchases: { filters: ['channel', 'store_id', 'coupon_id'], numbers: ['amount'] },
  returns: { filters: ['order_id'], numbers: ['amount'] },
  events: { filters: ['event_type', 'channel', 'session_id'], numbers: ['duration_s'] },
  sessions: { filters: ['channel'], numbers: ['duration_s', 'page_views'] },
  feedback: { filters: ['kind'], numbers: ['score'] },
  points: { filters: ['kind'], numbers: ['points'] },
}

const condition = z.union([
  z.string(),
  z.number(),
  z.array(z.union([z.string(), z.number()])).min(1),
  z.enum(['present', 'absent']),
  z
    .object({
      gte: z.number().optional(),
      lte: z.number().optional(),
      gt: z.number().optional(),
      lt: z.number().optional(),
    })
    .strict(),
])
const over = z
  .object({
    source: z.enum(Object.keys(SOURCE_COLUMNS) as [string, ...string[]]),
    where: z.record(z.string(), condition).optional(),
  })
  .strict()
const ID = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _')

const customSchema = z
  .object({
    id: ID,
    name: z.object({ en: z.string(), zh: z.string() }).strict().optional(),
    description: z.string().optional(),
    unit: z
      .enum([
        'members',
        'orders',
        'currency',
        'ratio',
        'per_member',
        'seconds',
        'score',
        'count',
        'per_1000',
        'points',
      ])
      .optional(),
    direction: z.enum(['higher', 'lower']).optional(),
    family: z.enum(FAMILIES).optional(),
    count: over.optional(),
    count_members: over.optional(),
    sum: over.extend({ field: z.string() }).strict().optional(),
    mean: over.extend({ field: z.string() }).strict().optional(),
    ratio: z
      .object({
        numerator: z.string(),
        denominator: z.string(),
        scale: z.number().positive().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine(
    (m) =>
      [m.count, m.count_members, m.sum, m.mean, m.ratio].filter((x) => x !== undefined).length ===
      1,
    {
      message: 'give exactly one of count, count_members, sum, mean, ratio',
    },
  )

export const customMetricsFileSchema = z.object({ metrics: z.array(customSchema) }).strict()
export type CustomMetricsFile = z.infer<typeof customMetricsFileSchema>

/** Turns a validated config into metric definitions (ratios may name catalog metrics or earlier custom ones). */
export function buildCustomMetrics(file: CustomMetricsFile): MetricDef[] {
  const out: MetricDef[] = []
  const find = (id: string): MetricDef => {
    const m = [...out, ...CATALOG].find((x) => x.id === id)
    if (!m) throw new ConfigError(`custom metric ratio names unknown metric ${JSON.stringify(id)}`)
    return m
  }
  for (const c of file.metrics) {
    if ([...out, ...CATALOG].some((x) => x.id === c.id))
      throw new ConfigError(`metric id ${c.id} is already defined`)
    const base = {
      id: c.id,
      name: c.name ?? { en: c.id, zh: c.id },
      description: c.description ?? 'Custom metric.',
      family: c.family ?? 'purchase',
      direction: c.direction ?? 'higher',
      defaultGrain: 'month' as const,
      custom: true,
    }
    if (c.ratio) {
      const num = find(c.ratio.numerator)
      const den = find(c.ratio.denominator)
      const scale = c.ratio.scale ?? 1
      out.push({
        ...base,
        unit: c.unit ?? 'ratio',
        formula: `${num.id} ÷ ${den.id}${scale === 1 ? '' : ` × ${scale}`}`,
        measures: [...new Set([...num.measures, ...den.measures])],
        inlineMeasures: [...metricMeasures(num), ...metricMeasures(den)],
        value: (col) => ratio(num.value(col), den.value(col), scale),
      })
      continue
    }
    const [kind, spec] = (
      c.count
        ? ['count', c.count]
        : c.count_members
          ? ['count_members', c.count_members]
          : c.sum
            ? ['sum', c.sum]
            : ['mean', c.mean]
    ) as ['count' | 'count_members' | 'sum' | 'mean', z.infer<typeof over> & { field?: string }]
    const measure = customMeasure(`custom_${c.id}`, kind, spec)
    out.push({
      ...base,
      unit:
        c.unit ?? (kind === 'count_members' ? 'members' : kind === 'count' ? 'count' : 'currency'),
      formula: `${kind}${spec.field ? `(${spec.field})` : ''} over ${spec.source}${spec.where ? ` where ${JSON.stringify(spec.where)}` : ''}`,
      measures: [measure.id],
      inlineMeasures: [measure],
      value: (col) => sql`CAST(${col(measure.id)} AS DOUBLE)`,
    })
  }
  return out
}

function customMeasure(
  id: string,
  kind: 'count' | 'count_members' | 'sum' | 'mean',
  spec: z.infer<typeof over> & { field?: string },
): Measure {
  const cols = SOURCE_COLUMNS[spec.source] as {
    filters: readonly string[]
    numbers: readonly string[]
  }
  const column = (name: string, allowed: readonly string[]) => {
    if (!allowed.includes(name))
      throw new ConfigError(
        `${spec.source} has no column ${JSON.stringify(name)} here (${allowed.join(', ')})`,
      )
    return sql`${ident('s', name)}`
  }
  const where: Fragment[] = Object.entries(spec.where ?? {}).map(([name, cond]) => {
    const c = column(name, [...cols.filters, ...cols.numbers])
    if (cond === 'present') return sql`${c} IS NOT NULL`
    if (cond === 'absent') return sql`${c} IS NULL`
    if (Array.isArray(cond)) return sql`${c} IN (${join(cond.map((v) => sql`${v}`))})`
    if (typeof cond === 'object') {
      const parts: Fragment[] = []
      if (cond.gte !== undefined) parts.push(sql`${c} >= ${cond.gte}`)
      if (cond.gt !== undefined) parts.push(sql`${c} > ${cond.gt}`)
      if (cond.lte !== undefined) parts.push(sql`${c} <= ${cond.lte}`)
      if (cond.lt !== undefined) parts.push(sql`${c} < ${cond.lt}`)
      return parts.length === 0 ? sql`true` : join(parts, ' AND ')
    }
    return sql`${c} = ${cond}`
  })
  const agg =
    kind === 'count'
      ? sql`count(*)`
      : kind === 'count_members'
        ? sql`count(DISTINCT s.member_id)`
        : kind === 'sum'
          ? sql`sum(${column(spec.field ?? '', cols.numbers)})`
          : sql`avg(${column(spec.field ?? '', cols.numbers)})`
  return aggregate(id, spec.source as SourceId, agg, {
    ...(where.length === 0 ? {} : { where: join(where, ' AND ') }),
    zero: kind !== 'mean',
    rowDims: spec.source === 'purchases' || spec.source === 'events' || spec.source === 'sessions',
  })
}

/** Parses and validates a custom metrics document (already read from YAML/JSON). */
export function parseCustomMetrics(data: unknown, file = 'metrics file'): MetricDef[] {
  const parsed = customMetricsFileSchema.safeParse(data)
  if (!parsed.success) {
    throw new ConfigError(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    )
  }
  try {
    return buildCustomMetrics(parsed.data)
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${file}: ${e.message}`)
    throw e
  }
}
