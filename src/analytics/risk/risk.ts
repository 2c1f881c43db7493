/**
 * Churn-risk scoring: an L2 logistic regression on the members' own history with time-split labels
 * (churned = no purchase in the H days after the cutoff), evaluated on a later period against a
 * recency-only baseline; scores with reason codes, early-warning signals, churn class and playbook.
 *
 * Time split, with E the last purchase day in the data: the model is trained on features at
 * c₁ = E − 2H with labels from (c₁, c₁ + H], and evaluated on features at c₂ = E − H with labels from
 * (c₂, E], a period it never saw. Scoring uses features at E.
 * @module
 */
import type { Clock } from '../../core/clock.js'
import { InputError, NotFoundError } from '../../core/errors.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { sql } from '../../engine/sql/fragment.js'
import { churnFeatures, type ChurnFeatureTable } from '../../duckdb/summaries/churn-features.js'
import { lastPurchaseDay, repeatBuyingSummaries } from '../../engine/summaries/repeat-buying.js'
import { fitBgNbd, probabilityAliveMany, type BgNbdParams } from '../../models/bg-nbd.js'
import {
  calibrationByDecile,
  rocAuc,
  topDecileLift,
  type DecileRow,
} from '../../models/classification-metrics.js'
import {
  fitLogisticRegression,
  logisticContributions,
  predictLogistic,
  type LogisticModel,
} from '../../models/logistic-regression.js'
import { quantiles } from '../clv/models.js'
import { ensureScoreTables, getRun, latestRunId, newRunId, saveRun } from '../clv/store.js'
import { expiringPoints } from './points-signals.js'
import { DEFAULT_TIME_ZONE } from '../../core/time-zone.js'
import { downgradeDueDays } from './tier-signals.js'
import {
  churnClass,
  earlyWarningSignals,
  historicalValue,
  PLAYBOOKS,
  type ChurnClass,
  type EarlyWarningConfig,
  type Signal,
} from './early-warning.js'

/** Model features and the reason code each one stands for when it raises the risk. */
export const RISK_FEATURES = {
  recency_ratio: 'purchase_gap_past_cadence',
  log_recency: 'long_since_last_purchase',
  frequency_trend: 'falling_purchase_frequency',
  log_frequency: 'few_purchases',
  aov_ratio: 'aov_below_baseline',
  session_trend: 'fading_sessions',
  page_view_trend: 'fading_page_views',
  log_sessions_30: 'few_recent_sessions',
  log_days_since_login: 'no_recent_login',
  complaints_90: 'complaints',
  returns_90: 'returns',
  negative_reviews_90: 'negative_reviews',
  last_nps: 'low_nps',
  nps_missing: 'no_nps_answer',
  p_alive: 'low_p_alive',
  coupon_share: 'coupon_driven',
} as const
export type RiskFeature = keyof typeof RISK_FEATURES
const FEATURE_NAMES = Object.keys(RISK_FEATURES) as RiskFeature[]

/** Options of {@link trainRiskModel}. */
export interface RiskTrainOptions {
  /** Label horizon H in days. Default 90. */
  readonly horizonDays?: number
  /** Last day of data E (YYYY-MM-DD). Default: the last purchase day. */
  readonly asOf?: string
  /** L2 penalty. Default 1e-3. */
  readonly l2?: number
}

/** Evaluation of one score on the later period. */
export interface ScoreEvaluation {
  readonly auc: number
  readonly topDecileLift: number
  readonly calibration: readonly DecileRow[]
}

/** What a training run stores and returns. */
export interface RiskTrainReport {
  readonly runId: string
  readonly horizonDays: number
  readonly trainCutoff: string
  readonly evaluationCutoff: string
  readonly asOf: string
  readonly trainMembers: number
  readonly trainChurnRate: number
  readonly evaluationMembers: number
  readonly evaluationChurnRate: number
  readonly model: LogisticModel
  readonly evaluation: {
    readonly model: ScoreEvaluation
    readonly recencyBaseline: ScoreEvaluation
  }
}

