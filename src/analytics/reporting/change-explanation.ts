/**
 * Why a metric moved: a metric that is a product, quotient or signed sum of other catalog metrics (net revenue
 * = buyers × purchase frequency × AOV) has its change against the previous period (环比) and the same period
 * last year (同比) split exactly into its children's parts (`models/change-decomposition.ts`: log-mean
 * Divisia for positive products, Shapley otherwise). The values come from the metric runner; the split is
 * pure arithmetic on them.
 * @module
 */
import { z } from 'zod'
import { ConfigError, InputError } from '../../core/errors.js'
import { parseYamlWith } from '../../core/yaml-input.js'
import {
  decomposeChange,
  evaluateFormula,
  type DecompositionMethod,
  type Formula,
} from '../../models/change-decomposition.js'
import type { Grain } from '../../engine/dialects/dialect.js'
import type { Driver } from '../../engine/drivers/driver.js'
import type { MetricDef } from '../../engine/metrics/catalog.js'
import {
  YEAR_LAG,
  addPeriods,
  getMetric,
  lastCompletePeriod,
  parseDay,
  periodLabel,
  periodStart,
  runMetrics,
  type MetricRequest,
} from '../../engine/metrics/run.js'

/** One child of a formula: a catalog metric and its power (−1 divides) or sign (−1 subtracts). */
export interface FormulaChild {
  readonly metric: string
  readonly power: 1 | -1
}

/** How a metric is made from other metrics. */
export interface MetricFormula {
  readonly kind: 'product' | 'sum'
  readonly children: readonly FormulaChild[]
}

const times = (metric: string): FormulaChild => ({ metric, power: 1 })
const over = (metric: string): FormulaChild => ({ metric, power: -1 })

/**
 * The identities of the catalog that hold exactly for every period and member filter (catalog.ts: purchase
 * frequency = orders ÷ buyers, AOV = net revenue ÷ orders, revenue per buyer = net revenue ÷ buyers).
 */
export const FORMULAS: Readonly<Record<string, MetricFormula>> = {
  net_revenue: {
    kind: 'product',
    children: [times('buyers'), times('purchase_frequency'), times('aov')],
  },
  orders: { kind: 'product', children: [times('buyers'), times('purchase_frequency')] },
  revenue_per_buyer: {
    kind: 'product',
    children: [times('purchase_frequency'), times('aov')],
  },
  purchase_frequency: { kind: 'product', children: [times('orders'), over('buyers')] },
  aov: { kind: 'product', children: [times('net_revenue'), over('orders')] },
}

const metricIds = z
  .array(
    z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a metric id (lower-case letters, digits and _)'),
  )
  .min(1)
const formulaEntry = z.union([
  z.object({ product: metricIds, divide: metricIds.optional() }).strict(),
  z.object({ sum: metricIds, minus: metricIds.optional() }).strict(),
])

/**
 * A formulas file: metric id → `{product: [...], divide: [...]}` or `{sum: [...], minus: [...]}`, e.g.
 * `net_revenue: { sum: [gross_sales], minus: [returned_amount] }`.
 */
export const formulasFileSchema = z.object({
  formulas: z.record(
    z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a metric id'),
    formulaEntry,
  ),
})

/** Reads formulas from YAML text (`file` names it in errors: file, line, field, reason). */
export function parseFormulas(text: string, file: string): Record<string, MetricFormula> {
  const parsed = parseYamlWith(formulasFileSchema.strict(), text, file)
  const out: Record<string, MetricFormula> = {}
  for (const [metric, f] of Object.entries(parsed.formulas)) {
    out[metric] =
      'product' in f
        ? { kind: 'product', children: [...f.product.map(times), ...(f.divide ?? []).map(over)] }
        : {
            kind: 'sum',
            children: [
              ...f.sum.map(times),
              ...(f.minus ?? []).map((m) => ({ metric: m, power: -1 as const })),
            ],
          }
  }
  return out
}

/** The formula as text: `buyers × purchase_frequency × aov`, `new + reactivated − churned`. */
export function formulaText(f: MetricFormula): string {
  const [op, inv] = f.kind === 'product' ? ['×', '÷'] : ['+', '−']
  return f.children
    .map((c, i) =>
      i === 0
        ? c.power === 1
          ? c.metric
          : `${f.kind === 'product' ? '1 ÷' : '−'} ${c.metric}`
        : `${c.power === 1 ? op : inv} ${c.metric}`,
    )
    .join(' ')
}

function modelFormula(f: MetricFormula): Formula {
  const p = f.children.map((c) => c.power)
  return f.kind === 'product' ? { kind: 'product', exponents: p } : { kind: 'sum', signs: p }
}

