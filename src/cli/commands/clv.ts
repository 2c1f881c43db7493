/**
 * `memberlens clv fit|predict|report|renewals`: CLV runs, member scores, the holdout validation report and
 * the sBG analysis of paid-membership renewals.
 * @module
 */
import { timeZoneOption } from '../time-zone-option.js'
import { writeFile } from 'node:fs/promises'
import { Option, type Command } from 'commander'
import pc from 'picocolors'
import {
  clvValidationReport,
  listMemberScores,
  runClv,
  SCORE_ORDERS,
  type ClvOptions,
  type ClvRunReport,
  type ClvValidationReport,
  type MemberScore,
  type OutlookInfo,
} from '../../analytics/clv/clv.js'
import { parseHorizon } from '../../analytics/clv/horizons.js'
import { clvRunIntervals, type RunIntervals } from '../../analytics/clv/intervals.js'
import { PURCHASE_MODELS, type PurchaseModelKind } from '../../analytics/clv/models.js'
import {
  fitRenewals,
  type PlanRenewals,
  type RenewalsReport,
} from '../../analytics/lifetime/renewals.js'
import { systemClock } from '../../core/clock.js'
import { RENEWAL_COHORT_GRAINS, type RenewalCohortGrain } from '../../duckdb/summaries/renewals.js'
import {
  SPEND_BASES,
  SUMMARY_ORIGINS,
  TIME_UNITS,
  type SpendBasis,
  type SummaryOrigin,
  type TimeUnit,
} from '../../engine/summaries/repeat-buying.js'
import { addEngineOptions, withEngine } from '../engine-options.js'
import { codeName, langOption, translator, type Lang } from '../lang.js'
import { MISSING, fmt, keyValues, pct, printJson, table, money, toCsv, decimal } from '../output.js'
import {
  clvFitFlagsSchema,
  clvPredictFlagsSchema,
  clvRenewalsFlagsSchema,
  clvReportFlagsSchema,
  parseFlags,
  type ClvFitFlags,
  type ClvPredictFlags,
  type ClvReportFlags,
} from '../validations/clv.js'
import { dbOption, withDatabase } from '../database.js'
import { clvDistributionTable } from '../render/clv.js'
import { identityTypeName } from '../render/members.js'
import { idsOption, resolveMemberFlag } from '../member-options.js'
import {
  identityValues,
  memberIdentityColumns,
  type IdentityColumns,
} from '../../engine/segments/identity-columns.js'
import type { IdentityType } from '../../core/schema.js'
import {
  CLV_COVARIATES,
  clvCovariateFit,
  parseCovariates,
  type ClvCovariateReport,
} from '../../analytics/clv/covariates.js'
import type { ResolvedClvOptions } from '../../analytics/clv/clv.js'
import { InputError } from '../../core/errors.js'
import type { Driver } from '../../engine/drivers/driver.js'
import { renderCovariates } from '../render/clv-covariates.js'
import type { BgNbdParams } from '../../models/bg-nbd.js'
import type { ParetoNbdParams } from '../../models/pareto-nbd.js'

function modelOptions(program: Command): Command {
  return program
    .addOption(dbOption())
    .option(
      '--calibration-end <date>',
      'last day of the calibration period (default: the last purchase day)',
    )
    .addOption(
      new Option('--unit <unit>', 'time unit of t_x and T').choices(TIME_UNITS).default('week'),
    )
    .addOption(
      new Option('--origin <origin>', 'where a member’s clock starts')
        .choices(SUMMARY_ORIGINS)
        .default('first-purchase'),
    )
    .addOption(
      new Option('--model <model>', 'repeat-buying model')
        .choices(PURCHASE_MODELS)
        .default('bg-nbd'),
    )
    .addOption(
      new Option(
        '--spend <basis>',
        'order value for Gamma–Gamma and CLV: net (after discounts) or gross (before discounts and coupons)',
      )
        .choices(SPEND_BASES)
        .default('net'),
    )
    .option('--horizon <months>', 'CLV horizon in months', '12')
    .option(
      '--month-days <days>',
      'length of a CLV month in days, 28–31 (default 30.4375, a twelfth of 365.25)',
    )
    .option('--discount-rate <rate>', 'annual discount rate (0.1 = 10 %)', '0.1')
    .option('--margin <share>', 'share of spend that is margin (1 = CLV in revenue)', '1')
    .addOption(langOption())
    .option('--json', 'machine-readable JSON on stdout', false)
    .option(
      '--covariates <list>',
      `also fit the model with covariates (comma-separated: ${CLV_COVARIATES.join(', ')}; season with bg-nbd only): effects, intervals and an LRT (docs/models.md#covariates)`,
    )
}

