/**
 * The metric system (指标体系, DOMAIN §3): a goal, its core metrics (核心指标), the related metrics that drive
 * each (关联指标) and the trend metrics (趋势指标: change rates of the core ones), each with a target and a
 * status. The tree is a validated config; {@link DEFAULT_TREE} is the source's worked example (fresh-food
 * e-commerce: raise loyalty and revenue through purchase frequency, spend and retention).
 * @module
 */
import { z } from 'zod'
import { ConfigError } from '../../core/errors.js'
import type { Driver } from '../drivers/driver.js'
import type { Grain } from '../dialects/dialect.js'
import type { MetricDef } from './catalog.js'
import type { EventAlignment, EventAlignmentOptions } from './event-alignment.js'
import {
  addPeriods,
  getMetric,
  lastCompletePeriod,
  parseDay,
  periodLabel,
  runMetrics,
  type MetricRequest,
} from './run.js'

const name = z.object({ en: z.string().min(1), zh: z.string().min(1) }).strict()
/** A target: a number, or a change against the previous period or the same period last year. */
const target = z.union([
  z.number(),
  z.object({ vs: z.enum(['pop', 'yoy', 'yoy_event']), change: z.number() }).strict(),
])
const node = z
  .object({
    metric: z.string().min(1),
    target: target.optional(),
    /** Why this metric matters here (shown in the tree). */
    note: z.string().optional(),
  })
  .strict()

export const treeConfigSchema = z
  .object({
    goal: z.object({ name, description: z.string().optional() }).strict(),
    /** A value within this fraction of its target is "at risk"; further away, "off track". */
    atRiskWithin: z.number().min(0).max(1).default(0.05),
    grain: z.enum(['week', 'month', 'quarter']).default('month'),
    /** Trend forms shown for each core metric. */
    trends: z.array(z.enum(['pop', 'yoy', 'yoy_event'])).default(['pop', 'yoy']),
    core: z.array(node.extend({ related: z.array(node).default([]) }).strict()).min(1),
  })
  .strict()
export type TreeConfig = z.infer<typeof treeConfigSchema>
export type TreeConfigInput = z.input<typeof treeConfigSchema>

/** The source's worked example (seed 002): targets are "no worse than the same period last year". */
export const DEFAULT_TREE: TreeConfigInput = {
  goal: {
    name: { en: 'Raise member loyalty and revenue', zh: '提升会员忠诚度与收入' },
    description: 'Fresh-food e-commerce: keep members buying often, spending more and coming back.',
  },
  atRiskWithin: 0.05,
  grain: 'month',
  trends: ['pop', 'yoy'],
  core: [
    {
      metric: 'purchase_frequency',
      target: { vs: 'yoy', change: 0 },
      note: 'loyalty shows first in how often members buy',
      related: [{ metric: 'purchase_conversion', target: { vs: 'yoy', change: 0 } }],
    },
    {
      metric: 'net_revenue',
      target: { vs: 'yoy', change: 0.05 },
      note: 'spend (消费金额)',
      related: [{ metric: 'aov', target: { vs: 'yoy', change: 0 } }],
    },
    {
      metric: 'period_retention',
      target: { vs: 'yoy', change: 0 },
      note: 'members active last period who are active again',
      related: [{ metric: 'engagement_rate', target: { vs: 'yoy', change: 0 } }],
    },
  ],
}

/** What a relative target or trend compares with, in words. */
const TARGET_BASE = {
  pop: 'previous period',
  yoy: 'last year',
  yoy_event: 'last year by event',
} as const
const TREND_ZH = { pop: '环比', yoy: '同比', yoy_event: '节点对齐同比' } as const

export type Status = 'on_track' | 'at_risk' | 'off_track' | 'no_target' | 'no_data'

/** One child of a node's formula: its value and the value it needs for the node to reach its target. */
export interface ChildRequirement {
  readonly metric: string
  readonly name: { readonly en: string; readonly zh: string }
  readonly unit: string
  /** The child's value in the period. */
  readonly value: number | null
  /** The value it needs, the other children held at theirs; null when a value is missing or a divisor is 0. */
  readonly required: number | null
  /** required − value. */
  readonly change: number | null
  /** required ÷ value − 1 (−0.05 = −5%); null when the value is 0. */
  readonly rate: number | null
}