/** One child's part of the parent's change. */
export interface ChangePart {
  readonly metric: string
  readonly name: { readonly en: string; readonly zh: string }
  readonly unit: string
  readonly before: number
  readonly after: number
  /** The child's own change rate (−0.05 = −5 %); null when its base is 0. */
  readonly rate: number | null
  /** Its part of the parent's change, in the parent's unit; the parts sum to `change`. */
  readonly contribution: number
  /** `contribution` ÷ the parent's base value (percentage points of the parent's rate, as a ratio). */
  readonly points: number | null
}

export interface ComparisonSplit {
  readonly vs: 'pop' | 'yoy'
  /** First day and label of the base period. */
  readonly basePeriod: string
  readonly baseLabel: string
  readonly before: number
  readonly after: number
  readonly change: number
  /** The parent's change rate; null when its base is 0. */
  readonly rate: number | null
  readonly method: DecompositionMethod
  /** Children by the size of their part, largest first. */
  readonly parts: readonly ChangePart[]
}

export interface ChangeExplanation {
  readonly metric: string
  readonly name: { readonly en: string; readonly zh: string }
  readonly unit: string
  readonly grain: Grain
  readonly period: string
  readonly label: string
  readonly formula: { readonly kind: 'product' | 'sum'; readonly text: string }
  readonly value: number | null
  /** Null when a value of the period or of the base period is missing (no data, or a divisor of 0). */
  readonly pop: ComparisonSplit | null
  readonly yoy: ComparisonSplit | null
}

export interface ExplainOptions {
  /** Any date in the period (YYYY-MM-DD, YYYY-MM); default: the last complete period of the data. */
  readonly period?: string
  readonly grain?: Grain
  readonly timezone?: string
  readonly where?: MetricRequest['where']
  readonly extraMetrics?: readonly MetricDef[]
  /** Formulas over the built-in {@link FORMULAS} (e.g. for custom metrics). */
  readonly formulas?: Readonly<Record<string, MetricFormula>>
}

/** The formula of a metric, or an error naming the metrics that have one. */
export function formulaOf(
  metric: string,
  formulas: Readonly<Record<string, MetricFormula>> = FORMULAS,
): MetricFormula {
  const f = formulas[metric]
  if (f === undefined)
    throw InputError.single({
      field: 'metric',
      value: metric,
      reason: `has no product or sum formula to split its change by; metrics with one: ${Object.keys(formulas).join(', ')}`,
      allowed: Object.keys(formulas),
    })
  return f
}

/**
 * Splits a pure change between two sets of the children's values. Exported for callers that already hold
 * the values (the tree); {@link explainChange} reads them from the database.
 */
export function splitChange(
  formula: MetricFormula,
  before: readonly (number | null)[],
  after: readonly (number | null)[],
  describe: (metric: string) => { name: ChangePart['name']; unit: string },
): Omit<ComparisonSplit, 'vs' | 'basePeriod' | 'baseLabel'> | null {
  if (before.some((v) => v === null) || after.some((v) => v === null)) return null
  const b = before as number[]
  const a = after as number[]
  const model = modelFormula(formula)
  if (
    model.kind === 'product' &&
    formula.children.some((c, i) => c.power < 0 && (b[i] === 0 || a[i] === 0))
  )
    return null
  const d = decomposeChange(model, b, a)
  const base = evaluateFormula(model, b)
  const parts = formula.children.map((c, i) => {
    const cb = b[i] as number
    const ca = a[i] as number
    const contribution = d.parts[i] as number
    return {
      metric: c.metric,
      ...describe(c.metric),
      before: cb,
      after: ca,
      rate: cb === 0 ? null : ca / cb - 1,
      contribution,
      points: base === 0 ? null : contribution / Math.abs(base),
    }
  })
  parts.sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution))
  return {
    before: d.before,
    after: d.after,
    change: d.change,
    rate: d.before === 0 ? null : d.change / Math.abs(d.before),
    method: d.method,
    parts,
  }
}

