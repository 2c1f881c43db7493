/**
 * The per-member metrics an experiment or a program effect can be judged on, and the statistics of one
 * metric across arms: per-arm estimates with intervals, each variant against the control (z-test, Welch
 * or delta method), CUPED with the pre-period value, and Holm's correction across variants.
 * @module
 */
import type { MemberOutcomes, OutcomeColumn } from '../../duckdb/experiments/member-outcomes.js'
import { cupedAdjust } from '../../models/stats/cuped.js'
import { ratioDifference, ratioSummary } from '../../models/stats/delta-method.js'
import { studentTQuantile } from '../../models/stats/distributions.js'
import { zCritical, type Effect } from '../../models/stats/effect.js'
import { holmAdjust } from '../../models/stats/holm.js'
import { twoProportionZTest, wilsonInterval } from '../../models/stats/proportions.js'
import { summarize } from '../../models/stats/summary.js'
import { welchTTest } from '../../models/stats/welch.js'

/** How a metric is compared. */
export type MetricKind = 'proportion' | 'mean' | 'ratio'

/** A per-member metric: which outcome columns make it and how it is tested. */
export interface ExperimentMetric {
  readonly id: string
  readonly name: { readonly en: string; readonly zh: string }
  readonly kind: MetricKind
  /** Proportion: share of members with value > 0; mean: the value; ratio: Σ numerator / Σ denominator. */
  readonly value: OutcomeColumn
  /** Ratio metrics only. */
  readonly denominator?: OutcomeColumn
  /** The same metric before t0 (CUPED); absent for ratio metrics. */
  readonly covariate?: OutcomeColumn
  /** Which completeness flag a member needs to be analysed. */
  readonly window: 'post' | 'retention'
  readonly higherIsBetter: boolean
}

/** The metrics of experiment reports and program effects (see docs/experiments.md). */
export const EXPERIMENT_METRICS = {
  conversion: {
    id: 'conversion',
    name: { en: 'Purchase conversion in the window', zh: '窗口内购买转化率' },
    kind: 'proportion',
    value: 'orders_post',
    covariate: 'orders_pre',
    window: 'post',
    higherIsBetter: true,
  },
  orders: {
    id: 'orders',
    name: { en: 'Purchases per member', zh: '人均购买次数' },
    kind: 'mean',
    value: 'orders_post',
    covariate: 'orders_pre',
    window: 'post',
    higherIsBetter: true,
  },
  net_revenue: {
    id: 'net_revenue',
    name: { en: 'Net revenue per member', zh: '人均消费金额（扣退款）' },
    kind: 'mean',
    value: 'revenue_post',
    covariate: 'revenue_pre',
    window: 'post',
    higherIsBetter: true,
  },
  retention: {
    id: 'retention',
    name: { en: 'Active in the retention window', zh: '留存率（后续窗口活跃）' },
    kind: 'proportion',
    value: 'active_retention',
    covariate: 'active_pre',
    window: 'retention',
    higherIsBetter: true,
  },
  repeat_purchase: {
    id: 'repeat_purchase',
    name: { en: 'Purchase in the retention window', zh: '后续窗口复购率' },
    kind: 'proportion',
    value: 'orders_retention',
    covariate: 'orders_pre',
    window: 'retention',
    higherIsBetter: true,
  },
  aov: {
    id: 'aov',
    name: { en: 'Average order value', zh: '客单价' },
    kind: 'ratio',
    value: 'spend_post',
    denominator: 'orders_post',
    window: 'post',
    higherIsBetter: true,
  },
  complaint_rate: {
    id: 'complaint_rate',
    name: { en: 'Members with a complaint', zh: '投诉率' },
    kind: 'proportion',
    value: 'complaints_post',
    covariate: 'complaints_pre',
    window: 'post',
    higherIsBetter: false,
  },
  return_rate: {
    id: 'return_rate',
    name: { en: 'Return rate (amount)', zh: '退货率（金额）' },
    kind: 'ratio',
    value: 'returned_amount_post',
    denominator: 'spend_post',
    window: 'post',
    higherIsBetter: false,
  },
  return_order_rate: {
    id: 'return_order_rate',
    name: { en: 'Return rate (orders)', zh: '退货率（订单）' },
    kind: 'ratio',
    value: 'returned_orders_post',
    denominator: 'orders_post',
    window: 'post',
    higherIsBetter: false,
  },
} as const satisfies Record<string, ExperimentMetric>
export type ExperimentMetricId = keyof typeof EXPERIMENT_METRICS
export const EXPERIMENT_METRIC_IDS = Object.keys(EXPERIMENT_METRICS) as ExperimentMetricId[]