/** A node's target pushed down its formula (filled by the analytics layer, `target-pushdown.ts`). */
export interface TargetPushdown {
  readonly formula: { readonly kind: 'product' | 'sum'; readonly text: string }
  readonly children: readonly ChildRequirement[]
}

export interface TreeNode {
  readonly role: 'core' | 'related' | 'trend'
  readonly key: string
  readonly metric: string
  readonly name: { readonly en: string; readonly zh: string }
  readonly unit: string
  readonly direction: 'higher' | 'lower'
  readonly value: number | null
  /** The target as a value (relative targets resolved against the base period). */
  readonly target: number | null
  readonly targetText: string | null
  readonly status: Status
  /**
   * Change against the previous period and the same period last year (ratios: −0.05 = −5%); `yoyEvent`, last
   * year aligned on the nearest calendar event (`:yoy_event`), when the tree compares that way.
   */
  readonly change: {
    readonly pop: number | null
    readonly yoy: number | null
    readonly yoyEvent?: number | null
  }
  /** The last periods' values, oldest first (sparkline). */
  readonly series: readonly (number | null)[]
  readonly note?: string
  /** For a node with a target whose metric is a product or sum of others: what each needs to reach it. */
  readonly pushdown?: TargetPushdown
  readonly children: readonly TreeNode[]
}

export interface TreeResult {
  readonly goal: TreeConfig['goal']
  readonly period: string
  readonly label: string
  readonly grain: Grain
  readonly nodes: readonly TreeNode[]
  /** How the period was compared for `:yoy_event` (present when the tree compares that way). */
  readonly yoyEvent?: EventAlignment
}

export function parseTreeConfig(data: unknown, file = 'tree config'): TreeConfig {
  const parsed = treeConfigSchema.safeParse(data)
  if (!parsed.success) {
    throw new ConfigError(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    )
  }
  return parsed.data
}

/** Status of a value against a target, by the metric's direction. */
export function statusOf(
  value: number | null,
  target: number | null,
  direction: 'higher' | 'lower',
  within: number,
): Status {
  if (value === null) return 'no_data'
  if (target === null) return 'no_target'
  const slack = Math.abs(target) * within
  if (direction === 'higher')
    return value >= target ? 'on_track' : value >= target - slack ? 'at_risk' : 'off_track'
  return value <= target ? 'on_track' : value <= target + slack ? 'at_risk' : 'off_track'
}

export interface EvaluateOptions {
  /** The period to evaluate (any date inside it); default: the last complete period of the data. */
  readonly period?: string
  /** Periods of history for the sparklines (default 12). */
  readonly history?: number
  readonly extraMetrics?: readonly MetricDef[]
  readonly timezone?: string
  readonly where?: MetricRequest['where']
  /** Also compare every node with last year aligned on the nearest calendar event (`:yoy_event`). */
  readonly yoyEvent?: boolean
  /** The calendar `:yoy_event` aligns on (required when the tree or `yoyEvent` compares that way). */
  readonly alignment?: EventAlignmentOptions
  /** Whether the metrics may read the member × day rollup (default `auto`: when it is current). */
  readonly rollups?: MetricRequest['rollups']
}