/** Reads a metric and its formula's children for a period, the previous one and last year's, and splits both changes. */
export async function explainChange(
  driver: Driver,
  metric: string,
  options: ExplainOptions = {},
): Promise<ChangeExplanation> {
  const formulas = { ...FORMULAS, ...options.formulas }
  const extra = options.extraMetrics ?? []
  const def = getMetric(metric, extra)
  const formula = formulaOf(metric, formulas)
  const children = formula.children.map((c) => getMetric(c.metric, extra))
  const grain = options.grain ?? 'month'
  const found =
    options.period === undefined
      ? await lastCompletePeriod(driver, grain, options.timezone)
      : periodStart(parseDay(options.period, 'period'), grain)
  if (found === undefined)
    throw InputError.single({
      reason: 'the database holds no orders or events yet: load some with `memberlens ingest`',
    })
  const period = periodStart(found, grain)
  const lag = YEAR_LAG[grain]
  const ids = [...new Set([metric, ...children.map((c) => c.id)])]
  const result = await runMetrics(driver, {
    metrics: ids,
    from: addPeriods(period, grain, -lag),
    to: period,
    grain,
    extraMetrics: extra,
    ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
    ...(options.where === undefined ? {} : { where: options.where }),
  })
  const at = (p: string) => result.rows.find((r) => r.period === p)?.values ?? {}
  const values = (p: string) => formula.children.map((c) => at(p)[c.metric] ?? null)
  const describe = (id: string) => {
    const m = getMetric(id, extra)
    return { name: m.name, unit: m.unit }
  }
  // A formula that does not reproduce its metric (a custom one, mistyped) would split a change that is not
  // the metric's: refuse it, naming the period and both values.
  const model = modelFormula(formula)
  for (const p of [period, addPeriods(period, grain, -1), addPeriods(period, grain, -lag)]) {
    const own = at(p)[metric]
    const parts = values(p)
    if (own === null || own === undefined || parts.some((v) => v === null)) continue
    if (
      model.kind === 'product' &&
      parts.some((v, i) => v === 0 && (formula.children[i]?.power ?? 1) < 0)
    )
      continue
    const made = evaluateFormula(model, parts as number[])
    if (Math.abs(made - own) > 1e-6 * Math.max(1, Math.abs(own)))
      throw new ConfigError(
        `formula of ${metric} (${formulaText(formula)}) does not reproduce it in ${periodLabel(p, grain)}: ${made} from the formula, ${own} measured`,
      )
  }
  const compare = (vs: 'pop' | 'yoy'): ComparisonSplit | null => {
    const base = addPeriods(period, grain, vs === 'pop' ? -1 : -lag)
    const split = splitChange(formula, values(base), values(period), describe)
    return split === null
      ? null
      : { vs, basePeriod: base, baseLabel: periodLabel(base, grain), ...split }
  }
  return {
    metric,
    name: def.name,
    unit: def.unit,
    grain,
    period,
    label: periodLabel(period, grain),
    formula: { kind: formula.kind, text: formulaText(formula) },
    value: at(period)[metric] ?? null,
    pop: compare('pop'),
    yoy: compare('yoy'),
  }
}

/** One value of a dimension in a split of a change: its own change and that change's parts. */
export interface GroupChange {
  /** The dimension value (null: members or rows without one). */
  readonly value: string | null
  readonly before: number
  readonly after: number
  /** Its part of the parent's change; the groups' parts sum to the parent's change. */
  readonly change: number
  /** Its share of the parent's base value; null when the base is 0. */
  readonly share: number | null
  /**
   * How far its change is from its share of the parent's change (change − parent change × share): the
   * drill follows the largest. Null when the parent's base is 0.
   */
  readonly surprise: number | null
  /** The group's own change split into the formula's parts (null when a value is missing or a divisor is 0). */
  readonly parts: readonly ChangePart[] | null
}

/** The split of a change by one dimension, within the groups chosen at the levels above. */
export interface DrillLevel {
  readonly dimension: string
  /** The values chosen at the levels above (empty at the first level). */
  readonly within: readonly { readonly dimension: string; readonly value: string | null }[]
  readonly change: number
  /** Groups by the size of their change, largest first. */
  readonly groups: readonly GroupChange[]
  /** The group the next level looks into: the largest surprise. */
  readonly drill: string | null
}

export interface DimensionDrill {
  readonly vs: 'pop' | 'yoy'
  readonly basePeriod: string
  readonly levels: readonly DrillLevel[]
  /** The part with the largest contribution in the last group drilled into ("浙江 · app · buyers"). */
  readonly largest: {
    readonly path: readonly { readonly dimension: string; readonly value: string | null }[]
    readonly part: ChangePart | null
  } | null
}

export interface ChangeByDimension extends ChangeExplanation {
  readonly by: readonly string[]
  readonly drills: { readonly pop: DimensionDrill | null; readonly yoy: DimensionDrill | null }
}