const DAY_MS = 86_400_000

function shiftDay(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10)
}

/** BG/NBD P(alive) at a cutoff for the members of `f` (first-purchase origin, weeks), NaN where unknown. */
export async function pAliveAt(
  driver: DuckDbDriver,
  cutoff: string,
  memberId: Float64Array,
  params?: BgNbdParams,
): Promise<{ pAlive: Float64Array; params: BgNbdParams }> {
  const s = await repeatBuyingSummaries(driver, { calibrationEnd: cutoff })
  const fitted = params ?? fitBgNbd(s.x, s.tx, s.T).params
  const pa = probabilityAliveMany(fitted, s.x, s.tx, s.T)
  const out = new Float64Array(memberId.length).fill(NaN)
  // Both lists are ordered by member_id: merge.
  let j = 0
  for (let i = 0; i < memberId.length; i++) {
    const id = memberId[i] as number
    while (j < s.memberId.length && (s.memberId[j] as number) < id) j++
    if (j < s.memberId.length && s.memberId[j] === id) out[i] = pa[j] as number
  }
  return { pAlive: out, params: fitted }
}

/** Turns the raw features into the model matrix (row-major, {@link RISK_FEATURES} order), imputing gaps. */
export function featureMatrix(f: ChurnFeatureTable, pAlive: Float64Array): Float64Array {
  const n = f.member_id.length
  const p = FEATURE_NAMES.length
  const X = new Float64Array(n * p)
  // Members with a single purchase day have no cadence: use the median cadence of those who have one.
  const cadences = f.cadence_days.filter((v) => Number.isFinite(v))
  const medianCadence = cadences.length > 0 ? (quantiles(cadences, [0.5])[0] as number) : 30
  const npsValues = f.last_nps.filter((v) => Number.isFinite(v))
  const meanNps = npsValues.length > 0 ? npsValues.reduce((a, b) => a + b, 0) / npsValues.length : 7
  for (let i = 0; i < n; i++) {
    const recency = f.recency_days[i] as number
    const cadence = Number.isFinite(f.cadence_days[i])
      ? (f.cadence_days[i] as number)
      : medianCadence
    const aovRatio =
      Number.isFinite(f.aov_90[i]) &&
      Number.isFinite(f.aov_baseline[i]) &&
      (f.aov_baseline[i] as number) > 0
        ? Math.min(5, (f.aov_90[i] as number) / (f.aov_baseline[i] as number))
        : 1
    const login = Number.isFinite(f.days_since_login[i])
      ? (f.days_since_login[i] as number)
      : (f.tenure_days[i] as number)
    const nps = f.last_nps[i] as number
    const row: Record<RiskFeature, number> = {
      recency_ratio: Math.min(50, recency / Math.max(1, cadence)),
      log_recency: Math.log1p(recency),
      frequency_trend: Math.log(
        ((f.purchases_90[i] as number) + 1) / ((f.purchases_prev_90[i] as number) + 1),
      ),
      log_frequency: Math.log1p(f.purchase_days[i] as number),
      aov_ratio: aovRatio,
      session_trend: Math.log(
        ((f.sessions_30[i] as number) + 1) / ((f.sessions_prev_60[i] as number) / 2 + 1),
      ),
      page_view_trend: Math.log(
        ((f.page_views_30[i] as number) + 1) / ((f.page_views_prev_60[i] as number) / 2 + 1),
      ),
      log_sessions_30: Math.log1p(f.sessions_30[i] as number),
      log_days_since_login: Math.log1p(Math.max(0, login)),
      complaints_90: f.complaints_90[i] as number,
      returns_90: f.returns_90[i] as number,
      negative_reviews_90: f.negative_reviews_90[i] as number,
      last_nps: Number.isFinite(nps) ? nps : meanNps,
      nps_missing: Number.isFinite(nps) ? 0 : 1,
      p_alive: Number.isFinite(pAlive[i]) ? (pAlive[i] as number) : 1,
      coupon_share: Number.isFinite(f.coupon_share[i]) ? (f.coupon_share[i] as number) : 0,
    }
    for (let j = 0; j < p; j++) X[i * p + j] = row[FEATURE_NAMES[j] as RiskFeature]
  }
  return X
}

