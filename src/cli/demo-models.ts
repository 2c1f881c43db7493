/**
 * The models the demo runs and shows: a CLV run and a churn-risk training and scoring, each skipped with its
 * reason when the data is too short, and their summary as text.
 * @module
 */
import { type RiskScoreSummary, renderRiskRows, summariseScores } from './render/risk.js'
import pc from 'picocolors'
import { CHURN_CLASSES, parseEarlyWarningConfig } from '../analytics/risk/early-warning.js'
import { listRisk, scoreRisk, trainRiskModel, type RiskListRow } from '../analytics/risk/risk.js'
import { runClv, type ClvDistribution } from '../analytics/clv/clv.js'
import { type Clock } from '../core/clock.js'
import type { DuckDbDriver } from '../duckdb/driver.js'
import { translator, type Lang } from './lang.js'
import { CHURN_CLASS_NAMES } from './messages.js'
import { fmt, pct, money, decimal } from './output.js'
import { MemberlensError } from '../core/errors.js'
import { clvDistributionTable } from './render/clv.js'

async function orSkip<T>(fn: () => Promise<T>): Promise<T | { skipped: string }> {
  try {
    return await fn()
  } catch (error) {
    // Too little history for a model is a fact about the data, not a reason to fail the demo.
    if (error instanceof MemberlensError && error.userFacing) return { skipped: error.message }
    throw error
  }
}

function skipReason(reason: string, lang: Lang): string {
  if (lang === 'en') return reason
  for (const [re, zh] of SKIP_REASONS_ZH) if (re.test(reason)) return reason.replace(re, zh)
  return reason
}
/** What the demo shows of the models: the CLV distribution and the top at-risk members. */
export interface DemoModels {
  readonly clv:
    | {
        readonly runId: string
        readonly model: string
        readonly params: object
        readonly distribution: ClvDistribution
      }
    | { readonly skipped: string }
  readonly risk:
    | {
        readonly modelRunId: string
        readonly scoreRunId: string
        readonly asOf: string
        readonly auc: number
        readonly recencyOnlyAuc: number
        readonly summary: RiskScoreSummary
        /** Ordered by CLV at risk among members at ≥ 50 % risk when CLV is known, else by risk. */
        readonly top: readonly RiskListRow[]
        readonly order: 'score' | 'clv_at_risk'
      }
    | { readonly skipped: string }
}

/**
 * Fits CLV (BG/NBD + Gamma–Gamma, 12 months), trains and evaluates the churn-risk model, scores every
 * member with the default early-warning rules and returns the CLV distribution and the `top` at-risk
 * members (those at ≥ 50 % risk with the most predicted CLV at risk, or the highest risk without CLV).
 * A model the data cannot support is reported as skipped.
 */
export async function runDemoModels(
  driver: DuckDbDriver,
  clock: Clock,
  options: { readonly timeZone?: string; readonly top?: number } = {},
): Promise<DemoModels> {
  const top = options.top ?? 10
  const clv = await orSkip(async () => {
    const r = await runClv(
      driver,
      options.timeZone === undefined ? {} : { timezone: options.timeZone },
      clock,
    )
    return {
      runId: r.runId,
      model: r.purchase.kind,
      params: { ...r.purchase.params, ...r.spend.params },
      distribution: r.distribution,
    }
  })
  const risk = await orSkip(async () => {
    const trained = await trainRiskModel(driver, {}, clock)
    const scored = await scoreRisk(
      driver,
      {
        earlyWarning: parseEarlyWarningConfig({}),
        ...(options.timeZone === undefined ? {} : { timeZone: options.timeZone }),
      },
      clock,
    )
    // With CLV, the members worth saving first: at ≥ 50 % risk, by predicted CLV at risk.
    const list = await listRisk(
      driver,
      'skipped' in clv ? { top } : { top, order: 'clv_at_risk', minScore: 0.5 },
    )
    return {
      modelRunId: trained.runId,
      scoreRunId: scored.runId,
      asOf: scored.asOf,
      auc: trained.evaluation.model.auc,
      recencyOnlyAuc: trained.evaluation.recencyBaseline.auc,
      summary: summariseScores(scored.scores),
      top: list.rows,
      order: 'skipped' in clv ? ('score' as const) : ('clv_at_risk' as const),
    }
  })
  return { clv, risk }
}