/** Checks `--covariates` before any work: known names, on a model they are fitted with. */
function checkCovariatesFlag(f: { readonly covariates?: string; readonly model: string }): void {
  if (f.covariates === undefined) return
  const names = parseCovariates(f.covariates)
  if (f.model === 'mbg-nbd' || (f.model === 'pareto-nbd' && names.includes('season'))) {
    throw InputError.single({
      field: '--covariates',
      value: f.covariates,
      reason:
        f.model === 'mbg-nbd'
          ? 'covariates are fitted on BG/NBD or Pareto/NBD: use --model bg-nbd or pareto-nbd'
          : 'the seasonal effect is fitted with BG/NBD only: use --model bg-nbd',
    })
  }
}

/** The covariate fit a `--covariates` flag asks for, on the summaries of a fitted run; undefined without it. */
async function covariatesOf(
  driver: Driver,
  flag: string | undefined,
  run: { readonly options: ResolvedClvOptions; readonly purchase: ClvRunReport['purchase'] },
): Promise<ClvCovariateReport | undefined> {
  if (flag === undefined) return undefined
  const names = parseCovariates(flag)
  const o = run.options
  const p = run.purchase
  // The run's own fit of the same summaries is the start and the LRT's null model.
  const baseline =
    p.kind === 'bg-nbd'
      ? {
          model: 'bg-nbd' as const,
          params: p.params as BgNbdParams,
          logLikelihood: p.logLikelihood,
        }
      : p.kind === 'pareto-nbd'
        ? {
            model: 'pareto-nbd' as const,
            params: p.params as ParetoNbdParams,
            logLikelihood: p.logLikelihood,
          }
        : undefined
  if (baseline === undefined) {
    throw InputError.single({
      field: '--covariates',
      value: flag,
      reason: 'covariates are fitted on BG/NBD or Pareto/NBD: use --model bg-nbd or pareto-nbd',
    })
  }
  return clvCovariateFit(
    driver,
    {
      calibrationEnd: o.calibrationEnd,
      unit: o.unit,
      origin: o.origin,
      ...(o.timezone === undefined ? {} : { timezone: o.timezone }),
      ...(o.spend === undefined ? {} : { spend: o.spend }),
    },
    names,
    baseline,
  )
}

function toClvOptions(f: ClvFitFlags | ClvReportFlags): ClvOptions {
  return {
    ...(f.calibrationEnd === undefined ? {} : { calibrationEnd: f.calibrationEnd }),
    unit: f.unit as TimeUnit,
    origin: f.origin as SummaryOrigin,
    spend: f.spend as SpendBasis,
    model: f.model as PurchaseModelKind,
    horizonMonths: f.horizon,
    monthDays: f.monthDays,
    annualDiscountRate: f.discountRate,
    margin: f.margin,
    ...('tz' in f ? { timezone: f.tz } : {}),
  }
}

/** Why a plan has no sBG fit, in Chinese (the renewal analysis words it in English). */
const RENEWAL_REASONS_ZH: Readonly<Record<string, string>> = {
  'no renewal decision observed yet: nothing to fit': '尚未观察到任何续费决定：无可拟合的数据',
}

