/**
 * A/B experiment analysis on member metrics (DOMAIN §6, issue 8): for an experiment in the `experiments`
 * table with any number of variants, the goal metric and guardrail metrics per arm, each variant against
 * the control with CUPED and Holm's correction, and the sample-ratio-mismatch check; and the planning
 * calculator (sample size, MDE, duration) from a metric's observed baseline and variance.
 * @module
 */
import { InputError, NotFoundError } from '../../core/errors.js'
import {
  experimentUnits,
  listExperimentRows,
  type ExperimentListing,
} from '../../duckdb/experiments/experiment-units.js'
import {
  memberClvScores,
  memberOutcomes,
  type MemberOutcomes,
  type OutcomeWindows,
} from '../../duckdb/experiments/member-outcomes.js'
import { getRun } from '../clv/store.js'
import {
  activeMemberUnits,
  lastActivity,
  newMemberUnits,
} from '../../duckdb/experiments/planning-units.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { cupedAdjust } from '../../models/stats/cuped.js'
import { ratioSummary } from '../../models/stats/delta-method.js'
import {
  durationDays,
  mdeMeans,
  mdeProportions,
  sampleSizeMeans,
  sampleSizeProportions,
} from '../../models/stats/power.js'
import { srmTest, type SrmResult } from '../../models/stats/srm.js'
import { summarize } from '../../models/stats/summary.js'
import {
  analyseMetric,
  EXPERIMENT_METRICS,
  needsClvScores,
  outcomeColumnOf,
  type ClvScores,
  type ExperimentMetricId,
  type MetricResult,
} from './metrics.js'

export { EXPERIMENT_METRICS, EXPERIMENT_METRIC_IDS } from './metrics.js'
export type { ExperimentMetricId, MetricResult } from './metrics.js'

/** Every experiment with its variants and sizes. */
export async function listExperiments(driver: DuckDbDriver): Promise<ExperimentListing[]> {
  return listExperimentRows(driver)
}

/** Options of {@link experimentReport}. */
export interface ExperimentReportOptions {
  /** Goal metric. Default `conversion`. */
  readonly metric?: ExperimentMetricId
  /** Guardrails reported next to the goal. Default complaint_rate, return_rate. */
  readonly guardrails?: readonly ExperimentMetricId[]
  /** Control variant. Default `control` when present, else the first variant alphabetically. */
  readonly control?: string
  /** Outcome window W in days after assignment. Default 30. */
  readonly windowDays?: number
  /** Pre-period P in days before assignment (CUPED covariate). Default = W. */
  readonly preDays?: number
  /** Retention window [a, b) in days after assignment. Default [W, 2W). */
  readonly retentionFromDays?: number
  readonly retentionToDays?: number
  /** Confidence level. Default 0.95. */
  readonly level?: number
  /** Apply CUPED. Default true. */
  readonly cuped?: boolean
  /** Intended allocation weights in variant order (alphabetical) for the SRM check. Default equal. */
  readonly weights?: readonly number[]
}

/** The report of one experiment. */
export interface ExperimentReport {
  readonly experimentId: string
  readonly control: string
  readonly variants: readonly { readonly variant: string; readonly members: number }[]
  readonly windows: OutcomeWindows
  readonly level: number
  readonly dataEnd: string | null
  /** SRM check on all assigned members (before any window filter). */
  readonly srm: SrmResult
  readonly goal: MetricResult
  readonly guardrails: readonly MetricResult[]
  /** Plain-language reading of the result. */
  readonly verdict: string
}

/** Fills the window defaults and checks them. */
export function resolveWindows(o: {
  windowDays?: number
  preDays?: number
  retentionFromDays?: number
  retentionToDays?: number
}): OutcomeWindows {
  const W = o.windowDays ?? 30
  return {
    windowDays: W,
    preDays: o.preDays ?? W,
    retentionFromDays: o.retentionFromDays ?? W,
    retentionToDays: o.retentionToDays ?? 2 * W,
  }
}

/**
 * Analyses experiment `experimentId`.
 * @throws NotFoundError when the experiment has no assignments; InputError for an unknown control.
 * @example
 * const r = await experimentReport(db.driver, 'new_member_first_order_coupon_2026-08', { metric: 'conversion' })
 * r.goal.comparisons[0]?.effect.ci // CI of treatment − control in conversion
 */