/** The demo's model section: CLV quantiles and the top at-risk members with reasons and playbooks. */
export function renderDemoModels(m: DemoModels, lang: Lang = 'en'): string {
  const t = translator(lang)
  const out: string[] = []
  if ('skipped' in m.clv) {
    out.push(
      pc.bold(t('Customer lifetime value')),
      pc.yellow(
        `  ${t('skipped')}${lang === 'zh' ? '：' : ': '}${skipReason(m.clv.skipped, lang)}`,
      ),
    )
  } else {
    const d = m.clv.distribution
    out.push(
      pc.bold(
        t('Predicted CLV, next 12 months ({model} + Gamma–Gamma, run {run})', {
          model: m.clv.model,
          run: m.clv.runId,
        }),
      ),
      clvDistributionTable(d, lang, true),
      pc.dim(
        `${t('mean P(alive)')} ${pct(d.meanPAlive)} · ${t('value already lost (model)')} ${money(d.valueAtRisk, lang)} · ${t('{n} members with P(alive) < 50 %', { n: fmt(d.likelyInactive.members) })}`,
      ),
    )
  }
  out.push('')
  if ('skipped' in m.risk) {
    out.push(
      pc.bold(t('Churn risk')),
      pc.yellow(
        `  ${t('skipped')}${lang === 'zh' ? '：' : ': '}${skipReason(m.risk.skipped, lang)}`,
      ),
    )
  } else {
    const r = m.risk
    out.push(
      pc.bold(
        t(
          r.order === 'clv_at_risk'
            ? 'Top {n} members at high churn risk by CLV at risk (churn-risk score ≥ 50 %, as of {asOf})'
            : 'Top {n} members at high churn risk (as of {asOf})',
          { n: r.top.length, asOf: r.asOf },
        ),
      ),
      renderRiskRows(r.top, lang),
      pc.dim(
        `${t('{n} of {total} buyers at high churn risk (≥ 50 % chance of no purchase in 90 days; memberlens explain high_churn_risk)', { n: fmt(r.summary.atRisk), total: fmt(r.summary.members) })} · ` +
          `${t('model AUC {auc} on a later period vs {base} for recency only', { auc: decimal(r.auc), base: decimal(r.recencyOnlyAuc) })} · ` +
          CHURN_CLASSES.map(
            (c) => `${CHURN_CLASS_NAMES[c][lang]} ${fmt(r.summary.byClass[c].atRisk)}`,
          ).join(lang === 'zh' ? '、' : ', '),
      ),
    )
  }
  return out.join('\n')
}

/** Why a model was skipped on too little data, in Chinese (the analyses word it in English; others as given). */
const SKIP_REASONS_ZH: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /^only (\d+) members had bought by (\S+) \(E − 2H\): too few to train; shorten --horizon or load more history$/,
    '截至 $2 仅有 $1 名会员有过购买（E − 2H）：训练样本太少；请缩短 --horizon 或导入更长的历史',
  ],
  [
    /^only (\d+) member\(s\) with repeat purchases up to (\S+) \(of (\d+)\): the repeat-buying models need more \(choose a later calibration end, or load more orders\)$/,
    '截至 $2，$3 名会员中仅 $1 名有复购：复购模型需要更多数据（请选择更晚的校准期截止日，或导入更多订单）',
  ],
  [
    /^only (\d+) member\(s\) with repeat purchases of positive value up to (\S+): the spend model needs more \(choose a later calibration end\)$/,
    '截至 $2 仅 $1 名会员有金额为正的复购：消费模型需要更多数据（请选择更晚的校准期截止日）',
  ],
  [
    /^(.+) fit did not converge from (\d+) starting point\(s\): .*$/,
    '$1 模型从 $2 个初始点拟合均未收敛',
  ],
]
