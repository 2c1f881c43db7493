/**
 * The per-member metrics an experiment or a program effect can be judged on, and the statistics of one
 * metric across arms: per-arm estimates with intervals, each variant against the control (z-test, Welch
 * or delta method), CUPED with the pre-period value, and Holm's correction across variants.
 *
 * One metric, `predicted_clv`, is not an outcome of the window but each member's predicted CLV from the
 * latest CLV run (`memberlens clv fit`): the caller passes those scores in ({@link ClvScores}).
 * @module
 */
import { InputError } from '../../core/errors.js'
import type { MemberOutcomes, OutcomeColumn } from '../../duckdb/experiments/member-outcomes.js'
import { cupedAdjustByArm } from '../../models/stats/cuped.js'
import { ratioDifference, ratioSummary } from '../../models/stats/delta-method.js'
import { studentTQuantile } from '../../models/stats/distributions.js'
import { zCritical, type Effect } from '../../models/stats/effect.js'
import { holmAdjust } from '../../models/stats/holm.js'
import { twoProportionZTest, wilsonInterval } from '../../models/stats/proportions.js'
import { summarize } from '../../models/stats/summary.js'
import { welchTTest } from '../../models/stats/welch.js'

/** How a metric is compared. */
export type MetricKind = 'proportion' | 'mean' | 'ratio'

/** What a metric reads: an outcome column, or the member's score of the latest CLV run. */
export type MetricColumn = OutcomeColumn | 'predicted_clv'

/** A per-member metric: which outcome columns make it and how it is tested. */
export interface ExperimentMetric {
  readonly id: string
  readonly name: { readonly en: string; readonly zh: string }
  readonly kind: MetricKind
  /** Proportion: share of members with value > 0; mean: the value; ratio: Σ numerator / Σ denominator. */
  readonly value: MetricColumn
  /** Ratio metrics only. */
  readonly denominator?: OutcomeColumn
  /** The same metric before t0 (CUPED); absent for ratio metrics. */
  readonly covariate?: OutcomeColumn
  /** Which completeness flag a member needs to be analysed (`scored`: a score in the CLV run). */
  readonly window: 'post' | 'retention' | 'scored'
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
  predicted_clv: {
    id: 'predicted_clv',
    name: { en: 'Predicted CLV per member', zh: '人均预测客户终身价值（CLV）' },
    kind: 'mean',
    value: 'predicted_clv',
    covariate: 'revenue_pre',
    window: 'scored',
    higherIsBetter: true,
  },
} as const satisfies Record<string, ExperimentMetric>
export type ExperimentMetricId = keyof typeof EXPERIMENT_METRICS
export const EXPERIMENT_METRIC_IDS = Object.keys(EXPERIMENT_METRICS) as ExperimentMetricId[]

/** Metrics read from a CLV run's scores rather than from the outcome window. */
export function needsClvScores(metric: ExperimentMetricId): boolean {
  return EXPERIMENT_METRICS[metric].value === 'predicted_clv'
}

/**
 * The outcome column a metric reads; InputError for a metric that reads CLV scores, which only
 * `experiments report` supplies.
 */
export function outcomeColumnOf(metric: ExperimentMetricId, what: string): OutcomeColumn {
  const v: MetricColumn = EXPERIMENT_METRICS[metric].value
  if (v === 'predicted_clv') {
    throw InputError.single({
      field: 'metric',
      value: metric,
      reason: `${what} cannot use it: it is each member's score of the latest CLV run, read by \`memberlens experiments report\` only`,
    })
  }
  return v
}

/** The scores of one CLV run, aligned with the rows of a {@link MemberOutcomes}. */
export interface ClvScores {
  readonly runId: string
  /** The run's CLV horizon in months and its calibration end (the day the scores stand at). */
  readonly horizonMonths: number | null
  readonly calibrationEnd: string | null
  /** Predicted CLV of row i's member; NaN when the run has no score for them. */
  readonly values: Float64Array
}