export async function experimentReport(
  driver: DuckDbDriver,
  experimentId: string,
  options: ExperimentReportOptions = {},
): Promise<ExperimentReport> {
  const windows = resolveWindows(options)
  const level = options.level ?? 0.95
  const data = await memberOutcomes(driver, experimentUnits(experimentId), windows)
  if (data.arms.length === 0)
    throw new NotFoundError(`experiment ${experimentId} has no assignments`)
  const control =
    options.control ?? (data.arms.includes('control') ? 'control' : (data.arms[0] as string))
  const controlArm = data.arms.indexOf(control)
  if (controlArm < 0) {
    throw InputError.single({
      field: 'control',
      value: control,
      reason: `not a variant of ${experimentId} (${data.arms.join(', ')})`,
    })
  }
  const counts = data.arms.map(() => 0)
  for (const a of data.columns.arm) counts[a] = (counts[a] ?? 0) + 1
  if (options.weights && options.weights.length !== counts.length) {
    throw InputError.single({
      field: 'weights',
      reason: `expected ${counts.length} weights (one per variant: ${data.arms.join(', ')})`,
    })
  }
  const srm = srmTest(counts, options.weights ?? counts.map(() => 1))
  const alpha = 1 - level
  const goalId = options.metric ?? 'conversion'
  const guardrailIds = (options.guardrails ?? ['complaint_rate', 'return_rate']).filter(
    (g) => g !== goalId,
  )
  const clv = [goalId, ...guardrailIds].some(needsClvScores)
    ? await latestClvScores(driver, data)
    : undefined
  const analyse = (m: ExperimentMetricId) =>
    analyseMetric(data, m, controlArm, { level, cuped: options.cuped ?? true, alpha }, clv)
  const goal = analyse(goalId)
  const guardrails = guardrailIds.map(analyse)
  return {
    experimentId,
    control,
    variants: data.arms.map((variant, a) => ({ variant, members: counts[a] ?? 0 })),
    windows,
    level,
    dataEnd: data.dataEnd,
    srm,
    goal,
    guardrails,
    verdict: verdict(srm, goal, guardrails),
  }
}

/** The latest CLV run's scores for the members of `data` (predicted_clv). */
async function latestClvScores(driver: DuckDbDriver, data: MemberOutcomes): Promise<ClvScores> {
  let run
  try {
    run = await getRun(driver, 'clv')
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error
    throw new NotFoundError(
      'metric predicted_clv reads each member’s predicted CLV from the latest CLV run, and the database has none: run `memberlens clv fit` first',
    )
  }
  const o = (run.options ?? {}) as { horizonMonths?: unknown; calibrationEnd?: unknown }
  return {
    runId: run.runId,
    horizonMonths: typeof o.horizonMonths === 'number' ? o.horizonMonths : null,
    calibrationEnd: typeof o.calibrationEnd === 'string' ? o.calibrationEnd : null,
    values: await memberClvScores(driver, run.runId, data.columns.member_id),
  }
}

function verdict(srm: SrmResult, goal: MetricResult, guardrails: readonly MetricResult[]): string {
  if (srm.mismatch) {
    return `sample-ratio mismatch (p = ${srm.pValue.toExponential(2)}): the assignment is broken; do not trust the effects`
  }
  const parts = goal.comparisons.map((c) => {
    const dir = c.effect.difference > 0 ? 'raises' : 'lowers'
    const good = goal.higherIsBetter === c.effect.difference > 0
    return c.significant
      ? `${c.arm} ${dir} ${goal.metric} (${good ? 'a win' : 'a loss'}, Holm p = ${c.pAdjusted.toPrecision(2)})`
      : `${c.arm}: no significant change in ${goal.metric} (Holm p = ${c.pAdjusted.toPrecision(2)})`
  })
  const harms = guardrails.flatMap((g) =>
    g.comparisons.filter((c) => c.harmful).map((c) => `${c.arm} worsens guardrail ${g.metric}`),
  )
  return [...parts, ...harms].join('; ')
}

/** Options of {@link planExperiment}. */
export interface PlanOptions {
  readonly metric?: ExperimentMetricId
  /** Where baseline and variance come from. Default `new-members`. */
  readonly population?: 'new-members' | 'active-members' | 'experiment'
  /** With population `experiment`: the experiment whose control arm is the baseline. */
  readonly experimentId?: string
  /** Days of recent registrations (new-members) or activity (active-members) to read. Default 90. */
  readonly lookbackDays?: number
  readonly windowDays?: number
  readonly preDays?: number
  /** Relative effect to detect (0.05 = +5 %). Default 0.05. */
  readonly relativeMde?: number
  readonly alpha?: number
  readonly power?: number
  /** Number of arms including the control. Default 2. Alpha is split Bonferroni-style over arms − 1. */
  readonly arms?: number
  /** Use the CUPED variance reduction seen in the data. Default true. */
  readonly cuped?: boolean
}

/** A planning result. */
export interface ExperimentPlan {
  readonly metric: ExperimentMetricId
  readonly population: string
  readonly members: number
  /** Baseline proportion / mean / ratio. */
  readonly baseline: number
  /** Per-member standard deviation (for ratios: the delta-method sd, √(n·Var R)). */
  readonly sd: number
  /** ρ² between the metric and its pre-period value: the variance CUPED removes. */
  readonly varianceReduction: number
  readonly alpha: number
  readonly power: number
  readonly arms: number
  readonly relativeMde: number
  readonly absoluteMde: number
  /** Members per arm for `relativeMde`, without and with CUPED. */
  readonly perArm: number
  readonly perArmWithCuped: number
  /** New eligible members a day (new-members population), else null. */
  readonly eligiblePerDay: number | null
  /** Enrolment days + the outcome window, without and with CUPED; null when enrolment is not daily. */
  readonly durationDays: number | null
  readonly durationDaysWithCuped: number | null
  /** MDE (absolute) if every available member were enrolled, split over the arms. */
  readonly mdeWithAvailable: number
  readonly windowDays: number
}

