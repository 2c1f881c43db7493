/**
 * Covariates of the CLV purchase model: per-member covariates built in SQL (registration channel, region,
 * whether the first order used a coupon, dummy-coded against a named reference level) and the high-season
 * exposure of each member (time inside the 年货节/618/双11 windows and repeat purchases there), fitted with
 * BG/NBD with covariates (models/bg-nbd-covariates.ts). Definitions: docs/models.md#covariates.
 * @module
 */
import { nearest } from '../../core/did-you-mean.js'
import { InputError } from '../../core/errors.js'
import { addDays, highSeasonWindows, type HighSeasonWindow } from '../../calendar/index.js'
import type { Driver } from '../../engine/drivers/driver.js'
import { ident, join, sql, type Fragment } from '../../engine/sql/fragment.js'
import { fetchFloat64Columns } from '../../engine/summaries/columns.js'
import {
  countedAfterOrigin,
  originQuery,
  purchaseDays,
  repeatBuyingSummaries,
  type RepeatBuyingSummaries,
  type SummaryOptions,
} from '../../engine/summaries/repeat-buying.js'
import type { BgNbdParams } from '../../models/bg-nbd.js'
import {
  fitBgNbdCovariates,
  type CovariateEffect,
  type CovariateSummaries,
} from '../../models/bg-nbd-covariates.js'
import { fitParetoNbdCovariates } from '../../models/pareto-nbd-covariates.js'
import type { ParetoNbdParams } from '../../models/pareto-nbd.js'

/** The covariates a CLV fit can use. `season` is the time-varying high-season effect on the purchase rate. */
export const CLV_COVARIATES = ['channel', 'region', 'first_coupon', 'season'] as const
export type ClvCovariate = (typeof CLV_COVARIATES)[number]

/** The static, categorical ones and the member column each reads. */
const CATEGORICAL = {
  channel: sql`m.registration_channel`,
  region: sql`m.region`,
} as const
type Categorical = keyof typeof CATEGORICAL

/** At most this many levels of a categorical covariate get their own dummy; the rarer ones are pooled. */
export const MAX_LEVELS = 8
/** Levels held by fewer members than this are pooled into `other` too. */
export const MIN_LEVEL_MEMBERS = 30
/** Name of the level of members without a value. */
export const UNKNOWN_LEVEL = '(unknown)'
/** Name of the pooled level. */
export const OTHER_LEVEL = '(other)'

/**
 * Parses a comma-separated list of covariate names (`channel,region`). Throws InputError naming `option`
 * for an unknown, repeated or empty name.
 */
export function parseCovariates(value: string, option = '--covariates'): ClvCovariate[] {
  const names = value.split(',').map((s) => s.trim())
  const out: ClvCovariate[] = []
  for (const name of names) {
    if (!(CLV_COVARIATES as readonly string[]).includes(name)) {
      const hint = nearest(name, CLV_COVARIATES)
      throw InputError.single({
        field: option,
        value: name,
        reason: `unknown covariate${hint === undefined ? '' : ` (did you mean ${hint}?)`}; one of ${CLV_COVARIATES.join(', ')}`,
      })
    }
    if (out.includes(name as ClvCovariate)) {
      throw InputError.single({ field: option, value: name, reason: 'named twice' })
    }
    out.push(name as ClvCovariate)
  }
  return out
}

/** How a categorical covariate was coded. */
export interface CovariateCoding {
  readonly covariate: ClvCovariate
  /** The level every effect is relative to (the most common one; `no` for first_coupon). */
  readonly reference: string
  /** Levels with a dummy each, and how many members hold each level (reference included). */
  readonly levels: readonly { readonly level: string; readonly members: number }[]
}

/** The per-member covariate data of a CLV run, in the order of the summaries (member_id). */
export interface MemberCovariates {
  readonly summaries: RepeatBuyingSummaries
  readonly data: CovariateSummaries
  readonly coding: readonly CovariateCoding[]
  /** The high-season windows used (present with `season`). */
  readonly windows?: readonly HighSeasonWindow[]
}

