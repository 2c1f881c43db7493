/**
 * `memberlens experiments list|report <id>|plan`: A/B experiments on member metrics (docs/experiments.md).
 * @module
 */
import { Option, type Command } from 'commander'
import pc from 'picocolors'
import {
  experimentReport,
  listExperiments,
  planExperiment,
  type ExperimentPlan,
  type ExperimentReport,
  type ExperimentMetricId,
} from '../../analytics/experiments/experiments.js'
import { EXPERIMENT_METRIC_IDS } from '../../analytics/experiments/metrics.js'
import { codeName, langOption, translator, type Lang } from '../lang.js'
import { MISSING, fmt, keyValues, pct, printJson, table } from '../output.js'
import { parseFlags } from '../validations/clv.js'
import {
  experimentsListFlagsSchema,
  experimentsPlanFlagsSchema,
  experimentsReportFlagsSchema,
} from '../validations/experiments.js'
import { dbOption, withDatabase } from '../database.js'
import { pValue, renderMetric } from '../render/experiment.js'

const json = () => new Option('--json', 'machine-readable JSON on stdout').default(false)

export function renderReport(r: ExperimentReport, lang: Lang = 'en'): string {
  const t = translator(lang)
  const srm = r.srm
  return [
    pc.bold(t('Experiment {id}', { id: r.experimentId })),
    keyValues([
      [
        t('variants'),
        r.variants.map((v) => `${codeName(v.variant, lang)} ${fmt(v.members)}`).join(', '),
      ],
      [
        t('outcome window'),
        t('{days} days after assignment (pre-period {pre} days)', {
          days: r.windows.windowDays,
          pre: r.windows.preDays,
        }),
      ],
      [
        t('retention window'),
        t('days {from}–{to}', {
          from: r.windows.retentionFromDays,
          to: r.windows.retentionToDays,
        }),
      ],
      [t('data end'), r.dataEnd ?? MISSING],
      [
        t('sample ratio'),
        `χ² = ${srm.chiSquare.toFixed(2)}, p = ${pValue(srm.pValue)} ${srm.mismatch ? pc.red(t('MISMATCH — do not trust the effects')) : pc.green(t('ok'))}`,
      ],
    ]),
    '',
    renderMetric(r.goal, t('Goal'), lang),
    ...r.guardrails.flatMap((g) => ['', renderMetric(g, t('Guardrail'), lang)]),
    '',
    pc.bold(t('Verdict: ')) + (lang === 'zh' ? verdictZh(r) : r.verdict),
  ].join('\n')
}

/** The report's verdict in Chinese, from the same results the engine words it from. */
function verdictZh(r: ExperimentReport): string {
  if (r.srm.mismatch) {
    return `样本比例失衡（p = ${r.srm.pValue.toExponential(2)}）：分组分配有问题，效果不可信`
  }
  const g = r.goal
  const parts = g.comparisons.map((c) => {
    const good = g.higherIsBetter === c.effect.difference > 0
    const p = c.pAdjusted.toPrecision(2)
    return c.significant
      ? `${codeName(c.arm, 'zh')} ${c.effect.difference > 0 ? '提高了' : '降低了'} ${g.name.zh}（${good ? '正向' : '负向'}，Holm p = ${p}）`
      : `${codeName(c.arm, 'zh')}：${g.name.zh} 无显著变化（Holm p = ${p}）`
  })
  const harms = r.guardrails.flatMap((x) =>
    x.comparisons
      .filter((c) => c.harmful)
      .map((c) => `${codeName(c.arm, 'zh')} 使护栏指标 ${x.name.zh} 变差`),
  )
  return [...parts, ...harms].join('；')
}

export function renderPlan(p: ExperimentPlan, lang: Lang = 'en'): string {
  const t = translator(lang)
  const v = (x: number) =>
    p.metric === 'conversion' ||
    p.metric === 'retention' ||
    p.metric === 'repeat_purchase' ||
    p.metric === 'complaint_rate'
      ? pct(x, 2)
      : fmt(x, 2)
  return [
    pc.bold(
      t('Plan: {metric} on {population}', {
        metric: codeName(p.metric, lang),
        population: codeName(p.population, lang),
      }),
    ),
    keyValues([
      [t('members observed'), fmt(p.members)],
      [t('baseline'), v(p.baseline)],
      [t('sd per member'), fmt(p.sd, 3)],
      [
        t('effect to detect'),
        t('{relative} relative ({absolute} absolute)', {
          relative: pct(p.relativeMde, 1),
          absolute: v(p.absoluteMde),
        }),
      ],
      [
        t('alpha / power / arms'),
        t('{alpha} (per comparison) / {power} / {arms}', {
          alpha: p.alpha.toPrecision(3),
          power: pct(p.power, 0),
          arms: p.arms,
        }),
      ],
      [
        t('members per arm'),
        t('{n} (with CUPED {cuped}, variance −{reduction})', {
          n: fmt(p.perArm),
          cuped: fmt(p.perArmWithCuped),
          reduction: pct(p.varianceReduction, 1),
        }),
      ],
      [
        t('eligible per day'),
        p.eligiblePerDay === null ? t('all at once') : fmt(p.eligiblePerDay, 1),
      ],
      [
        t('duration'),
        p.durationDays === null
          ? t('one outcome window ({days} days)', { days: p.windowDays })
          : t('{days} days (with CUPED {cuped}), including the {window}-day window', {
              days: fmt(p.durationDays),
              cuped: fmt(p.durationDaysWithCuped),
              window: p.windowDays,
            }),
      ],
      [t('MDE with every available member'), v(p.mdeWithAvailable)],
    ]),
  ].join('\n')
}