function evaluate(scores: Float64Array, labels: Float64Array): ScoreEvaluation {
  return {
    auc: rocAuc(scores, labels),
    topDecileLift: topDecileLift(scores, labels),
    calibration: calibrationByDecile(scores, labels),
  }
}

function mean(a: Float64Array): number {
  let s = 0
  for (const v of a) s += v
  return s / a.length
}

/**
 * Trains the risk model on c₁ = E − 2H, evaluates it and the recency-only baseline on c₂ = E − H, and
 * stores the model as a `risk` run.
 */
export async function trainRiskModel(
  driver: DuckDbDriver,
  options: RiskTrainOptions,
  clock: Clock,
): Promise<RiskTrainReport> {
  const H = options.horizonDays ?? 90
  if (!(Number.isInteger(H) && H >= 7 && H <= 730)) {
    throw InputError.single({ field: 'horizon', value: String(H), reason: 'whole days, 7–730' })
  }
  const asOf = options.asOf ?? (await lastPurchaseDay(driver))
  if (asOf === null) throw new InputError('no purchases in the database: load orders first')
  const c2 = shiftDay(asOf, -H)
  const c1 = shiftDay(asOf, -2 * H)
  const train = await churnFeatures(driver, c1, H)
  if (train.member_id.length < 20) {
    throw new InputError(
      `only ${train.member_id.length} members had bought by ${c1} (E − 2H): too few to train; shorten --horizon or load more history`,
    )
  }
  const trainPa = await pAliveAt(driver, c1, train.member_id)
  const model = fitLogisticRegression(
    featureMatrix(train, trainPa.pAlive),
    train.churned,
    FEATURE_NAMES,
    {
      ...(options.l2 === undefined ? {} : { l2: options.l2 }),
    },
  )
  const test = await churnFeatures(driver, c2, H)
  const testPa = await pAliveAt(driver, c2, test.member_id)
  const scores = predictLogistic(model, featureMatrix(test, testPa.pAlive))
  const report: Omit<RiskTrainReport, 'runId'> = {
    horizonDays: H,
    trainCutoff: c1,
    evaluationCutoff: c2,
    asOf,
    trainMembers: train.member_id.length,
    trainChurnRate: mean(train.churned),
    evaluationMembers: test.member_id.length,
    evaluationChurnRate: mean(test.churned),
    model,
    evaluation: {
      model: evaluate(scores, test.churned),
      recencyBaseline: evaluate(test.recency_days, test.churned),
    },
  }
  await ensureScoreTables(driver)
  const runId = await newRunId(driver, 'risk', clock)
  await saveRun(
    driver,
    {
      runId,
      kind: 'risk',
      createdAt: clock.now(),
      options: { horizonDays: H, asOf, l2: model.l2 },
      params: model,
      logLikelihood: -model.logLoss * train.member_id.length,
      report: { ...report, runId },
    },
    null,
  )
  return { ...report, runId }
}

/** One scored member. */
export interface RiskScore {
  readonly memberId: number
  readonly score: number
  /** Top reason codes (features raising the risk most, against an average member). */
  readonly reasons: readonly string[]
  readonly signals: readonly Signal[]
  /** The figures behind the signals that carry them (stored as JSON in `risk_scores.signal_details`). */
  readonly signalDetails: SignalDetails
  readonly churnClass: ChurnClass
  readonly playbook: string
  readonly pAlive: number
  readonly historicalValue: number
}

/** `points_expiring`: the points expiring within the window and the earliest expiry (ISO, UTC). */
export interface SignalDetails {
  readonly points_expiring?: { readonly points: number; readonly firstExpiresAt: string }
}