/** Registers `clv fit`, `clv predict` and `clv report`. */
export function registerClvCommands(program: Command): void {
  const clv = program
    .command('clv')
    .description(
      'customer lifetime value: BG/NBD, Pareto/NBD, MBG/NBD or BG/CNBD-k with Gamma–Gamma (docs/models.md)',
    )

  modelOptions(
    clv
      .command('fit')
      .description(
        'fit the models on every member’s purchases, score each member (P(alive), expected purchases, CLV) and store the run',
      ),
  )
    .addOption(timeZoneOption())
    .addHelpText(
      'after',
      `
Summaries follow the CDNOW convention: same-day purchases are one transaction; x = repeat days. Days are
calendar days in the project time zone (--tz; the default calibration end is the last purchase day there).
Scores go to the member_scores table, the run to model_runs; \`memberlens clv predict\` lists them.

Examples:
  memberlens clv fit --db cdnow.duckdb --calibration-end 1997-09-30
  memberlens clv fit --horizon 24 --discount-rate 0.08 --margin 0.3 --json`,
    )
    .action(async (flags: unknown) => {
      const f = parseFlags(clvFitFlagsSchema, flags)
      checkCovariatesFlag(f)
      const { report, covariates } = await withDatabase(f.db, 'write', async (db) => {
        const report = await runClv(db.driver, toClvOptions(f), systemClock)
        return { report, covariates: await covariatesOf(db.driver, f.covariates, report) }
      })
      if (f.json) printJson(covariates === undefined ? report : { ...report, covariates })
      else {
        process.stdout.write(`${renderRun(report, f.lang)}\n`)
        if (covariates !== undefined)
          process.stdout.write(`\n${renderCovariates(covariates, f.lang)}\n`)
      }
    })

  clv
    .command('predict')
    .description('list member scores of the latest CLV run (or --run), highest first')
    .addOption(dbOption())
    .option('--run <id>', 'run id (default: the latest clv run)')
    .option('--top <n>', 'members to list', '20')
    .option(
      '--member <member>',
      'one member’s score: a member id or an identity as `members show` takes it (customer_id:17123, phone:…)',
    )
    .addOption(idsOption())
    .option(
      '--horizon <h>',
      'also expected purchases over this horizon after the calibration end: 90d, 39w, 12m (months of the run’s month length)',
    )
    .option(
      '--churn-days <days>',
      'also P(no purchase within this many days after the calibration end), the retail churn definition',
    )
    .option(
      '--alive-at <day>',
      'also P(alive) on this day (YYYY-MM-DD, on or after the calibration end) or after a horizon such as 90d',
    )
    .addOption(new Option('--order <by>', 'sort order').choices(SCORE_ORDERS).default('clv'))
    .option(
      '--intervals',
      'also intervals (parametric bootstrap): of each listed member’s expected purchases and CLV, the prediction interval of their realised purchases, and the same for the portfolio total',
      false,
    )
    .option('--level <share>', 'central coverage of the intervals, e.g. 0.9', '0.9')
    .option('--draws <n>', 'parameter sets drawn for the intervals (20–100000)', '200')
    .option('--seed <n>', 'seed of the intervals’ draws', '1')
    .addOption(langOption())
    .option('--json', 'machine-readable JSON on stdout', false)
    .option('--csv', 'CSV on stdout', false)
    .addHelpText(
      'after',
      `
With --intervals, parameter sets are drawn from the fitted parameters' covariance (inverse observed
information) and every member's forecasts recomputed under each: the interval of the expected purchases
and of CLV holds the parameter uncertainty only; the prediction interval of the purchases a member (or
the portfolio) will actually make adds the purchase process's own noise. Purchases are over the run's CLV
horizon. The work grows with members × draws (docs/models.md#prediction-intervals).

Forecasts are computed from the run's model and each member's summary at the calibration end: E[Y(t)] as in
BG/NBD eq. 10 (or the Pareto/NBD equivalent), P(no purchase in the next M days) and P(alive) at a later day
(docs/models.md#horizons-and-churn-windows).

Examples:
  memberlens clv predict --member customer_id:17123
  memberlens clv predict --top 100000 --ids customer_id,phone --csv > scores.csv
  memberlens clv predict --horizon 39w --churn-days 90 --alive-at 2027-06-30 --ids customer_id --csv
  memberlens clv predict --intervals --level 0.8 --top 50`,
    )
    .action(async (flags: unknown) => {
      const f = parseFlags(clvPredictFlagsSchema, flags)
      const ids = f.ids ?? []
      const { result, identities, intervals } = await withDatabase(f.db, 'read', async (db) => {
        const memberId =
          f.member === undefined ? undefined : await resolveMemberFlag(db.driver, f.member)
        const result = await listMemberScores(db.driver, {
          ...(f.run === undefined ? {} : { runId: f.run }),
          ...(memberId === undefined ? {} : { memberId }),
          limit: f.top,
          order: f.order,
          outlook: {
            ...(f.horizon === undefined ? {} : { horizon: parseHorizon(f.horizon, '--horizon') }),
            ...(f.churnDays === undefined ? {} : { churnDays: f.churnDays }),
            ...(f.aliveAt === undefined
              ? {}
              : {
                  aliveAt: /^\d{4}-\d{2}-\d{2}$/.test(f.aliveAt)
                    ? f.aliveAt
                    : parseHorizon(f.aliveAt, '--alive-at'),
                }),
          },
        })
        const identities = await memberIdentityColumns(
          db.driver,
          result.scores.map((s) => s.memberId),
          ids,
        )
        const intervals = f.intervals
          ? await clvRunIntervals(db.driver, {
              runId: result.runId,
              memberIds: result.scores.map((s) => s.memberId),
              level: f.level,
              draws: f.draws,
              seed: f.seed,
            })
          : undefined
        return { result, identities, intervals }
      })
      renderScores(result, ids, identities, f, intervals)
    })

  modelOptions(
    addEngineOptions(clv.command('report')).description(
      'validation: fit on the calibration period, compare with the holdout (by frequency, tracking, MAE/RMSE)',
    ),
  )
    .requiredOption('--holdout-end <date>', 'last day of the holdout period')
    .addHelpText(
      'after',
      `
Every repeat-buying model (bg-nbd, pareto-nbd, mbg-nbd) is also fitted to the same calibration summaries and listed
with its log-likelihood, AIC, BIC and holdout errors; * marks the lowest AIC.`,
    )
    .option('--csv', 'the by-frequency and tracking tables as CSV on stdout', false)
    .option('--out <file>', 'also write the report as JSON to this file')
    .addHelpText(
      'after',
      `
Reads the engine chosen with --engine (DuckDB by default, or ClickHouse); fit, predict and renewals work on
the DuckDB database (--db), where runs and scores are stored.

Example (the CDNOW study of Fader, Hardie & Lee 2005):
  memberlens clv report --db cdnow.duckdb --calibration-end 1997-09-30 --holdout-end 1998-06-30`,
    )
    .action(async (flags: unknown) => {
      const f = parseFlags(clvReportFlagsSchema, flags)
      checkCovariatesFlag(f)
      const { report, covariates } = await withEngine(f, async (driver) => {
        const report = await clvValidationReport(driver, {
          ...toClvOptions(f),
          holdoutEnd: f.holdoutEnd,
          compareModels: true,
        })
        return { report, covariates: await covariatesOf(driver, f.covariates, report) }
      })
      const full = covariates === undefined ? report : { ...report, covariates }
      if (f.out !== undefined) await writeFile(f.out, `${JSON.stringify(full, null, 2)}\n`)
      if (f.json) printJson(full)
      else if (f.csv) process.stdout.write(reportCsv(report))
      else {
        process.stdout.write(`${renderReport(report, f.lang)}\n`)
        if (covariates !== undefined)
          process.stdout.write(`\n${renderCovariates(covariates, f.lang)}\n`)
      }
    })

  clv
    .command('renewals')
    .description(
      'paid-membership renewals (subscriptions): survivors per plan and start cohort, sBG fit, retention projection, expected remaining lifetime',
    )
    .addOption(dbOption())
    .option('--as-of <date>', 'cutoff day (default: the last subscription start or renewal)')
    .addOption(
      new Option('--cohort <grain>', 'start-cohort grain')
        .choices(RENEWAL_COHORT_GRAINS)
        .default('month'),
    )
    .option('--plan <name>', 'only this plan')
    .option('--horizon <terms>', 'renewal periods to project', '12')
    .option(
      '--discount-rate <rate>',
      'annual discount rate of the residual lifetime and value',
      '0.1',
    )
    .addOption(langOption())
    .option('--json', 'machine-readable JSON on stdout', false)
    .option('--csv', 'survivors and projection per plan, cohort and period as CSV on stdout', false)
    .addHelpText(
      'after',
      `
The shifted-beta-geometric model (Fader & Hardie 2007): each subscriber cancels at a renewal with a fixed
probability θ ~ Beta(α, β). A member's renewals count the first consecutive renewed terms of a plan.

Examples:
  memberlens clv renewals
  memberlens clv renewals --plan plus_monthly --cohort quarter --horizon 24 --json`,
    )
    .action(async (flags: unknown) => {
      const f = parseFlags(clvRenewalsFlagsSchema, flags)
      const report = await withDatabase(f.db, 'read', (db) =>
        fitRenewals(db.driver, {
          grain: f.cohort as RenewalCohortGrain,
          horizon: f.horizon,
          annualDiscountRate: f.discountRate,
          ...(f.asOf === undefined ? {} : { asOf: f.asOf }),
          ...(f.plan === undefined ? {} : { plan: f.plan }),
        }),
      )
      if (f.json) printJson(report)
      else if (f.csv) process.stdout.write(renewalsCsv(report))
      else process.stdout.write(`${renderRenewals(report, f.lang)}\n`)
    })
}

