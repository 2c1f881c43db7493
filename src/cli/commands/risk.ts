/**
 * `memberlens risk train|score|list|export`: the churn-risk model, scores with reason codes, early-warning
 * signals, churn class and win-back playbook, the top at-risk members with their predicted CLV at risk,
 * and churn-class segments for campaign tools. Definitions: docs/models.md.
 * @module
 */
import { timeZoneOption } from '../time-zone-option.js'
import { writeFile } from 'node:fs/promises'
import { Option, type Command } from 'commander'
import pc from 'picocolors'
import {
  CHURN_CLASSES,
  parseEarlyWarningConfig,
  PLAYBOOKS,
  SIGNALS,
  type EarlyWarningConfig,
} from '../../analytics/early-warning.js'
import {
  formatRiskExport,
  getRiskExportRows,
  RISK_EXPORT_FORMATS,
} from '../../analytics/risk-export.js'
import {
  listRisk,
  RISK_ORDERS,
  scoreRisk,
  trainRiskModel,
  type RiskListRow,
  type RiskTrainReport,
  type ScoreEvaluation,
} from '../../analytics/risk.js'
import { runClv, type ClvDistribution } from '../../analytics/clv.js'
import { systemClock, type Clock } from '../../core/clock.js'
import { MemberlensError } from '../../core/errors.js'
import type { DuckDbDriver } from '../../engine/drivers/duckdb-driver.js'
import { DEFAULT_DB_PATH } from '../../store/database.js'
import { langOption, translator, type Lang } from '../lang.js'
import { CHURN_CLASS_NAMES, riskCodeName } from '../messages.js'
import { MISSING, fmt, keyValues, pct, printJson, table, money } from '../output.js'
import { parseFlags } from '../validations/clv.js'
import { readConfigFile } from '../validations/retention.js'
import {
  riskExportFlagsSchema,
  riskListFlagsSchema,
  riskScoreFlagsSchema,
  riskTrainFlagsSchema,
} from '../validations/risk.js'
import { toCsv, withDatabase } from './clv.js'

const dbOption = () => new Option('--db <file>', 'database file').default(DEFAULT_DB_PATH)
const num = (v: number | null | undefined, d = 3): string =>
  v === null || v === undefined || !Number.isFinite(v) ? MISSING : v.toFixed(d)

/** Reads and validates an early-warning config file (YAML or JSON); defaults without a file. */
export async function loadEarlyWarningConfig(path?: string): Promise<EarlyWarningConfig> {
  if (path === undefined) return parseEarlyWarningConfig({})
  return parseEarlyWarningConfig(await readConfigFile(path), path)
}