/** Summary options: the calibration settings of a CLV fit. */
type Options = SummaryOptions & Required<Pick<SummaryOptions, 'calibrationEnd'>>

/** The member attributes of the static covariates, one row per summarised member, ordered by member_id. */
function attributesQuery(o: Options, names: readonly Categorical[], coupon: boolean): Fragment {
  const cal = o.calibrationEnd
  const origin = originQuery(o.origin ?? 'first-purchase', cal, o.timezone)
  const columns = names.map(
    (n) => sql`coalesce(nullif(trim(CAST(${CATEGORICAL[n]} AS VARCHAR)), ''), ${UNKNOWN_LEVEL}) AS ${ident(n)}`,
  )
  const couponColumn = coupon
    ? [sql`CASE WHEN f.coupon > 0 THEN 'yes' ELSE 'no' END AS first_coupon`]
    : []
  const firstOrders = sql`SELECT o.member_id, max(CASE WHEN coalesce(o.coupon_id, '') <> '' THEN 1 ELSE 0 END) AS coupon
    FROM orders o JOIN (SELECT member_id, min(ordered_at) AS first_at FROM orders
      WHERE status <> 'cancelled' AND member_id IS NOT NULL GROUP BY member_id) fo
      ON fo.member_id = o.member_id AND fo.first_at = o.ordered_at
    WHERE o.status <> 'cancelled'
    GROUP BY o.member_id`
  return sql`WITH days AS (${purchaseDays(cal, o.timezone, o.spend)}), origin AS (${origin}),
      first_orders AS (${firstOrders})
    SELECT g.member_id::DOUBLE AS member_id, ${join([...columns, ...couponColumn])}
    FROM origin g LEFT JOIN members m ON m.member_id = g.member_id
      LEFT JOIN first_orders f ON f.member_id = g.member_id
    ORDER BY g.member_id`
}

/**
 * Each summarised member's high-season data: repeat purchase days inside a window (x_in), and the time
 * inside windows from the origin to the calibration end (t_in) and to the last repeat purchase (tx_in),
 * in the summaries' unit. Exposure counts whole days: the days origin … calibration end − 1 are the
 * observation [0, T), as in the summaries.
 */
function seasonQuery(o: Options, windows: readonly HighSeasonWindow[]): Fragment {
  const cal = o.calibrationEnd
  const unitDays = (o.unit ?? 'week') === 'week' ? 7 : 1
  const origin = originQuery(o.origin ?? 'first-purchase', cal, o.timezone)
  const counted = sql`d.day <= CAST(${cal} AS DATE) AND ${countedAfterOrigin(o.origin ?? 'first-purchase')}`
  const values = join(
    windows.map((w) => sql`(CAST(${w.first} AS DATE), CAST(${addDays(w.last, 1)} AS DATE))`),
  )
  const overlap = (until: Fragment) =>
    sql`greatest(0, date_diff('day', greatest(w.first_day, p.origin), least(w.end_day, ${until})))`
  return sql`WITH days AS (${purchaseDays(cal, o.timezone, o.spend)}), origin AS (${origin}),
      win(first_day, end_day) AS (VALUES ${values}),
      marked AS (SELECT d.member_id, d.day,
          max(CASE WHEN d.day >= w.first_day AND d.day < w.end_day THEN 1 ELSE 0 END) AS in_season
        FROM days d CROSS JOIN win w GROUP BY d.member_id, d.day),
      per AS (SELECT g.member_id, g.origin,
          coalesce(max(d.day) FILTER (WHERE ${counted}), g.origin) AS last_day,
          count(d.day) FILTER (WHERE ${counted} AND d.in_season = 1) AS x_in
        FROM origin g LEFT JOIN marked d ON d.member_id = g.member_id AND d.day >= g.origin
        GROUP BY g.member_id, g.origin)
    SELECT p.member_id::DOUBLE AS member_id, max(p.x_in)::DOUBLE AS x_in,
      sum(${overlap(sql`CAST(${cal} AS DATE)`)})::DOUBLE / ${unitDays} AS t_in,
      sum(${overlap(sql`p.last_day`)})::DOUBLE / ${unitDays} AS tx_in
    FROM per p CROSS JOIN win w
    GROUP BY p.member_id
    ORDER BY p.member_id`
}