/** One arm's estimate of a metric. */
export interface ArmEstimate {
  readonly arm: string
  readonly members: number
  /** Proportion, mean or ratio. */
  readonly value: number
  /** Wilson (proportion), t (mean) or delta-method (ratio) interval. */
  readonly ci: readonly [number, number]
}

/** One variant against the control. */
export interface Comparison {
  readonly arm: string
  /** The unadjusted test. */
  readonly raw: Effect
  /** The CUPED-adjusted test (Welch on adjusted values), when the covariate varies. */
  readonly cuped: {
    readonly effect: Effect
    readonly theta: number
    readonly varianceReduction: number
  } | null
  /** The effect reported: CUPED when available, else raw. */
  readonly effect: Effect
  /** Holm-adjusted p-value of `effect` across the variants of this metric. */
  readonly pAdjusted: number
  readonly significant: boolean
  /** Significant and in the bad direction (for guardrails). */
  readonly harmful: boolean
}

/** A metric across arms. */
export interface MetricResult {
  readonly metric: ExperimentMetricId
  readonly name: { readonly en: string; readonly zh: string }
  readonly kind: MetricKind
  readonly higherIsBetter: boolean
  readonly control: string
  readonly arms: readonly ArmEstimate[]
  readonly comparisons: readonly Comparison[]
  /** Members left out because their window is not over yet. */
  readonly incomplete: number
}

/** Options of {@link analyseMetric}. */
export interface AnalyseOptions {
  readonly level: number
  readonly cuped: boolean
  /** Family-wise error rate for `significant`. */
  readonly alpha: number
}

function rowsOfArm(data: MemberOutcomes, arm: number, metric: ExperimentMetric): number[] {
  const c = data.columns
  const flag = metric.window === 'post' ? c.complete_post : c.complete_retention
  const out: number[] = []
  for (let i = 0; i < c.arm.length; i++) if (c.arm[i] === arm && flag[i] === 1) out.push(i)
  return out
}

function pick(col: Float64Array, rows: readonly number[], binary: boolean): Float64Array {
  const out = new Float64Array(rows.length)
  rows.forEach((r, k) => {
    const v = col[r] as number
    out[k] = binary ? (v > 0 ? 1 : 0) : v
  })
  return out
}

function armEstimate(
  arm: string,
  y: Float64Array,
  x: Float64Array | null,
  metric: ExperimentMetric,
  level: number,
): ArmEstimate {
  const n = y.length
  if (metric.kind === 'proportion') {
    let s = 0
    for (const v of y) s += v
    return { arm, members: n, value: n > 0 ? s / n : NaN, ci: wilsonInterval(s, n, level) }
  }
  if (metric.kind === 'mean') {
    const s = summarize(y)
    const h = n > 1 ? studentTQuantile(1 - (1 - level) / 2, n - 1) * Math.sqrt(s.variance / n) : NaN
    return { arm, members: n, value: s.mean, ci: [s.mean - h, s.mean + h] }
  }
  let den = 0
  for (const v of x ?? []) den += v
  if (n < 2 || !(den > 0)) return { arm, members: n, value: NaN, ci: [NaN, NaN] }
  const r = ratioSummary(y, x as Float64Array)
  const h = zCritical(level) * Math.sqrt(r.variance)
  return { arm, members: n, value: r.ratio, ci: [r.ratio - h, r.ratio + h] }
}