/** Registers `risk train`, `risk score`, `risk list` and `risk export`. */
export function registerRiskCommands(program: Command): void {
  const risk = program
    .command('risk')
    .description(
      'churn risk: a classifier on members’ own history, reason codes, early-warning signals, churn class and win-back playbook',
    )
    .addHelpText(
      'after',
      `
Examples:
  memberlens risk train                          # fit on E − 2H, evaluate on E − H against recency only
  memberlens risk score --early-warning ew.yaml  # score every member at E with signals and playbooks
  memberlens risk list --top 100                 # highest risk first, with predicted CLV at risk
  memberlens risk export --class price_sensitive --format csv --out price-sensitive.csv`,
    )

  risk
    .command('train')
    .description(
      'train the churn model with time-split labels and evaluate it on a later period (AUC, calibration, lift)',
    )
    .addOption(dbOption())
    .option('--horizon <days>', 'label horizon H: churned = no purchase in the next H days', '90')
    .option('--as-of <date>', 'last day of data E (default: the last purchase day)')
    .option('--l2 <lambda>', 'L2 penalty on the standardised weights (default 0.001)')
    .addOption(langOption())
    .option('--json', 'machine-readable JSON on stdout', false)
    .action(async (flags: unknown) => {
      const f = parseFlags(riskTrainFlagsSchema, flags)
      const report = await withDatabase(f.db, (db) =>
        trainRiskModel(
          db.driver,
          {
            horizonDays: f.horizon,
            ...(f.asOf === undefined ? {} : { asOf: f.asOf }),
            ...(f.l2 === undefined ? {} : { l2: f.l2 }),
          },
          systemClock,
        ),
      )
      if (f.json) printJson(report)
      else process.stdout.write(`${renderRiskTraining(report, f.lang)}\n`)
    })

  risk
    .command('score')
    .description(
      'score every member with the latest model: risk, reason codes, early-warning signals, churn class, playbook',
    )
    .addOption(dbOption())
    .option('--run <id>', 'model run id (default: the latest risk run)')
    .option('--as-of <date>', 'scoring day (default: the last purchase day)')
    .option(
      '--early-warning <file>',
      'YAML/JSON thresholds of the early-warning rules (noLoginDays, aovDropRatio, negativeFeedbackIncrease, cadenceMultiple, pAliveDrop, pAliveLookbackDays, downgradeWarningDays, expiringPointsDays, expiringPointsMin)',
    )
    .option('--reasons <n>', 'reason codes per member', '3')
    .option('--top <n>', 'highest-risk members to print', '10')
    .addOption(timeZoneOption())
    .addOption(langOption('headers, churn classes and playbooks'))
    .option('--json', 'machine-readable JSON on stdout (summary and the top members)', false)
    .action(async (flags: unknown) => {
      const f = parseFlags(riskScoreFlagsSchema, flags)
      const earlyWarning = await loadEarlyWarningConfig(f.earlyWarning)
      const result = await withDatabase(f.db, async (db) => {
        const scored = await scoreRisk(
          db.driver,
          {
            earlyWarning,
            reasons: f.reasons,
            timeZone: f.tz,
            ...(f.run === undefined ? {} : { runId: f.run }),
            ...(f.asOf === undefined ? {} : { asOf: f.asOf }),
          },
          systemClock,
        )
        const top = f.top > 0 ? await listRisk(db.driver, { top: f.top }) : null
        return { scored, top }
      })
      const summary = summariseScores(result.scored.scores)
      const body = {
        runId: result.scored.runId,
        modelRunId: result.scored.modelRunId,
        asOf: result.scored.asOf,
        earlyWarning,
        ...summary,
        top: result.top?.rows ?? [],
      }
      if (f.json) {
        printJson(body)
        return
      }
      const lang = f.lang
      const t = translator(lang)
      process.stdout.write(
        `${[
          pc.bold(
            t('Risk scores {run} (model {model}, as of {asOf})', {
              run: body.runId,
              model: body.modelRunId,
              asOf: body.asOf,
            }),
          ),
          keyValues([
            [t('members scored'), fmt(summary.members)],
            [t('mean risk'), pct(summary.meanScore)],
            [t('high churn risk (score ≥ 50 %)'), fmt(summary.atRisk)],
          ]),
          '',
          pc.bold(t('Churn class (all members) and playbook')),
          table(
            [t('class'), t('members'), t('risk ≥ 50 %'), t('playbook')],
            CHURN_CLASSES.map((c) => [
              CHURN_CLASS_NAMES[c][lang],
              fmt(summary.byClass[c].members),
              fmt(summary.byClass[c].atRisk),
              lang === 'zh' ? CHURN_CLASS_NAMES[c].playbook.zh : PLAYBOOKS[c],
            ]),
          ),
          '',
          pc.bold(t('Early-warning signals raised')),
          table(
            [t('signal'), t('members')],
            SIGNALS.map((s) => [riskCodeName(s, lang), fmt(summary.signals[s])]),
          ),
          ...(result.top === null
            ? []
            : [
                '',
                pc.bold(t('Top {n} at risk', { n: result.top.rows.length })),
                renderRiskRows(result.top.rows, lang),
              ]),
        ].join('\n')}\n`,
      )
    })

  risk
    .command('list')
    .description(
      'the highest-risk members of the latest scoring: score, signals, reason codes, churn class, playbook, CLV at risk',
    )
    .addOption(dbOption())
    .option('--top <n>', 'members to list', '100')
    .addOption(
      new Option(
        '--class <class>',
        'only this churn class (price_sensitive or price-sensitive, …)',
      ),
    )
    .addOption(
      new Option('--order <by>', 'risk score, or score × predicted CLV')
        .choices(RISK_ORDERS)
        .default('score'),
    )
    .option('--min-score <p>', 'only members with at least this risk (0–1)')
    .addOption(langOption('headers, churn classes and playbooks'))
    .option('--json', 'machine-readable JSON on stdout', false)
    .option('--csv', 'CSV on stdout', false)
    .action(async (flags: unknown) => {
      const f = parseFlags(riskListFlagsSchema, flags)
      const result = await withDatabase(
        f.db,
        (db) =>
          listRisk(db.driver, {
            top: f.top,
            order: f.order,
            ...(f.minScore === undefined ? {} : { minScore: f.minScore }),
            ...(f.class === undefined ? {} : { churnClass: f.class }),
          }),
        true,
      )
      if (f.json) {
        printJson(result)
        return
      }
      if (f.csv) {
        process.stdout.write(
          toCsv(
            [
              'member_id',
              'score',
              'signals',
              'reasons',
              'churn_class',
              'playbook',
              'p_alive',
              'clv',
              'clv_at_risk',
            ],
            result.rows.map((r) => [
              r.memberId,
              r.score,
              r.signals,
              r.reasons,
              r.churnClass,
              r.playbook,
              r.pAlive,
              r.clv,
              r.clvAtRisk,
            ]),
          ),
        )
        return
      }
      const lang = f.lang
      const t = translator(lang)
      process.stdout.write(
        `${[
          pc.bold(
            `${t(f.order === 'clv_at_risk' ? 'Top {n} at risk by CLV at risk' : 'Top {n} at risk', { n: result.rows.length })} — ${t('scores {run}', { run: result.runId })}${result.clvRunId === null ? ` ${t('(no CLV run: `memberlens clv fit` adds CLV at risk)')}` : `, CLV ${result.clvRunId}`}`,
          ),
          renderRiskRows(result.rows, lang),
        ].join('\n')}\n`,
      )
    })

  risk
    .command('export')
    .description(
      'write one churn class of the latest scoring with phone (E.164), email, WeChat unionid, app user id, card number, POS and customer ids and consent flags',
    )
    .addOption(dbOption())
    .requiredOption(
      '--class <class>',
      `churn class: ${CHURN_CLASSES.join(', ')} (underscores accepted)`,
    )
    .addOption(
      new Option('--format <format>', 'file format').choices(RISK_EXPORT_FORMATS).default('csv'),
    )
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--min-score <p>', 'only members with at least this risk (0–1)')
    .option('--top <n>', 'at most this many members, highest risk first')
    .action(async (flags: unknown) => {
      const f = parseFlags(riskExportFlagsSchema, flags)
      const { rows } = await withDatabase(
        f.db,
        (db) =>
          getRiskExportRows(db.driver, {
            churnClass: f.class,
            ...(f.minScore === undefined ? {} : { minScore: f.minScore }),
            ...(f.top === undefined ? {} : { top: f.top }),
          }),
        true,
      )
      const text = formatRiskExport(rows, f.format)
      if (f.out === undefined) {
        process.stdout.write(text)
        return
      }
      await writeFile(f.out, text)
      process.stderr.write(`${fmt(rows.length)} ${f.class} members written to ${f.out}\n`)
    })
}