const MODEL_NAMES: Readonly<Record<PurchaseModelKind, string>> = {
  'bg-nbd': 'BG/NBD',
  'pareto-nbd': 'Pareto/NBD',
  'mbg-nbd': 'MBG/NBD',
  'bg-cnbd-k': 'BG/CNBD-k',
}

function paramLines(
  params: object,
  se: Readonly<Record<string, number>> | null,
): Array<readonly [string, string]> {
  return Object.entries(params).map(([k, v]) => [
    k,
    `${decimal(v as number, 4)}${se?.[k] === undefined ? '' : `  (SE ${decimal(se[k] as number, 4)})`}`,
  ])
}

export function renderRun(r: ClvRunReport, lang: Lang = 'en'): string {
  const t = translator(lang)
  const d = r.distribution
  const o = r.options
  return [
    pc.bold(t('CLV run {run}', { run: r.runId })),
    keyValues([
      [t('calibration end'), o.calibrationEnd],
      [t('members'), fmt(d.members)],
      [
        t('model'),
        `${r.purchase.kind} (${t('origin {origin}, unit {unit}', { origin: codeName(o.origin, lang), unit: codeName(o.unit, lang) })})`,
      ],
      [
        t('horizon'),
        t('{months} months, discount {rate} a year, margin {margin}', {
          months: o.horizonMonths,
          rate: pct(o.annualDiscountRate),
          margin: pct(o.margin, 0),
        }),
      ],
      [
        t('order value'),
        t(
          o.spend === 'gross'
            ? 'clv|gross amount (before discounts and coupons)'
            : 'clv|net amount (after discounts)',
        ),
      ],
    ]),
    '',
    pc.bold(t('{model} parameters', { model: MODEL_NAMES[r.purchase.kind] })),
    keyValues([
      ...paramLines(r.purchase.params, r.purchase.standardErrors),
      [t('log-likelihood'), decimal(r.purchase.logLikelihood, 1)],
      [t('distinct summaries'), fmt(r.purchase.distinctSummaries)],
      ...(r.purchase.orders === undefined
        ? []
        : [
            [
              t('log-likelihood by order k'),
              r.purchase.orders
                .map(
                  (o) => `${o.k}: ${o.logLikelihood === null ? '—' : decimal(o.logLikelihood, 1)}`,
                )
                .join(', '),
            ] as const,
          ]),
    ]),
    '',
    pc.bold(t('Gamma–Gamma spend parameters')),
    keyValues([
      ...paramLines(r.spend.params, r.spend.standardErrors),
      [t('repeat buyers fitted'), fmt(r.spend.members)],
      [
        t('frequency/spend corr.'),
        `${decimal(r.frequencySpendCorrelation, 3)}${r.correlationWarning ? pc.yellow(`  ${t('(> 0.3: Gamma–Gamma assumption doubtful)')}`) : `  ${t('(ok: ≈ independent)')}`}`,
      ],
    ]),
    '',
    pc.bold(t('CLV distribution')),
    clvDistributionTable(d, lang),
    '',
    keyValues([
      [t('mean P(alive)'), pct(d.meanPAlive)],
      [t('expected purchases (horizon)'), fmt(d.expectedPurchases, 0)],
      [
        t('value already lost (model: Σ (1 − P(alive)) × value if active)'),
        money(d.valueAtRisk, lang),
      ],
      [
        t('members with P(alive) < 50 %'),
        `${fmt(d.likelyInactive.members)} (${t('value if active {v}', { v: money(d.likelyInactive.valueIfActive, lang) })})`,
      ],
    ]),
  ].join('\n')
}