function sameMembers(a: Float64Array, b: Float64Array, what: string): void {
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
    throw new Error(`the ${what} query returned other members than the summaries (${a.length} vs ${b.length})`)
  }
}

/**
 * The summaries of a CLV fit and each member's covariates: categorical covariates dummy-coded against
 * their most common level (at most {@link MAX_LEVELS} levels; rarer ones, and levels of fewer than
 * {@link MIN_LEVEL_MEMBERS} members, pooled as `(other)`), first_coupon as yes against no, and with `season`
 * the high-season data of each member.
 */
export async function memberCovariates(
  driver: Driver,
  options: Options,
  covariates: readonly ClvCovariate[],
): Promise<MemberCovariates> {
  const summaries = await repeatBuyingSummaries(driver, options)
  const n = summaries.x.length
  const categorical = covariates.filter((c): c is Categorical => c in CATEGORICAL)
  const coupon = covariates.includes('first_coupon')
  const coding: CovariateCoding[] = []
  const names: string[] = []
  const columns: Float64Array[] = []
  if (categorical.length > 0 || coupon) {
    const rows = await driver.all<Record<string, unknown>>(attributesQuery(options, categorical, coupon))
    sameMembers(
      Float64Array.from(rows, (r) => Number(r.memberId ?? r.member_id)),
      summaries.memberId,
      'covariate',
    )
    const keyOf = (c: string) => (c === 'first_coupon' ? (['firstCoupon', 'first_coupon'] as const) : ([c, c] as const))
    for (const c of [...categorical, ...(coupon ? (['first_coupon'] as const) : [])]) {
      const [camel, snake] = keyOf(c)
      const values = rows.map((r) => String(r[camel] ?? r[snake]))
      const counts = new Map<string, number>()
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
      let levels = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      if (c === 'first_coupon') {
        levels = [
          ['no', counts.get('no') ?? 0],
          ['yes', counts.get('yes') ?? 0],
        ]
      } else {
        // The most common level is always kept: it is the reference.
        const kept = levels.filter(
          ([, m], i) => i === 0 || (i < MAX_LEVELS - 1 && m >= MIN_LEVEL_MEMBERS),
        )
        const pooled = levels.filter((l) => !kept.includes(l))
        if (pooled.length > 0) {
          const m = pooled.reduce((s, [, v]) => s + v, 0)
          const pooledSet = new Set(pooled.map(([l]) => l))
          values.forEach((v, i) => {
            if (pooledSet.has(v)) values[i] = OTHER_LEVEL
          })
          levels = [...kept, [OTHER_LEVEL, m]]
        }
      }
      const [reference] = levels[0] as [string, number]
      const dummies = levels.slice(1).filter(([, m]) => m > 0)
      if (dummies.length === 0) {
        throw InputError.single({
          field: '--covariates',
          value: c,
          reason: `every member has the same ${c} (${reference}): it has no effect to estimate`,
        })
      }
      coding.push({ covariate: c, reference, levels: levels.map(([level, members]) => ({ level, members })) })
      for (const [level] of dummies) {
        names.push(`${c}=${level}`)
        columns.push(Float64Array.from(values, (v) => (v === level ? 1 : 0)))
      }
    }
  }
  const k = names.length
  const z = new Float64Array(n * k)
  columns.forEach((col, j) => {
    for (let i = 0; i < n; i++) z[i * k + j] = col[i] as number
  })
  let season: CovariateSummaries['season']
  let windows: HighSeasonWindow[] | undefined
  if (covariates.includes('season')) {
    const first = await driver.first<{ day: string | null }>(
      sql`WITH days AS (${purchaseDays(options.calibrationEnd, options.timezone, options.spend)}),
        origin AS (${originQuery(options.origin ?? 'first-purchase', options.calibrationEnd, options.timezone)})
        SELECT CAST(min(origin) AS VARCHAR) AS day FROM origin`,
    )
    windows = highSeasonWindows(first?.day ?? options.calibrationEnd, options.calibrationEnd)
    if (windows.length === 0) {
      throw InputError.single({
        field: '--covariates',
        value: 'season',
        reason: `no 年货节, 618 or 双11 window falls in the calibration period (to ${options.calibrationEnd})`,
      })
    }
    const c = await fetchFloat64Columns(driver, seasonQuery(options, windows), [
      'member_id',
      'x_in',
      't_in',
      'tx_in',
    ])
    sameMembers(c.member_id, summaries.memberId, 'season')
    season = { xIn: c.x_in, TIn: c.t_in, txIn: c.tx_in }
  }
  return {
    summaries,
    data: {
      x: summaries.x,
      tx: summaries.tx,
      T: summaries.T,
      z,
      covariateNames: names,
      ...(season === undefined ? {} : { season }),
    },
    coding,
    ...(windows === undefined ? {} : { windows }),
  }
}