/** Counts of a scoring: by churn class, by signal, and how many score ≥ 50 %. */
export interface RiskScoreSummary {
  readonly members: number
  readonly meanScore: number
  readonly atRisk: number
  readonly byClass: Readonly<
    Record<(typeof CHURN_CLASSES)[number], { readonly members: number; readonly atRisk: number }>
  >
  readonly signals: Readonly<Record<(typeof SIGNALS)[number], number>>
}

/** Summarises scores for people. */
export function summariseScores(
  scores: ReadonlyArray<{
    readonly score: number
    readonly churnClass: (typeof CHURN_CLASSES)[number]
    readonly signals: readonly (typeof SIGNALS)[number][]
  }>,
): RiskScoreSummary {
  const byClass = Object.fromEntries(
    CHURN_CLASSES.map((c) => [c, { members: 0, atRisk: 0 }]),
  ) as Record<(typeof CHURN_CLASSES)[number], { members: number; atRisk: number }>
  const signals = Object.fromEntries(SIGNALS.map((s) => [s, 0])) as Record<
    (typeof SIGNALS)[number],
    number
  >
  let total = 0
  let atRisk = 0
  for (const s of scores) {
    total += s.score
    const c = byClass[s.churnClass]
    c.members++
    if (s.score >= 0.5) {
      atRisk++
      c.atRisk++
    }
    for (const sig of s.signals) signals[sig]++
  }
  return {
    members: scores.length,
    meanScore: scores.length > 0 ? total / scores.length : NaN,
    atRisk,
    byClass,
    signals,
  }
}