/**
 * Sample size, MDE and duration for an experiment on `metric`, from its observed baseline and variance:
 * proportions with Fleiss' formula, means and ratios with the normal-approximation formula on the
 * per-member standard deviation (ratio metrics use the delta-method variance scaled to one member).
 */
export async function planExperiment(
  driver: DuckDbDriver,
  options: PlanOptions = {},
): Promise<ExperimentPlan> {
  const metricId = options.metric ?? 'conversion'
  const metric = EXPERIMENT_METRICS[metricId]
  const value = outcomeColumnOf(metricId, 'planning')
  const windows = resolveWindows(options)
  const lookback = options.lookbackDays ?? 90
  const population = options.population ?? 'new-members'
  const end = await lastActivity(driver)
  if (end === null) throw new NotFoundError('the database has no orders or events')
  const endMs = Date.parse(end)
  const iso = (ms: number) => new Date(ms).toISOString()
  const reachDays = Math.max(windows.windowDays, windows.retentionToDays)
  let units
  let eligiblePerDay: number | null = null
  if (population === 'experiment') {
    if (options.experimentId === undefined) {
      throw InputError.single({
        field: 'experiment',
        reason: 'population experiment needs an experiment id',
      })
    }
    units = experimentUnits(options.experimentId)
  } else if (population === 'new-members') {
    const to = endMs - reachDays * 86_400_000
    units = newMemberUnits(iso(to - lookback * 86_400_000), iso(to))
  } else {
    units = activeMemberUnits(iso(endMs - reachDays * 86_400_000), lookback)
  }
  const data = await memberOutcomes(driver, units, windows)
  const c = data.columns
  const controlArm = population === 'experiment' ? Math.max(0, data.arms.indexOf('control')) : 0
  const flag = metric.window === 'post' ? c.complete_post : c.complete_retention
  const rows: number[] = []
  for (let i = 0; i < c.arm.length; i++) if (c.arm[i] === controlArm && flag[i] === 1) rows.push(i)
  if (rows.length < 10) {
    throw new NotFoundError(
      `too few members (${rows.length}) in the ${population} population to plan from`,
    )
  }
  if (population === 'new-members') eligiblePerDay = rows.length / lookback
  const binary = metric.kind === 'proportion'
  const col = (name: keyof typeof c) =>
    Float64Array.from(rows, (r) => {
      const v = c[name][r] as number
      return binary ? (v > 0 ? 1 : 0) : v
    })
  const y = col(value)
  let baseline: number
  let sd: number
  if (metric.kind === 'ratio') {
    const den = Float64Array.from(rows, (r) => c[metric.denominator][r] as number)
    const r = ratioSummary(y, den)
    baseline = r.ratio
    sd = Math.sqrt(r.variance * r.n)
  } else {
    const s = summarize(y)
    baseline = s.mean
    sd = Math.sqrt(s.variance)
  }
  const useCuped = options.cuped ?? true
  const vr =
    useCuped && 'covariate' in metric
      ? Math.min(0.99, cupedAdjust(y, col(metric.covariate)).varianceReduction)
      : 0
  const arms = options.arms ?? 2
  const alpha = (options.alpha ?? 0.05) / Math.max(1, arms - 1)
  const power = options.power ?? 0.8
  const rel = options.relativeMde ?? 0.05
  const delta = baseline * rel
  const settings = { alpha, power }
  let perArm: number
  let perArmCuped: number
  let mdeAvail: number
  const available = Math.floor(rows.length / arms)
  if (metric.kind === 'proportion') {
    if (!(baseline > 0 && baseline < 1) || !(baseline + delta < 1)) {
      throw new InputError(`cannot plan on a baseline proportion of ${baseline}`)
    }
    perArm = sampleSizeProportions(baseline, baseline + delta, settings)
    perArmCuped = sampleSizeProportions(baseline, baseline + delta, {
      ...settings,
      varianceReduction: vr,
    })
    mdeAvail = mdeProportions(baseline, available, settings)
  } else {
    if (!(sd > 0) || !(Math.abs(delta) > 0))
      throw new InputError('the metric has no variance or a zero baseline')
    perArm = sampleSizeMeans(sd, delta, settings)
    perArmCuped = sampleSizeMeans(sd, delta, { ...settings, varianceReduction: vr })
    mdeAvail = mdeMeans(sd, available, settings)
  }
  const dur = (n: number) =>
    eligiblePerDay === null ? null : durationDays(n, arms, eligiblePerDay) + windows.windowDays
  return {
    metric: metricId,
    population:
      population === 'experiment' ? `experiment ${options.experimentId} (control)` : population,
    members: rows.length,
    baseline,
    sd,
    varianceReduction: vr,
    alpha,
    power,
    arms,
    relativeMde: rel,
    absoluteMde: delta,
    perArm,
    perArmWithCuped: perArmCuped,
    eligiblePerDay,
    durationDays: dur(perArm),
    durationDaysWithCuped: dur(perArmCuped),
    mdeWithAvailable: mdeAvail,
    windowDays: windows.windowDays,
  }
}