/** Options of {@link scoreRisk}. */
export interface RiskScoreOptions {
  readonly runId?: string
  /** Scoring day. Default: the last purchase day. */
  readonly asOf?: string
  readonly earlyWarning: EarlyWarningConfig
  /** Reason codes per member. Default 3. */
  readonly reasons?: number
  /**
   * The project time zone: the scoring day ends at the start of the next day in it, and the loyalty warnings
   * (points expiring, downgrade due) count their windows from there. Default {@link DEFAULT_TIME_ZONE}.
   */
  readonly timeZone?: string
}

/**
 * Scores every member with the stored model at `asOf`, with reason codes, early-warning signals, churn
 * class and playbook; writes `risk_scores` under a new `risk-score` run and returns the scores.
 */
export async function scoreRisk(
  driver: DuckDbDriver,
  options: RiskScoreOptions,
  clock: Clock,
): Promise<{ runId: string; modelRunId: string; asOf: string; scores: RiskScore[] }> {
  const run = await getRun(driver, 'risk', options.runId)
  const model = run.params as LogisticModel
  const asOf = options.asOf ?? (await lastPurchaseDay(driver))
  if (asOf === null) throw new InputError('no purchases in the database: load orders first')
  const f = await churnFeatures(driver, asOf)
  const now = await pAliveAt(driver, asOf, f.member_id)
  const before = await pAliveAt(
    driver,
    shiftDay(asOf, -options.earlyWarning.pAliveLookbackDays),
    f.member_id,
    now.params,
  ).catch(() => ({ pAlive: new Float64Array(f.member_id.length).fill(NaN) }))
  const zone = options.timeZone ?? DEFAULT_TIME_ZONE
  const due = await downgradeDueDays(driver, asOf, f.member_id, zone)
  const expiring = await expiringPoints(
    driver,
    asOf,
    f.member_id,
    options.earlyWarning.expiringPointsDays,
    zone,
  )
  const X = featureMatrix(f, now.pAlive)
  const scores = predictLogistic(model, X)
  const n = f.member_id.length
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) values[i] = historicalValue(f, i)
  // High value: the top 20 % of historical value.
  const highValue = quantiles(values, [0.8])[0] as number
  const k = options.reasons ?? 3
  const contributions = new Float64Array(model.features.length)
  const out: RiskScore[] = []
  for (let i = 0; i < n; i++) {
    logisticContributions(model, X, i, contributions)
    const reasons = Array.from(contributions, (c, j) => [c, j] as const)
      .filter(([c]) => c > 0)
      .sort((a, b) => b[0] - a[0])
      .slice(0, k)
      .map(
        ([, j]) => RISK_FEATURES[model.features[j] as RiskFeature] ?? (model.features[j] as string),
      )
    const cls = churnClass(f, i, highValue)
    const signals = earlyWarningSignals(
      f,
      i,
      now.pAlive,
      before.pAlive,
      options.earlyWarning,
      due,
      expiring.points,
    )
    out.push({
      memberId: f.member_id[i] as number,
      score: scores[i] as number,
      reasons,
      signals,
      signalDetails: signals.includes('points_expiring')
        ? {
            points_expiring: {
              points: expiring.points[i] as number,
              firstExpiresAt: expiring.firstExpiresAt[i] as string,
            },
          }
        : {},
      churnClass: cls,
      playbook: PLAYBOOKS[cls],
      pAlive: now.pAlive[i] as number,
      historicalValue: values[i] as number,
    })
  }
  const runId = await newRunId(driver, 'risk-score', clock)
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS risk_scores (run_id VARCHAR NOT NULL,
    member_id BIGINT NOT NULL, score DOUBLE, reasons VARCHAR, signals VARCHAR, churn_class VARCHAR,
    playbook VARCHAR, p_alive DOUBLE, historical_value DOUBLE, signal_details VARCHAR)`)
  // Scorings written before the column existed.
  await driver.execute(sql`ALTER TABLE risk_scores ADD COLUMN IF NOT EXISTS signal_details VARCHAR`)
  await saveRun(
    driver,
    {
      runId,
      kind: 'risk-score',
      createdAt: clock.now(),
      options: { asOf, timeZone: zone, modelRunId: run.runId, earlyWarning: options.earlyWarning },
      params: null,
      logLikelihood: null,
      report: { members: n },
    },
    null,
  )
  await driver.transaction(async () => {
    await driver.append('risk_scores', [
      { type: 'varchar', values: out.map(() => runId) },
      { type: 'bigint', values: out.map((s) => s.memberId) },
      { type: 'double', values: out.map((s) => s.score) },
      { type: 'varchar', values: out.map((s) => s.reasons.join(',')) },
      { type: 'varchar', values: out.map((s) => s.signals.join(',')) },
      { type: 'varchar', values: out.map((s) => s.churnClass) },
      { type: 'varchar', values: out.map((s) => s.playbook) },
      { type: 'double', values: out.map((s) => s.pAlive) },
      { type: 'double', values: out.map((s) => s.historicalValue) },
      {
        type: 'varchar',
        values: out.map((s) =>
          Object.keys(s.signalDetails).length > 0 ? JSON.stringify(s.signalDetails) : null,
        ),
      },
    ])
  })
  return { runId, modelRunId: run.runId, asOf, scores: out }
}

/** A row of `memberlens risk list`. */
export interface RiskListRow {
  readonly memberId: number
  readonly score: number
  readonly reasons: string
  readonly signals: string
  readonly churnClass: string
  readonly playbook: string
  readonly pAlive: number | null
  /** Predicted CLV from the latest CLV run (null without one), and score × CLV. */
  readonly clv: number | null
  readonly clvAtRisk: number | null
}

/** Sort orders of {@link listRisk}: the risk score, or score × predicted CLV (needs a CLV run). */
export const RISK_ORDERS = ['score', 'clv_at_risk'] as const
export type RiskOrder = (typeof RISK_ORDERS)[number]

/**
 * The highest-risk members of the latest scoring (or those with the most predicted CLV at risk), with
 * predicted CLV at risk when a CLV run exists; optionally one churn class and a minimum score.
 */
export async function listRisk(
  driver: DuckDbDriver,
  options: { top?: number; churnClass?: ChurnClass; order?: RiskOrder; minScore?: number } = {},
): Promise<{ runId: string; clvRunId: string | null; rows: RiskListRow[] }> {
  const run = await getRun(driver, 'risk-score')
  const clvRunId = await latestRunId(driver, 'clv')
  const order = options.order ?? 'score'
  if (order === 'clv_at_risk' && clvRunId === null) {
    throw new NotFoundError('no clv run yet: run `memberlens clv fit` to order by CLV at risk')
  }
  const orderBy =
    order === 'score' ? sql`r.score DESC` : sql`r.score * c.clv DESC NULLS LAST, r.score DESC`
  const rows = await driver.all<Record<string, unknown>>(
    sql`SELECT r.member_id::DOUBLE AS member_id, r.score, r.reasons, r.signals, r.churn_class, r.playbook, r.p_alive,
        c.clv, r.score * c.clv AS clv_at_risk
      FROM risk_scores r LEFT JOIN member_scores c ON c.member_id = r.member_id AND c.run_id = ${clvRunId}
      WHERE r.run_id = ${run.runId}
      ${options.churnClass === undefined ? sql`` : sql`AND r.churn_class = ${options.churnClass}`}
      ${options.minScore === undefined ? sql`` : sql`AND r.score >= ${options.minScore}`}
      ORDER BY ${orderBy}, r.member_id LIMIT ${options.top ?? 100}`,
  )
  return { runId: run.runId, clvRunId, rows: rows as unknown as RiskListRow[] }
}