const SCORE_HEADER = [
  'member_id',
  'x',
  't_x',
  't_cal',
  'zbar',
  'p_alive',
  'expected_purchases',
  'expected_spend',
  'clv',
] as const

function renderScores(
  result: { runId: string; scores: MemberScore[]; outlook?: OutlookInfo },
  ids: readonly IdentityType[],
  identities: ReadonlyMap<number, IdentityColumns>,
  f: ClvPredictFlags,
  intervals?: RunIntervals,
): void {
  const { runId, scores, outlook } = result
  const idValues = (s: MemberScore) => identityValues(identities, s.memberId, ids)
  if (f.json) {
    printJson({
      runId,
      ...(outlook === undefined ? {} : { outlook }),
      ...(intervals === undefined
        ? {}
        : {
            intervals: {
              level: intervals.level,
              draws: intervals.draws,
              horizonDays: intervals.horizonDays,
              portfolio: intervals.portfolio,
            },
          }),
      scores: scores.map((s) => ({
        ...s,
        ...(ids.length === 0
          ? {}
          : { identities: Object.fromEntries(ids.map((t, k) => [t, idValues(s)[k]])) }),
        ...(intervals === undefined ? {} : { intervals: intervals.members.get(s.memberId) }),
      })),
    })
    return
  }
  // The forecast columns asked for: CSV name, table header, value.
  const t = translator(f.lang)
  const extra: Array<{
    csv: string
    header: string
    value: (s: MemberScore) => number | undefined
    text: (v: number | undefined) => string
  }> = []
  if (outlook?.expectedPurchases !== undefined) {
    const h = outlook.expectedPurchases.horizon
    extra.push({
      csv: `expected_purchases_${h}`,
      header: t('E[purchases {h}]', { h }),
      value: (s) => s.expectedPurchasesHorizon,
      text: (v) => decimal(v, 2),
    })
  }
  if (outlook?.noPurchase !== undefined) {
    const d = outlook.noPurchase.days
    extra.push({
      csv: `p_no_purchase_${d}d`,
      header: t('P(no purchase {d} days)', { d }),
      value: (s) => s.pNoPurchase,
      text: (v) => pct(v),
    })
  }
  if (outlook?.aliveAt !== undefined) {
    const date = outlook.aliveAt.date
    extra.push({
      csv: `p_alive_${date}`,
      header: t('P(alive) on {date}', { date }),
      value: (s) => s.pAliveAt,
      text: (v) => pct(v),
    })
  }
  // Interval columns: CSV lower and upper, one table column "lower–upper".
  const level = intervals === undefined ? '' : `${Math.round(intervals.level * 1000) / 10}%`
  const ranges: Array<{
    csv: string
    header: string
    bounds: (s: MemberScore) => { lower: number; upper: number } | undefined
    text: (v: number) => string
  }> =
    intervals === undefined
      ? []
      : [
          {
            csv: 'expected_purchases',
            header: t('E[purchases] {level}', { level }),
            bounds: (s) => intervals.members.get(s.memberId)?.expectedPurchases,
            text: (v) => decimal(v, 2),
          },
          {
            csv: 'purchases_pi',
            header: t('realised purchases {level} PI', { level }),
            bounds: (s) => intervals.members.get(s.memberId)?.realisedPurchases,
            text: (v) => fmt(v),
          },
          {
            csv: 'clv',
            header: t('CLV {level}', { level }),
            bounds: (s) => intervals.members.get(s.memberId)?.clv,
            text: (v) => money(v, f.lang),
          },
        ]
  const rows = scores.map((s) => [
    s.memberId,
    ...idValues(s),
    s.x,
    s.tX,
    s.tCal,
    s.zbar,
    s.pAlive,
    s.expectedPurchases,
    s.expectedSpend,
    s.clv,
    ...extra.map((e) => e.value(s)),
    ...ranges.flatMap((r) => [r.bounds(s)?.lower, r.bounds(s)?.upper]),
  ])
  if (f.csv) {
    process.stdout.write(
      toCsv(
        [
          SCORE_HEADER[0],
          ...ids,
          ...SCORE_HEADER.slice(1),
          ...extra.map((e) => e.csv),
          ...ranges.flatMap((r) => [`${r.csv}_lower`, `${r.csv}_upper`]),
        ],
        rows,
      ),
    )
    return
  }
  process.stdout.write(
    `${[
      pc.bold(t('Member scores — run {run} (by {order})', { run: runId, order: f.order })),
      table(
        [
          t('member'),
          ...ids.map((i) => identityTypeName(i, f.lang)),
          'x',
          't_x',
          'T',
          'z̄',
          'P(alive)',
          t('E[purchases]'),
          t('E[spend]'),
          'CLV',
          ...extra.map((e) => e.header),
          ...ranges.map((r) => r.header),
        ],
        scores.map((s) => [
          String(s.memberId),
          ...idValues(s).map((v) => v ?? MISSING),
          fmt(s.x),
          decimal(s.tX, 2),
          decimal(s.tCal, 2),
          money(s.zbar, f.lang),
          pct(s.pAlive),
          decimal(s.expectedPurchases, 2),
          money(s.expectedSpend, f.lang),
          money(s.clv, f.lang),
          ...extra.map((e) => e.text(e.value(s))),
          ...ranges.map((r) => {
            const b = r.bounds(s)
            return b === undefined ? MISSING : `${r.text(b.lower)}–${r.text(b.upper)}`
          }),
        ]),
      ),
      ...(intervals === undefined ? [] : ['', portfolioLines(intervals, f.lang)]),
    ].join('\n')}\n`,
  )
}