/**
 * Analyses one metric: arm estimates, then each non-control arm against `controlArm` with the test of the
 * metric's kind, CUPED (θ pooled over the two arms compared) when the metric has a covariate, and Holm's
 * adjustment of the reported p-values across variants.
 */
export function analyseMetric(
  data: MemberOutcomes,
  metricId: ExperimentMetricId,
  controlArm: number,
  options: AnalyseOptions,
): MetricResult {
  const metric: ExperimentMetric = EXPERIMENT_METRICS[metricId]
  const c = data.columns
  const binary = metric.kind === 'proportion'
  const perArm = data.arms.map((name, a) => {
    const rows = rowsOfArm(data, a, metric)
    const y = pick(c[metric.value], rows, binary)
    const x = metric.denominator ? pick(c[metric.denominator], rows, false) : null
    const cov = metric.covariate ? pick(c[metric.covariate], rows, binary) : null
    return { name, y, x, cov }
  })
  const incomplete = c.arm.length - perArm.reduce((s, a) => s + a.y.length, 0)
  const arms = perArm.map((a) => armEstimate(a.name, a.y, a.x, metric, options.level))
  const ctl = perArm[controlArm]
  const raw: { arm: string; raw: Effect; cuped: Comparison['cuped'] }[] = []
  if (ctl) {
    perArm.forEach((t, a) => {
      if (a === controlArm || t.y.length < 2 || ctl.y.length < 2) return
      let effect: Effect
      if (metric.kind === 'proportion') {
        const sum = (v: Float64Array) => v.reduce((s, x) => s + x, 0)
        effect = twoProportionZTest(
          { successes: sum(ctl.y), n: ctl.y.length },
          { successes: sum(t.y), n: t.y.length },
          options.level,
        )
      } else if (metric.kind === 'mean') {
        effect = welchTTest(summarize(ctl.y), summarize(t.y), options.level)
      } else {
        const dc = ctl.x ? ctl.x.reduce((s, v) => s + v, 0) : 0
        const dt = t.x ? t.x.reduce((s, v) => s + v, 0) : 0
        if (!(dc > 0 && dt > 0)) return
        effect = ratioDifference(
          ratioSummary(ctl.y, ctl.x as Float64Array),
          ratioSummary(t.y, t.x as Float64Array),
          options.level,
        )
      }
      let cuped: Comparison['cuped'] = null
      if (options.cuped && ctl.cov && t.cov) {
        const y = new Float64Array(ctl.y.length + t.y.length)
        y.set(ctl.y)
        y.set(t.y, ctl.y.length)
        const x = new Float64Array(y.length)
        x.set(ctl.cov)
        x.set(t.cov, ctl.y.length)
        const adj = cupedAdjust(y, x)
        if (adj.theta !== 0) {
          const e = welchTTest(
            summarize(adj.adjusted.subarray(0, ctl.y.length)),
            summarize(adj.adjusted.subarray(ctl.y.length)),
            options.level,
          )
          cuped = { effect: e, theta: adj.theta, varianceReduction: adj.varianceReduction }
        }
      }
      raw.push({ arm: t.name, raw: effect, cuped })
    })
  }
  const reported = raw.map((r) => r.cuped?.effect ?? r.raw)
  const adjusted = holmAdjust(reported.map((e) => e.pValue))
  const comparisons = raw.map((r, k): Comparison => {
    const effect = reported[k] as Effect
    const pAdjusted = adjusted[k] as number
    const significant = pAdjusted < options.alpha
    const worse = metric.higherIsBetter ? effect.difference < 0 : effect.difference > 0
    return { ...r, effect, pAdjusted, significant, harmful: significant && worse }
  })
  return {
    metric: metricId,
    name: metric.name,
    kind: metric.kind,
    higherIsBetter: metric.higherIsBetter,
    control: data.arms[controlArm] ?? '',
    arms,
    comparisons,
    incomplete,
  }
}