/**
 * {@link explainChange}, then the change split by dimensions (`by`: e.g. region, registration_channel): at each
 * level the groups' changes (which sum to the parent's change exactly), each group's own formula split, and a
 * drill into the group whose change is furthest from its share of the parent's change. The metric must be a
 * sum over the dimension's values (net revenue by region: yes; buyers by order channel: no, a member can buy in
 * several), which is checked on the data.
 */
export async function explainChangeBy(
  driver: Driver,
  metric: string,
  by: readonly string[],
  options: ExplainOptions = {},
): Promise<ChangeByDimension> {
  if (by.length === 0 || by.length > 3)
    throw InputError.single({
      field: 'by',
      value: by.join(','),
      reason: 'give one to three dimensions to split the change by',
    })
  const base = await explainChange(driver, metric, options)
  const formulas = { ...FORMULAS, ...options.formulas }
  const formula = formulaOf(metric, formulas)
  const extra = options.extraMetrics ?? []
  const { grain, period } = base
  const lag = YEAR_LAG[grain]
  const ids = [...new Set([metric, ...formula.children.map((c) => c.metric)])]
  const describe = (id: string) => {
    const m = getMetric(id, extra)
    return { name: m.name, unit: m.unit }
  }
  const levels = await Promise.all(
    by.map((_, k) =>
      runMetrics(driver, {
        metrics: ids,
        from: addPeriods(period, grain, -lag),
        to: period,
        grain,
        by: by.slice(0, k + 1),
        extraMetrics: extra,
        ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
        ...(options.where === undefined ? {} : { where: options.where }),
      }),
    ),
  )
  const drill = (vs: 'pop' | 'yoy'): DimensionDrill | null => {
    const split = vs === 'pop' ? base.pop : base.yoy
    if (split === null) return null
    const basePeriod = addPeriods(period, grain, vs === 'pop' ? -1 : -lag)
    const path: { dimension: string; value: string | null }[] = []
    const out: DrillLevel[] = []
    let parent = { before: split.before, after: split.after }
    let last: GroupChange | undefined
    for (const [k, result] of levels.entries()) {
      const dimension = by[k] as string
      const inPath = (dims: Readonly<Record<string, string | null>>) =>
        path.every((p) => dims[p.dimension] === p.value)
      const rows = result.rows.filter((r) => inPath(r.dims))
      const at = (p: string, value: string | null) =>
        rows.find((r) => r.period === p && r.dims[dimension] === value)?.values ?? {}
      const values = [...new Set(rows.map((r) => r.dims[dimension] ?? null))]
      const groups: GroupChange[] = []
      for (const value of values) {
        const before = at(basePeriod, value)[metric] ?? 0
        const after = at(period, value)[metric] ?? 0
        if (before === 0 && after === 0) continue
        const own = splitChange(
          formula,
          formula.children.map((c) => at(basePeriod, value)[c.metric] ?? null),
          formula.children.map((c) => at(period, value)[c.metric] ?? null),
          describe,
        )
        const share = parent.before === 0 ? null : before / parent.before
        const change = after - before
        groups.push({
          value,
          before,
          after,
          change,
          share,
          surprise: share === null ? null : change - (parent.after - parent.before) * share,
          parts: own?.parts ?? null,
        })
      }
      // Only a metric that is a sum over the dimension's values can be split by it.
      for (const [which, total] of [
        ['before', parent.before],
        ['after', parent.after],
      ] as const) {
        const sum = groups.reduce((s, g) => s + g[which], 0)
        if (Math.abs(sum - total) > 1e-6 * Math.max(1, Math.abs(total)))
          throw InputError.single({
            field: 'by',
            value: dimension,
            reason: `${metric} is not a sum over the values of ${dimension} (${sum} over the values, ${total} in all${path.length > 0 ? ` within ${path.map((p) => `${p.dimension}=${p.value ?? '–'}`).join(', ')}` : ''}): split a count or an amount that each member or order adds to one value only`,
          })
      }
      groups.sort((a, b) => Math.abs(b.change) - Math.abs(a.change))
      const next = [...groups].sort(
        (a, b) => Math.abs(b.surprise ?? b.change) - Math.abs(a.surprise ?? a.change),
      )[0]
      out.push({
        dimension,
        within: [...path],
        change: parent.after - parent.before,
        groups,
        drill: next?.value ?? null,
      })
      if (next === undefined) break
      last = next
      path.push({ dimension, value: next.value })
      parent = { before: next.before, after: next.after }
    }
    const part = last?.parts?.[0] ?? null
    return {
      vs,
      basePeriod,
      levels: out,
      largest: last === undefined ? null : { path, part },
    }
  }
  return { ...base, by, drills: { pop: drill('pop'), yoy: drill('yoy') } }
}