/** The portfolio total's intervals under a member listing. */
function portfolioLines(iv: RunIntervals, lang: Lang): string {
  const t = translator(lang)
  const p = iv.portfolio
  const level = `${Math.round(iv.level * 1000) / 10}%`
  const days = decimal(iv.horizonDays, 1)
  return [
    pc.bold(
      t(
        'Portfolio total — {members} members, next {days} days, {level} intervals ({draws} draws)',
        {
          members: fmt(p.members),
          days,
          level,
          draws: iv.draws,
        },
      ),
    ),
    keyValues([
      [
        t('expected purchases'),
        `${fmt(p.expectedPurchases.estimate, 0)}  (${fmt(p.expectedPurchases.lower, 0)}–${fmt(p.expectedPurchases.upper, 0)})`,
      ],
      [
        t('purchases to be made (prediction interval)'),
        `${fmt(p.realisedPurchases.lower)}–${fmt(p.realisedPurchases.upper)}`,
      ],
      ...(p.clv === undefined
        ? []
        : [
            [
              'CLV',
              `${money(p.clv.estimate, lang)}  (${money(p.clv.lower, lang)}–${money(p.clv.upper, lang)})`,
            ] as const,
          ]),
    ]),
  ].join('\n')
}

export function renderReport(r: ClvValidationReport, lang: Lang = 'en'): string {
  const tr = translator(lang)
  const t = r.tracking
  const step = Math.max(1, Math.ceil(t.actual.length / 12))
  const trackRows: string[][] = []
  for (let k = step - 1; k < t.actual.length; k += step) {
    trackRows.push([
      String(k + 1),
      fmt(t.actual[k] as number),
      fmt(t.predicted[k] as number, 1),
      k + 1 <= t.calibrationPeriods ? tr('calibration') : tr('clv|holdout'),
    ])
  }
  const ap = (actual: string, predicted: string) =>
    tr('actual {a}, predicted {p}', { a: actual, p: predicted })
  return [
    pc.bold(tr('Holdout validation — {model}', { model: r.purchase.kind })),
    keyValues([
      [tr('calibration'), `… ${r.options.calibrationEnd}`],
      [
        tr('clv|holdout'),
        `… ${r.options.holdoutEnd} (${decimal(r.holdoutLength, 2)} ${tr(r.options.unit === 'day' ? 'days' : 'weeks')})`,
      ],
      [tr('members'), fmt(r.members)],
      [tr('log-likelihood'), decimal(r.purchase.logLikelihood, 1)],
      [
        tr('holdout transactions'),
        `${ap(fmt(r.totals.actual), fmt(r.totals.predicted, 1))} (${pct(r.totals.predicted / r.totals.actual - 1)})`,
      ],
      [tr('holdout value'), ap(money(r.value.actual, lang), money(r.value.predicted, lang))],
      [
        tr('per member'),
        `MAE ${decimal(r.errors.mae)}, RMSE ${decimal(r.errors.rmse)}, ${tr('bias')} ${decimal(r.errors.bias)}`,
      ],
    ]),
    '',
    pc.bold(tr('Model comparison (same calibration summaries; lowest AIC preferred)')),
    table(
      [tr('model'), tr('log-likelihood'), 'AIC', 'BIC', tr('holdout transactions'), 'MAE', 'RMSE'],
      (r.modelComparison?.models ?? []).map((m) => [
        `${m.kind}${m.kind === r.modelComparison?.preferred ? ' *' : ''}`,
        m.logLikelihood === null ? tr('did not fit ¹') : decimal(m.logLikelihood, 1),
        m.aic === null ? MISSING : decimal(m.aic, 1),
        m.bic === null ? MISSING : decimal(m.bic, 1),
        m.holdout === null ? MISSING : fmt(m.holdout.predicted, 1),
        m.holdout === null ? MISSING : decimal(m.holdout.mae),
        m.holdout === null ? MISSING : decimal(m.holdout.rmse),
      ]),
    ),
    ...((r.modelComparison?.models ?? []).some((m) => m.logLikelihood === null)
      ? [
          tr(
            '¹ the model found no single best fit on these data (too few members, or too little variety between them, for this model; `--json` gives the optimiser’s message); it is left out of the choice',
          ),
        ]
      : []),
    '',
    pc.bold(tr('Mean holdout transactions by calibration frequency x')),
    table(
      ['x', tr('members'), tr('actual'), tr('predicted')],
      r.byFrequency.map((b) => [b.x, fmt(b.members), decimal(b.actual), decimal(b.predicted)]),
    ),
    '',
    pc.bold(tr('Cumulative transactions since {start} (tracking)', { start: t.start })),
    table(
      [tr(t.unit === 'day' ? 'day' : 'week'), tr('actual'), tr('predicted'), tr('period')],
      trackRows,
    ),
  ].join('\n')
}