/** The at-risk table: member, score, signals, reason codes, class → playbook, P(alive), CLV at risk. */
export function renderRiskRows(rows: readonly RiskListRow[], lang: Lang = 'en'): string {
  const t = translator(lang)
  const names = CHURN_CLASS_NAMES as Readonly<
    Record<string, { zh: string; playbook: { zh: string } } | undefined>
  >
  const cls = (c: string) => names[c]
  return table(
    [
      t('member'),
      t('risk'),
      t('signals'),
      t('reason codes'),
      t('churn class → playbook'),
      'P(alive)',
      'CLV',
      t('CLV at risk'),
    ],
    rows.map((r) => [
      String(r.memberId),
      pct(r.score),
      r.signals === ''
        ? '·'
        : r.signals
            .split(',')
            .map((x) => riskCodeName(x, lang))
            .join(lang === 'zh' ? '、' : ' '),
      r.reasons
        .split(',')
        .map((x) => riskCodeName(x, lang))
        .join(lang === 'zh' ? '、' : ' '),
      lang === 'zh'
        ? `${cls(r.churnClass)?.zh ?? r.churnClass} → ${cls(r.churnClass)?.playbook.zh ?? r.playbook}`
        : `${r.churnClass} → ${r.playbook}`,
      r.pAlive === null ? MISSING : pct(r.pAlive),
      money(r.clv, lang),
      money(r.clvAtRisk, lang),
    ]),
  )
}

function evaluationRow(name: string, e: ScoreEvaluation): string[] {
  return [name, num(e.auc), num(e.topDecileLift, 2)]
}

/** The training report for people. */
export function renderRiskTraining(r: RiskTrainReport, lang: Lang = 'en'): string {
  const t = translator(lang)
  const m = r.model
  const weights = m.features
    .map((name, j) => [name, m.weights[j] as number] as const)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
  const calibration = r.evaluation.model.calibration
  return [
    pc.bold(t('Churn-risk model {run}', { run: r.runId })),
    keyValues([
      [t('label'), t('churned = no purchase in the next {days} days', { days: r.horizonDays })],
      [
        t('trained at'),
        t('{cutoff} on {n} members (churned {rate})', {
          cutoff: r.trainCutoff,
          n: fmt(r.trainMembers),
          rate: pct(r.trainChurnRate),
        }),
      ],
      [
        t('evaluated at'),
        t('{cutoff} on {n} members (churned {rate}), a period the model never saw', {
          cutoff: r.evaluationCutoff,
          n: fmt(r.evaluationMembers),
          rate: pct(r.evaluationChurnRate),
        }),
      ],
      [t('scores as of'), r.asOf],
    ]),
    '',
    pc.bold(t('Evaluation on the later period')),
    table(
      [t('score'), 'AUC', t('top-decile lift')],
      [
        evaluationRow(t('model'), r.evaluation.model),
        evaluationRow(t('recency only'), r.evaluation.recencyBaseline),
      ],
    ),
    '',
    pc.bold(t('Calibration by decile (model, highest scores first)')),
    table(
      [t('decile'), t('members'), t('mean score'), t('observed churn')],
      calibration.map((d) => [
        String(d.decile),
        fmt(d.members),
        pct(d.meanScore),
        pct(d.observedRate),
      ]),
    ),
    '',
    pc.bold(t('Weights on standardised features (largest first)')),
    table(
      [t('feature'), t('weight')],
      weights.map(([name, w]) => [riskCodeName(name, lang), `${w >= 0 ? '+' : ''}${num(w)}`]),
    ),
  ].join('\n')
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

async function orSkip<T>(fn: () => Promise<T>): Promise<T | { skipped: string }> {
  try {
    return await fn()
  } catch (error) {
    // Too little history for a model is a fact about the data, not a reason to fail the demo.
    if (error instanceof MemberlensError && error.userFacing) return { skipped: error.message }
    throw error
  }
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

function skipReason(reason: string, lang: Lang): string {
  if (lang === 'en') return reason
  for (const [re, zh] of SKIP_REASONS_ZH) if (re.test(reason)) return reason.replace(re, zh)
  return reason
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
    const q = d.quantiles
    out.push(
      pc.bold(
        t('Predicted CLV, next 12 months ({model} + Gamma–Gamma, run {run})', {
          model: m.clv.model,
          run: m.clv.runId,
        }),
      ),
      table(
        [
          t('members'),
          t('total'),
          t('mean'),
          'p10',
          'p25',
          t('median'),
          'p75',
          'p90',
          'p99',
          t('top 10 % share'),
        ],
        [
          [
            fmt(d.members),
            money(d.total, lang),
            money(d.mean, lang),
            money(q.p10, lang),
            money(q.p25, lang),
            money(q.p50, lang),
            money(q.p75, lang),
            money(q.p90, lang),
            money(q.p99, lang),
            pct(d.top10Share),
          ],
        ],
      ),
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
          `${t('model AUC {auc} on a later period vs {base} for recency only', { auc: num(r.auc), base: num(r.recencyOnlyAuc) })} · ` +
          CHURN_CLASSES.map(
            (c) => `${CHURN_CLASS_NAMES[c][lang]} ${fmt(r.summary.byClass[c].atRisk)}`,
          ).join(', '),
      ),
    )
  }
  return out.join('\n')
}
