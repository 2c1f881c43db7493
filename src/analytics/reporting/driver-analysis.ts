/**
 * Driver analysis (seed 002, steps 3 and 6): which related metrics move with a core metric such as retention.
 * The metrics are computed by the engine for every group (period × dimension value, e.g. month × registration
 * cohort); across groups, each candidate gets Pearson's r with a confidence interval, and a multivariate linear
 * model on standardised values gives each its coefficient (importance net of the others) and the model's R².
 * @module
 */
import { InputError } from '../../core/errors.js'
import type { Driver } from '../../engine/drivers/driver.js'
import type { Grain } from '../../engine/dialects/dialect.js'
import type { MetricDef } from '../../engine/metrics/catalog.js'
import {
  addPeriods,
  getMetric,
  lastCompletePeriod,
  periodStart,
  runMetrics,
  type MetricRequest,
} from '../../engine/metrics/run.js'
import { correlationInterval, pearson, standardizedOls } from '../../models/correlation.js'

/** Periods analysed when the request names no first period. */
export const DEFAULT_PERIODS = 12

/** Candidates tried when none are named: rates and per-member figures that can drive loyalty. */
export const DEFAULT_CANDIDATES = [
  'engagement_rate',
  'aov',
  'purchase_conversion',
  'purchase_frequency',
  'visit_frequency',
  'page_views_per_active_member',
  'feedback_rate',
  'complaint_rate',
  'return_rate_amount',
  'stickiness',
] as const

export interface DriverRequest {
  readonly core: string
  readonly candidates?: readonly string[]
  /** First period (default: twelve periods before `to`). */
  readonly from?: string
  /** Last period, inclusive (default: the data's last complete period). */
  readonly to?: string
  readonly grain?: Grain
  /** Dimensions that make the groups (default: the registration cohort). */
  readonly by?: readonly string[]
  readonly where?: MetricRequest['where']
  readonly extraMetrics?: readonly MetricDef[]
}

export interface DriverRow {
  readonly metric: string
  readonly name: { readonly en: string; readonly zh: string }
  /** Pearson's r across the groups; null with fewer than 3 groups or when a series does not vary. */
  readonly r: number | null
  /** 95% confidence interval of r (Fisher's z); null with 4 groups or fewer. */
  readonly ci: readonly [number, number] | null
  /** Standardised coefficient in the joint model (0 when the metric did not vary). */
  readonly beta: number
  /** |beta| as a share of Σ|beta|. */
  readonly importance: number
}

export interface DriverResult {
  readonly core: string
  /** The periods analysed (first and last, YYYY-MM-DD); null when the database holds no activity. */
  readonly from: string | null
  readonly to: string | null
  /** Groups with a value for every metric. */
  readonly groups: number
  readonly r2: number | null
  readonly drivers: readonly DriverRow[]
}

export async function analyzeDrivers(
  driver: Driver,
  request: DriverRequest,
): Promise<DriverResult> {
  const extra = request.extraMetrics ?? []
  getMetric(request.core, extra)
  const candidates = (request.candidates ?? DEFAULT_CANDIDATES).filter((c) => c !== request.core)
  if (candidates.length === 0)
    throw InputError.single({ field: 'candidates', reason: 'name at least one related metric' })
  const grain = request.grain ?? 'month'
  const to = request.to ?? (await lastCompletePeriod(driver, grain))
  if (to === undefined) {
    const none = candidates.map((c) => ({
      metric: c,
      name: getMetric(c, extra).name,
      r: null,
      ci: null,
      beta: 0,
      importance: 0,
    }))
    return { core: request.core, from: null, to: null, groups: 0, r2: null, drivers: none }
  }
  const from = request.from ?? addPeriods(periodStart(to, grain), grain, -(DEFAULT_PERIODS - 1))
  const result = await runMetrics(driver, {
    metrics: [request.core, ...candidates],
    from,
    to,
    grain,
    by: request.by ?? ['cohort'],
    ...(request.where === undefined ? {} : { where: request.where }),
    extraMetrics: extra,
  })
  const complete = result.rows.filter((r) =>
    [request.core, ...candidates].every(
      (k) => r.values[k] !== null && Number.isFinite(r.values[k] as number),
    ),
  )
  const n = complete.length
  const y = Float64Array.from(complete, (r) => r.values[request.core] as number)
  const xs = candidates.map((c) => Float64Array.from(complete, (r) => r.values[c] as number))
  let beta: readonly number[] = candidates.map(() => 0)
  let r2: number | null = null
  if (n > candidates.length + 2) {
    try {
      const fit = standardizedOls(xs, y)
      beta = fit.beta
      r2 = fit.r2
    } catch (e) {
      if (!(e instanceof InputError)) throw e
    }
  }
  const total = beta.reduce((s, b) => s + Math.abs(b), 0)
  const drivers = candidates.map((c, j) => {
    const r = n >= 3 ? pearson(xs[j] as Float64Array, y) : Number.NaN
    const ci = correlationInterval(r, n)
    return {
      metric: c,
      name: getMetric(c, extra).name,
      r: Number.isFinite(r) ? r : null,
      ci: Number.isFinite(ci[0]) && Number.isFinite(ci[1]) ? ci : null,
      beta: beta[j] as number,
      importance: total > 0 ? Math.abs(beta[j] as number) / total : 0,
    }
  })
  drivers.sort((a, b) => Math.abs(b.r ?? 0) - Math.abs(a.r ?? 0))
  return { core: request.core, from: result.from, to: result.to, groups: n, r2, drivers }
}