/** The covariate part of a CLV fit, as reports show it. */
export interface ClvCovariateReport {
  /** The repeat-buying model the covariates were fitted on. */
  readonly model: 'bg-nbd' | 'pareto-nbd'
  readonly covariates: readonly ClvCovariate[]
  readonly coding: readonly CovariateCoding[]
  readonly windows: readonly HighSeasonWindow[] | null
  /** Base parameters (a member at every reference level, outside the windows). */
  readonly params: BgNbdParams | ParetoNbdParams
  readonly baseStandardErrors: Readonly<Record<string, number>>
  readonly effects: readonly CovariateEffect[]
  readonly logLikelihood: number
  readonly baseline: {
    readonly params: BgNbdParams | ParetoNbdParams
    readonly logLikelihood: number
  }
  readonly lrt: { readonly statistic: number; readonly df: number; readonly pValue: number }
  readonly aic: number
  readonly bic: number
  readonly confidenceLevel: number
  readonly members: number
}

/**
 * Fits the covariates on the summaries of a CLV fit: BG/NBD with covariates (static and `season`), or with
 * `model: 'pareto-nbd'` Pareto/NBD with static covariates. `baseline`, when given, is the plain model's fit of
 * the same summaries (the start and the likelihood-ratio test's null model).
 */
export async function clvCovariateFit(
  driver: Driver,
  options: Options,
  covariates: readonly ClvCovariate[],
  baseline?:
    | { readonly model: 'bg-nbd'; readonly params: BgNbdParams; readonly logLikelihood: number }
    | { readonly model: 'pareto-nbd'; readonly params: ParetoNbdParams; readonly logLikelihood: number },
  model: 'bg-nbd' | 'pareto-nbd' = baseline?.model ?? 'bg-nbd',
): Promise<ClvCovariateReport> {
  if (covariates.length === 0) {
    throw InputError.single({ field: '--covariates', value: '', reason: 'name at least one covariate' })
  }
  if (model === 'pareto-nbd' && covariates.includes('season')) {
    throw InputError.single({
      field: '--covariates',
      value: 'season',
      reason: 'the seasonal effect is fitted with BG/NBD only (--model bg-nbd)',
    })
  }
  const m = await memberCovariates(driver, options, covariates)
  const fit =
    model === 'pareto-nbd'
      ? fitParetoNbdCovariates(
          m.data,
          baseline?.model === 'pareto-nbd' ? { baseline } : {},
        )
      : fitBgNbdCovariates(m.data, baseline?.model === 'bg-nbd' ? { baseline } : {})
  return {
    model,
    covariates,
    coding: m.coding,
    windows: m.windows ?? null,
    params: fit.params,
    baseStandardErrors: fit.baseStandardErrors,
    effects: fit.effects,
    logLikelihood: fit.logLikelihood,
    baseline: fit.baseline,
    lrt: fit.lrt,
    aic: fit.aic,
    bic: fit.bic,
    confidenceLevel: fit.confidenceLevel,
    members: fit.members,
  }
}
