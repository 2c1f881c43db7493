/**
 * `memberlens risk train|score|list|export`: the churn-risk model, scores with reason codes, early-warning
 * signals, churn class and win-back playbook, the top at-risk members with their predicted CLV at risk,
 * and churn-class segments for campaign tools. Definitions: docs/models.md.
 * @module
 */
import { timeZoneOption } from '../time-zone-option.js'
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Option, type Command } from 'commander'
import pc from 'picocolors'
import {
  CHURN_CLASSES,
  parseEarlyWarningConfig,
  PLAYBOOKS,
  SIGNALS,
  type ChurnClass,
  type EarlyWarningConfig,
} from '../../analytics/risk/early-warning.js'
import {
  formatRiskExport,
  getRiskExportRows,
  RISK_EXPORT_COLUMNS,
  RISK_EXPORT_FORMATS,
} from '../../analytics/risk/export.js'
import { narrowIdentityColumns } from '../../engine/segments/identity-columns.js'
import { idsOption } from '../member-options.js'
import {
  listRisk,
  RISK_ORDERS,
  scoreRisk,
  trainRiskModel,
  type RiskTrainReport,
  type ScoreEvaluation,
} from '../../analytics/risk/risk.js'
import { systemClock } from '../../core/clock.js'
import { langOption, translator, type Lang } from '../lang.js'
import { CHURN_CLASS_NAMES, riskCodeName } from '../messages.js'
import { fmt, keyValues, pct, printJson, table, toCsv, decimal } from '../output.js'
import { parseFlags } from '../validations/clv.js'
import {
  riskExportFlagsSchema,
  riskListFlagsSchema,
  riskScoreFlagsSchema,
  riskTrainFlagsSchema,
  riskReasonsFlagsSchema,
} from '../validations/risk.js'
import {
  churnClassCounts,
  evaluateChurnClasses,
  type ChurnClassEvaluation,
  type KnownChurnTypes,
} from '../../analytics/risk/churn-reasons.js'
import { PRICE_RULE, SERVICE_RULE } from '../../analytics/risk/churn-reason-rules.js'
import { getRun } from '../../analytics/clv/store.js'
import { InputError } from '../../core/errors.js'
import { dbOption, withDatabase } from '../database.js'
import { readConfigFile } from '../config-file.js'
import { summariseScores, renderRiskRows } from '../render/risk.js'

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
      const report = await withDatabase(f.db, 'write', (db) =>
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
      const result = await withDatabase(f.db, 'write', async (db) => {
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
      const result = await withDatabase(f.db, 'read', (db) =>
        listRisk(db.driver, {
          top: f.top,
          order: f.order,
          ...(f.minScore === undefined ? {} : { minScore: f.minScore }),
          ...(f.class === undefined ? {} : { churnClass: f.class }),
        }),
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
    .addOption(idsOption('only these identity columns (default: every one)'))
    .action(async (flags: unknown) => {
      const f = parseFlags(riskExportFlagsSchema, flags)
      const { rows } = await withDatabase(f.db, 'read', (db) =>
        getRiskExportRows(db.driver, {
          churnClass: f.class,
          ...(f.minScore === undefined ? {} : { minScore: f.minScore }),
          ...(f.top === undefined ? {} : { top: f.top }),
        }),
      )
      const text = formatRiskExport(
        rows,
        f.format,
        narrowIdentityColumns(RISK_EXPORT_COLUMNS, f.ids),
      )
      if (f.out === undefined) {
        process.stdout.write(text)
        return
      }
      await writeFile(f.out, text)
      process.stderr.write(`${fmt(rows.length)} ${f.class} members written to ${f.out}\n`)
    })

  risk
    .command('reasons')
    .description(
      'the churn classes of the latest scoring with their evidence rules; with --evaluate, precision and recall of each class against the simulator’s truth',
    )
    .addOption(dbOption())
    .option('--run <id>', 'a risk-score run (default: the latest)')
    .option(
      '--evaluate',
      'check service-dissatisfied and price-sensitive against the persons truth.json knows to be of each type',
      false,
    )
    .option(
      '--truth <file>',
      'truth.json of the simulated data (default: the demo’s, beside the database)',
    )
    .addOption(langOption('headers and labels'))
    .option('--json', 'machine-readable JSON on stdout', false)
    .addHelpText(
      'after',
      `
Examples:
  memberlens risk reasons
  memberlens risk reasons --evaluate --lang zh
  memberlens risk reasons --evaluate --truth data/truth.json --json`,
    )
    .action(async (flags: unknown) => {
      const f = parseFlags(riskReasonsFlagsSchema, flags)
      let known: KnownChurnTypes | undefined
      if (f.evaluate) {
        const file = f.truth ?? join(dirname(f.db), '.memberlens', 'demo-data', 'truth.json')
        known = await readKnownChurnTypes(file)
      } else if (f.truth !== undefined) {
        throw InputError.single({ field: '--truth', reason: 'only with --evaluate' })
      }
      const result = await withDatabase(f.db, 'read', async (db) => {
        const run = await getRun(db.driver, 'risk-score', f.run)
        const counts = await churnClassCounts(db.driver, run.runId)
        const evaluation =
          known === undefined ? null : await evaluateChurnClasses(db.driver, known, run.runId)
        return { runId: run.runId, counts, evaluation }
      })
      const rules = {
        serviceDissatisfied: SERVICE_RULE,
        priceSensitive: PRICE_RULE,
      }
      if (f.json) {
        printJson({ ...result, rules })
        return
      }
      process.stdout.write(renderChurnReasons(result, f.lang ?? 'en'))
    })
}

/** Reads the `churnTypes` of a truth.json; InputError naming the file when it is missing or has none. */
async function readKnownChurnTypes(file: string): Promise<KnownChurnTypes> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    throw InputError.single({ file, reason: 'file not found or not readable' })
  }
  let data: { churnTypes?: KnownChurnTypes }
  try {
    data = JSON.parse(text) as { churnTypes?: KnownChurnTypes }
  } catch {
    throw InputError.single({ file, reason: 'not valid JSON' })
  }
  const c = data.churnTypes
  if (
    c === undefined ||
    !Array.isArray(c.priceSensitive) ||
    !Array.isArray(c.serviceDissatisfied)
  ) {
    throw InputError.single({
      file,
      field: 'churnTypes',
      reason: 'no churn types in this truth file: simulate the data again with this version',
    })
  }
  return c
}

/** The class counts, the rules and, when checked, precision and recall per class. */
export function renderChurnReasons(
  r: {
    runId: string
    counts: readonly { churnClass: string; n: number }[]
    evaluation: ChurnClassEvaluation | null
  },
  lang: Lang,
): string {
  const t = translator(lang)
  const total = r.counts.reduce((a, c) => a + c.n, 0)
  const name = (cls: string): string =>
    lang === 'zh' ? (CHURN_CLASS_NAMES[cls as ChurnClass]?.zh ?? cls) : cls
  const share = (x: number | null): string => (x === null ? '—' : pct(x))
  const out = [
    pc.bold(t('Churn classes of scoring {run} ({n} members)', { run: r.runId, n: fmt(total) })),
    table(
      [t('churn class'), t('members'), '%'],
      r.counts.map((c) => [name(c.churnClass), fmt(c.n), share(total === 0 ? null : c.n / total)]),
    ),
    t(
      'Rules: service-dissatisfied = at least {k} points of service evidence in the year (complaints and tickets, CSAT ≤ 2, reviews ≤ 2, fault returns after the first, mean NPS ≤ {nps}); price-sensitive = coupon on at least {share} of orders over at least {days} purchase days.',
      {
        k: SERVICE_RULE.minEvidence,
        nps: SERVICE_RULE.npsDetractorMean,
        share: pct(PRICE_RULE.minCouponShare),
        days: PRICE_RULE.minPurchaseDays,
      },
    ),
  ]
  const e = r.evaluation
  if (e !== null) {
    out.push(
      '',
      pc.bold(
        t('Churn classes against the known types ({matched} of {known} known identities matched)', {
          matched: fmt(e.matchedIdentities),
          known: fmt(e.knownIdentities),
        }),
      ),
      table(
        [
          t('churn class'),
          t('in the class'),
          t('of the type'),
          t('precision'),
          t('recall'),
          t('recall outside high value'),
          t('base rate'),
        ],
        e.classes.map((c) => [
          name(c.churnClass),
          fmt(c.predicted),
          fmt(c.actual),
          share(c.precision),
          share(c.recall),
          share(c.recallOutsideHighValue),
          share(c.baseRate),
        ]),
      ),
    )
  }
  return `${out.join('\n')}\n`
}

function evaluationRow(name: string, e: ScoreEvaluation): string[] {
  return [name, decimal(e.auc), decimal(e.topDecileLift, 2)]
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
      weights.map(([name, w]) => [riskCodeName(name, lang), `${w >= 0 ? '+' : ''}${decimal(w)}`]),
    ),
  ].join('\n')
}