/** Registers `experiments list|report|plan`. */
export function registerExperimentCommands(program: Command): void {
  const exp = program
    .command('experiments')
    .description('A/B experiments on member metrics: lift, CI, CUPED, SRM, planning')
  exp
    .command('list')
    .description('experiments in the experiments table with their variants')
    .addOption(dbOption())
    .addOption(langOption())
    .addOption(json())
    .action(async (flags) => {
      const f = parseFlags(experimentsListFlagsSchema, flags)
      const t = translator(f.lang)
      await withDatabase(f.db, 'read', async (d) => {
        const list = await listExperiments(d.driver)
        if (f.json) return printJson({ experiments: list })
        process.stdout.write(
          `${table(
            [t('experiment'), t('members'), t('variants'), t('first assigned'), t('last assigned')],
            list.map((e) => [
              e.experimentId,
              fmt(e.members),
              e.variants.map((v) => `${codeName(v.variant, f.lang)} ${fmt(v.members)}`).join(', '),
              e.firstAssigned,
              e.lastAssigned,
            ]),
          )}\n`,
        )
      })
    })
  exp
    .command('report')
    .description(
      'goal metric and guardrails per variant against the control, with CUPED, Holm and the SRM check',
    )
    .argument('<experiment>', 'experiment id')
    .addOption(dbOption())
    .addOption(
      new Option('--metric <id>', 'goal metric')
        .choices(EXPERIMENT_METRIC_IDS)
        .default('conversion'),
    )
    .option(
      '--guardrails <ids>',
      'comma-separated guardrail metrics (default complaint_rate,return_rate)',
    )
    .option('--control <variant>', 'control variant (default: control)')
    .option('--window <days>', 'outcome window after assignment', '30')
    .option('--pre <days>', 'pre-period for CUPED (default: the window)')
    .option('--retention-from <days>', 'retention window start (default: the window)')
    .option('--retention-to <days>', 'retention window end (default: twice the window)')
    .option('--level <p>', 'confidence level', '0.95')
    .option('--no-cuped', 'do not adjust with the pre-period')
    .option('--weights <list>', 'intended split for the SRM check, in variant order, e.g. 1,1,2')
    .addOption(langOption())
    .addOption(json())
    .addHelpText(
      'after',
      `\nMetrics: ${EXPERIMENT_METRIC_IDS.join(', ')} (docs/experiments.md). predicted_clv reads each member's CLV from the latest \`memberlens clv fit\` run (members without a score are left out).
CUPED-adjusted comparisons show the interval width without and with the adjustment.

A programme's universal holdout is read like any experiment, e.g.
  memberlens experiments report universal_holdout_2026-04 --metric orders --control holdout --window 199 --pre 180 --weights 1,9`,
    )
    .action(async (id: string, flags) => {
      const f = parseFlags(experimentsReportFlagsSchema, flags)
      await withDatabase(f.db, 'read', async (d) => {
        const r = await experimentReport(d.driver, id, {
          metric: f.metric as ExperimentMetricId,
          ...(f.guardrails ? { guardrails: f.guardrails as ExperimentMetricId[] } : {}),
          ...(f.control === undefined ? {} : { control: f.control }),
          windowDays: f.window,
          ...(f.pre === undefined ? {} : { preDays: f.pre }),
          ...(f.retentionFrom === undefined ? {} : { retentionFromDays: f.retentionFrom }),
          ...(f.retentionTo === undefined ? {} : { retentionToDays: f.retentionTo }),
          level: f.level,
          cuped: f.cuped,
          ...(f.weights ? { weights: f.weights.map(Number) } : {}),
        })
        if (f.json) return printJson(r)
        process.stdout.write(`${renderReport(r, f.lang)}\n`)
      })
    })
  exp
    .command('plan')
    .description('sample size, MDE and duration from a metric’s observed baseline and variance')
    .addOption(dbOption())
    .addOption(
      new Option('--metric <id>', 'metric').choices(EXPERIMENT_METRIC_IDS).default('conversion'),
    )
    .addOption(
      new Option('--population <p>', 'where the baseline comes from')
        .choices(['new-members', 'active-members', 'experiment'])
        .default('new-members'),
    )
    .option('--experiment <id>', 'with --population experiment: its control arm is the baseline')
    .option('--lookback <days>', 'days of recent registrations or activity to read', '90')
    .option('--window <days>', 'outcome window', '30')
    .option('--mde <share>', 'relative effect to detect (0.05 = +5 %)', '0.05')
    .option('--alpha <p>', 'two-sided significance level', '0.05')
    .option('--power <p>', 'power', '0.8')
    .option('--arms <n>', 'arms including the control', '2')
    .option('--no-cuped', 'ignore the CUPED variance reduction')
    .addOption(langOption())
    .addOption(json())
    .action(async (flags) => {
      const f = parseFlags(experimentsPlanFlagsSchema, flags)
      await withDatabase(f.db, 'read', async (d) => {
        const p = await planExperiment(d.driver, {
          metric: f.metric as ExperimentMetricId,
          population: f.population,
          ...(f.experiment === undefined ? {} : { experimentId: f.experiment }),
          lookbackDays: f.lookback,
          windowDays: f.window,
          relativeMde: f.mde,
          alpha: f.alpha,
          power: f.power,
          arms: f.arms,
          cuped: f.cuped,
        })
        if (f.json) return printJson(p)
        process.stdout.write(`${renderPlan(p, f.lang)}\n`)
      })
    })
}