/** The CLV run behind a `predicted_clv` result and how many members it left out. */
export interface ClvRunUsed {
  readonly runId: string
  readonly horizonMonths: number | null
  readonly calibrationEnd: string | null
  /** Assigned members without a score in the run (left out of the metric, not counted as 0). */
  readonly unscored: number
}

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
    /** θ of the variant arm and of the control arm (one slope per arm, Lin 2013). */
    readonly theta: number
    readonly thetaControl: number
    /** The within-arm variance removed. */
    readonly varianceReduction: number
    /** Width of the interval of the difference without CUPED (`raw.ci`) and with it (`effect.ci`). */
    readonly widthRaw: number
    readonly width: number
    /** 1 − width ÷ widthRaw: how much narrower the adjusted interval is (0.2 = 20 % narrower). */
    readonly narrowing: number
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
  /** Members left out: their window is not over yet, or (predicted_clv) the CLV run has no score for them. */
  readonly incomplete: number
  /** predicted_clv only: the CLV run the scores come from. */
  readonly clvRun?: ClvRunUsed
}

/** Options of {@link analyseMetric}. */
export interface AnalyseOptions {
  readonly level: number
  readonly cuped: boolean
  /** Family-wise error rate for `significant`. */
  readonly alpha: number
}

function rowsOfArm(
  data: MemberOutcomes,
  arm: number,
  metric: ExperimentMetric,
  scores: Float64Array | null,
): number[] {
  const c = data.columns
  const out: number[] = []
  if (metric.window === 'scored') {
    for (let i = 0; i < c.arm.length; i++)
      if (c.arm[i] === arm && !Number.isNaN(scores?.[i] ?? NaN)) out.push(i)
    return out
  }
  const flag = metric.window === 'post' ? c.complete_post : c.complete_retention
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
 * metric's kind, CUPED (one θ per arm, Lin 2013) when the metric has a covariate, and Holm's
 * adjustment of the reported p-values across variants. `clv` carries the CLV run's scores for
 * `predicted_clv` (InputError without them).
 */
export function analyseMetric(
  data: MemberOutcomes,
  metricId: ExperimentMetricId,
  controlArm: number,
  options: AnalyseOptions,
  clv?: ClvScores,
): MetricResult {
  const metric: ExperimentMetric = EXPERIMENT_METRICS[metricId]
  const c = data.columns
  const binary = metric.kind === 'proportion'
  const scores = metric.value === 'predicted_clv' ? (clv?.values ?? null) : null
  if (metric.value === 'predicted_clv' && scores === null)
    outcomeColumnOf(metricId, 'this analysis')
  const column = (name: MetricColumn): Float64Array =>
    name === 'predicted_clv' ? (scores as Float64Array) : c[name]
  const perArm = data.arms.map((name, a) => {
    const rows = rowsOfArm(data, a, metric, scores)
    const y = pick(column(metric.value), rows, binary)
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
        const adj = cupedAdjustByArm([
          { y: ctl.y, x: ctl.cov },
          { y: t.y, x: t.cov },
        ])
        const [thetaControl = 0, theta = 0] = adj.theta
        if (theta !== 0 || thetaControl !== 0) {
          const e = welchTTest(
            summarize(adj.adjusted[0] as Float64Array),
            summarize(adj.adjusted[1] as Float64Array),
            options.level,
          )
          const widthRaw = effect.ci[1] - effect.ci[0]
          const width = e.ci[1] - e.ci[0]
          cuped = {
            effect: e,
            theta,
            thetaControl,
            varianceReduction: adj.varianceReduction,
            widthRaw,
            width,
            narrowing: widthRaw > 0 ? 1 - width / widthRaw : NaN,
          }
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
    ...(clv !== undefined && scores !== null
      ? {
          clvRun: {
            runId: clv.runId,
            horizonMonths: clv.horizonMonths,
            calibrationEnd: clv.calibrationEnd,
            unscored: incomplete,
          },
        }
      : {}),
  }
}