/** Evaluates a tree for one period: every node's value, target, status, change and recent series. */
export async function evaluateTree(
  driver: Driver,
  input: TreeConfigInput,
  options: EvaluateOptions = {},
): Promise<TreeResult> {
  const tree = parseTreeConfig(input)
  const grain = tree.grain
  const extra = options.extraMetrics ?? []
  // A period that is no date (2026-13) is the caller's mistake, not a failure inside the date arithmetic.
  if (options.period !== undefined) parseDay(options.period, 'period')
  const period = options.period ?? (await lastCompletePeriod(driver, grain, options.timezone))
  if (period === undefined)
    throw new ConfigError('the database holds no orders or events to evaluate the tree on')
  const history = options.history ?? 12
  const all = tree.core.flatMap((c) => [c, ...c.related])
  for (const n of all) getMetric(n.metric, extra)
  const ids = [...new Set(all.map((n) => n.metric))]
  const eventAligned =
    options.yoyEvent === true ||
    tree.trends.includes('yoy_event') ||
    all.some((n) => typeof n.target === 'object' && n.target.vs === 'yoy_event')
  const keys = [
    ...new Set(
      ids.flatMap((id) => [
        id,
        `${id}:pop`,
        `${id}:yoy`,
        ...(eventAligned ? [`${id}:yoy_event`] : []),
      ]),
    ),
  ]
  const result = await runMetrics(driver, {
    metrics: keys,
    from: addPeriods(period, grain, -(history - 1)),
    to: period,
    grain,
    extraMetrics: extra,
    ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
    ...(options.where === undefined ? {} : { where: options.where }),
    ...(options.alignment === undefined ? {} : { alignment: options.alignment }),
    ...(options.rollups === undefined ? {} : { rollups: options.rollups }),
  })
  const last = result.rows.at(-1)
  const valueOf = (key: string): number | null => last?.values[key] ?? null
  const seriesOf = (key: string) => result.rows.map((r) => r.values[key] ?? null)

  const build = (
    n: z.infer<typeof node>,
    role: 'core' | 'related',
    children: TreeNode[],
  ): TreeNode => {
    const def = getMetric(n.metric, extra)
    const value = valueOf(n.metric)
    const pop = valueOf(`${n.metric}:pop`)
    const yoy = valueOf(`${n.metric}:yoy`)
    const yoyEvent = eventAligned ? valueOf(`${n.metric}:yoy_event`) : undefined
    let targetValue: number | null = null
    let targetText: string | null = null
    if (typeof n.target === 'number') {
      targetValue = n.target
      targetText = String(n.target)
    } else if (n.target !== undefined) {
      // value_base × (1 + change): base = previous period or the same period last year.
      const rate = n.target.vs === 'pop' ? pop : n.target.vs === 'yoy' ? yoy : (yoyEvent ?? null)
      const base = value !== null && rate !== null ? value / (1 + rate) : null
      targetValue = base === null ? null : base * (1 + n.target.change)
      const pct = `${n.target.change >= 0 ? '+' : ''}${(n.target.change * 100).toFixed(0)}%`
      targetText = `${pct} vs ${TARGET_BASE[n.target.vs]}`
    }
    return {
      role,
      key: n.metric,
      metric: n.metric,
      name: def.name,
      unit: def.unit,
      direction: def.direction,
      value,
      target: targetValue,
      targetText,
      status: statusOf(value, targetValue, def.direction, tree.atRiskWithin),
      change: { pop, yoy, ...(yoyEvent === undefined ? {} : { yoyEvent }) },
      series: seriesOf(n.metric),
      ...(n.note === undefined ? {} : { note: n.note }),
      children,
    }
  }
  const nodes = tree.core.map((c) => {
    const def = getMetric(c.metric, extra)
    const trends: TreeNode[] = tree.trends.map((t) => {
      const key = `${c.metric}:${t}`
      const v = valueOf(key)
      return {
        role: 'trend',
        key,
        metric: c.metric,
        name: {
          en: `${def.name.en} change vs ${TARGET_BASE[t]}`,
          zh: `${def.name.zh}${TREND_ZH[t]}变化率`,
        },
        unit: 'ratio',
        direction: def.direction,
        value: v,
        target: 0,
        targetText: 'no decline',
        status: statusOf(v, 0, def.direction, tree.atRiskWithin),
        change: { pop: null, yoy: null },
        series: seriesOf(key),
        children: [],
      }
    })
    return build(c, 'core', [...c.related.map((r) => build(r, 'related', [])), ...trends])
  })
  const alignment = eventAligned
    ? last?.alignments?.[`${tree.core[0]?.metric ?? ''}:yoy_event`]
    : undefined
  return {
    goal: tree.goal,
    period: result.to,
    label: periodLabel(result.to, grain),
    grain,
    nodes,
    ...(alignment === undefined ? {} : { yoyEvent: alignment }),
  }
}