function reportCsv(r: ClvValidationReport): string {
  return (
    toCsv(
      ['x', 'members', 'actual_mean', 'predicted_mean'],
      r.byFrequency.map((b) => [b.x, b.members, b.actual, b.predicted]),
    ) +
    '\n' +
    toCsv(
      ['period', 'cumulative_actual', 'cumulative_predicted'],
      r.tracking.actual.map((a, k) => [k + 1, a, r.tracking.predicted[k]]),
    )
  )
}

function termLabel(p: PlanRenewals, lang: Lang): string {
  const t = translator(lang)
  if (p.termMonths === 12) return t('year')
  if (p.termMonths >= 1)
    return p.termMonths === 1 ? t('month') : t('{n} months', { n: p.termMonths })
  return t('{n} days', { n: p.termDays })
}

function renderPlan(p: PlanRenewals, horizon: number, lang: Lang): string {
  const tr = translator(lang)
  const lines = [
    pc.bold(
      tr('Plan {plan} — {term} terms at {price}, {subscribers} subscribers, {active} active', {
        plan: p.plan,
        term: termLabel(p, lang),
        price: money(p.price, lang),
        subscribers: fmt(p.subscribers),
        active: fmt(p.activeMembers),
      }),
    ),
  ]
  if (p.fit === null) {
    lines.push(
      pc.yellow(
        `  ${tr('no sBG fit')}${lang === 'zh' ? '：' : ': '}${p.fitError === undefined || p.fitError === null ? tr('unknown reason') : lang === 'zh' ? (RENEWAL_REASONS_ZH[p.fitError] ?? p.fitError) : p.fitError}`,
      ),
    )
  } else {
    const f = p.fit
    lines.push(
      keyValues([
        [
          'sBG',
          `α ${decimal(f.params.alpha)} (SE ${decimal(f.standardErrors.alpha)}), β ${decimal(f.params.beta)} (SE ${decimal(f.standardErrors.beta)})`,
        ],
        [tr('mean churn at 1st renewal'), pct(f.meanChurn)],
        [
          tr('fitted on'),
          tr('{n} members, up to {periods} renewals, LL {ll}', {
            n: fmt(f.members),
            periods: f.periods,
            ll: decimal(f.logLikelihood, 1),
          }),
        ],
      ]),
    )
  }
  const rows: string[][] = []
  const T = Math.max(p.observedRetention.length, p.projection === null ? 0 : horizon)
  for (let t = 1; t <= T; t++) {
    rows.push([
      String(t),
      p.atRisk[t - 1] === undefined ? '' : fmt(p.atRisk[t - 1]),
      pct(p.observedRetention[t - 1]),
      pct(p.projection?.retention[t - 1]),
      pct(p.projection?.survival[t]),
    ])
  }
  lines.push(
    '',
    table(
      [
        tr('renewal'),
        tr('renewals|at risk'),
        tr('observed retention'),
        tr('sBG retention'),
        tr('sBG survival'),
      ],
      rows,
    ),
  )
  if (p.remaining !== null) {
    const r = p.remaining
    lines.push(
      '',
      keyValues([
        [
          tr('expected future renewals per active member'),
          `${r.expectedRenewals === null ? tr('∞ (α ≤ 1: the mean diverges)') : decimal(r.expectedRenewals, 2)}, ${tr('discounted')} ${decimal(r.discountedExpectedRenewals, 2)}`,
        ],
        [tr('residual value of the active members'), money(r.residualValue, lang)],
      ]),
    )
  }
  lines.push(
    '',
    table(
      [
        tr('cohort'),
        tr('subscribers'),
        tr('renewals seen'),
        tr('survivors now'),
        'α',
        'β',
        tr('params'),
        `S(${horizon})`,
        tr('active'),
        tr('residual value'),
      ],
      p.cohorts.map((c) => [
        c.cohort,
        fmt(c.subscribers),
        String(c.periods),
        fmt(c.survivors[c.survivors.length - 1]),
        c.fit === null ? MISSING : decimal(c.fit.params.alpha),
        c.fit === null ? MISSING : decimal(c.fit.params.beta),
        c.paramsFrom === null || c.paramsFrom === undefined
          ? MISSING
          : tr(c.paramsFrom === 'cohort' ? 'renewals|cohort' : 'renewals|plan'),
        pct(c.projection?.survival[horizon]),
        fmt(c.remaining?.activeMembers),
        money(c.remaining?.residualValue, lang),
      ]),
    ),
  )
  return lines.join('\n')
}

export function renderRenewals(r: RenewalsReport, lang: Lang = 'en'): string {
  return [
    pc.bold(
      translator(lang)(
        'Paid-membership renewals as of {asOf} (sBG, cohorts by {grain}, discount {rate} a year)',
        { asOf: r.asOf, grain: codeName(r.grain, lang), rate: pct(r.annualDiscountRate) },
      ),
    ),
    ...r.plans.map((p) => renderPlan(p, r.horizon, lang)),
  ].join('\n\n')
}

function renewalsCsv(r: RenewalsReport): string {
  const rows: unknown[][] = []
  for (const p of r.plans) {
    for (const c of p.cohorts) {
      const T = Math.max(c.survivors.length - 1, r.horizon)
      for (let t = 0; t <= T; t++) {
        rows.push([
          p.plan,
          c.cohort,
          t,
          c.survivors[t] ?? null,
          c.projection === null ? null : (c.projection.survival[t] ?? null),
          c.paramsFrom,
        ])
      }
    }
  }
  return toCsv(['plan', 'cohort', 'period', 'survivors', 'projected_survival', 'params_from'], rows)
}
