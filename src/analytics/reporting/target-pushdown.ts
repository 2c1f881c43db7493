/**
 * Targets pushed down the tree: for a node with a target whose metric is a product or a signed sum of other
 * metrics (net revenue = buyers × purchase frequency × AOV), the value each child would need to reach the
 * target while the others keep their values — for a product, target ÷ the product of the others (a divisor:
 * the product of the others ÷ target); for a sum, target minus the others. The values come from the metric
 * runner; the rest is arithmetic.
 * @module
 */
import type { Driver } from '../../engine/drivers/driver.js'
import type { MetricDef } from '../../engine/metrics/catalog.js'
import { getMetric, runMetrics, type MetricRequest } from '../../engine/metrics/run.js'
import type {
  ChildRequirement,
  TargetPushdown,
  TreeNode,
  TreeResult,
} from '../../engine/metrics/tree.js'
import { FORMULAS, formulaText, type MetricFormula } from './change-explanation.js'

/**
 * The value each child needs, the others held, for the parent to equal `target`; null for a child when a
 * value it depends on is missing or the division has no answer (a zero).
 */
export function requiredChildValues(
  formula: MetricFormula,
  target: number,
  values: readonly (number | null)[],
): (number | null)[] {
  return formula.children.map((child, j) => {
    const others = formula.children
      .map((c, i) => ({ c, v: values[i] ?? null }))
      .filter((_, i) => i !== j)
    if (others.some((o) => o.v === null)) return null
    if (formula.kind === 'sum') {
      const rest = others.reduce((s, o) => s + o.c.power * (o.v as number), 0)
      return (target - rest) * child.power
    }
    let rest = 1
    for (const o of others) {
      const v = o.v as number
      if (o.c.power === -1 && v === 0) return null
      rest *= o.c.power === 1 ? v : 1 / v
    }
    if (child.power === 1) return rest === 0 ? null : target / rest
    return target === 0 ? null : rest / target
  })
}

export interface PushdownOptions {
  /** Formulas over the built-in ones (e.g. for custom metrics). */
  readonly formulas?: Readonly<Record<string, MetricFormula>>
  readonly timezone?: string
  readonly where?: MetricRequest['where']
  readonly extraMetrics?: readonly MetricDef[]
}

/**
 * The tree with `pushdown` on every core and related node that has a target and a formula: its children's
 * values in the period and the value each needs to reach the target, holding the others.
 */
export async function pushDownTreeTargets(
  driver: Driver,
  tree: TreeResult,
  options: PushdownOptions = {},
): Promise<TreeResult> {
  const formulas = { ...FORMULAS, ...options.formulas }
  const nodes: TreeNode[] = []
  const walk = (n: TreeNode) => {
    if (n.role !== 'trend' && n.target !== null && formulas[n.metric] !== undefined) nodes.push(n)
    n.children.forEach(walk)
  }
  tree.nodes.forEach(walk)
  if (nodes.length === 0) return tree
  const childIds = [
    ...new Set(nodes.flatMap((n) => (formulas[n.metric]?.children ?? []).map((c) => c.metric))),
  ]
  const extra = options.extraMetrics ?? []
  const result = await runMetrics(driver, {
    metrics: childIds,
    from: tree.period,
    to: tree.period,
    grain: tree.grain,
    extraMetrics: extra,
    ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
    ...(options.where === undefined ? {} : { where: options.where }),
  })
  const row = result.rows[0]
  const valueOf = (id: string): number | null => row?.values[id] ?? null

  const pushdownOf = (n: TreeNode): TargetPushdown | undefined => {
    const formula = formulas[n.metric]
    if (formula === undefined || n.target === null || n.role === 'trend') return undefined
    const values = formula.children.map((c) => valueOf(c.metric))
    const required = requiredChildValues(formula, n.target, values)
    const children: ChildRequirement[] = formula.children.map((c, i) => {
      const def = getMetric(c.metric, extra)
      const value = values[i] ?? null
      const need = required[i] ?? null
      return {
        metric: c.metric,
        name: def.name,
        unit: def.unit,
        value,
        required: need,
        change: value === null || need === null ? null : need - value,
        rate: value === null || need === null || value === 0 ? null : need / value - 1,
      }
    })
    return { formula: { kind: formula.kind, text: formulaText(formula) }, children }
  }
  const rebuild = (n: TreeNode): TreeNode => {
    const p = pushdownOf(n)
    return { ...n, ...(p === undefined ? {} : { pushdown: p }), children: n.children.map(rebuild) }
  }
  return { ...tree, nodes: tree.nodes.map(rebuild) }
}
