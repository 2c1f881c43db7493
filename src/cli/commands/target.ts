/**
 * `memberlens target`: who gets which offer within a budget, learnt from a past randomised campaign
 * (uplift models per arm, expected incremental revenue minus expected cost), with held-out Qini per arm,
 * bootstrap intervals, a contact-list export and, on simulated data, a comparison with the oracle.
 * Definitions: docs/targeting.md.
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Option, type Command } from 'commander'
import pc from 'picocolors'
import { parseArmsFile, type ArmsFile } from '../../analytics/targeting/arms.js'
import {
  evaluateTargeting,
  resolveKnownPersons,
  trueArmEffect,
  type KnownPerson,
  type TargetingEvaluation,
} from '../../analytics/targeting/evaluate.js'
import {
  formatTargetExport,
  getTargetExportRows,
  TARGET_EXPORT_FORMATS,
} from '../../analytics/targeting/export.js'
import {
  planTargeting,
  type Interval,
  type TargetingPlan,
} from '../../analytics/targeting/targeting.js'
import { saveTargetingRun } from '../../analytics/targeting/store.js'
import { systemClock } from '../../core/clock.js'
import { InputError } from '../../core/errors.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { UPLIFT_LEARNERS, type UpliftLearner } from '../../models/uplift.js'
import type { GroundTruth } from '../../simulate/simulate.js'
import { dbOption, withDatabase } from '../database.js'
import { langOption, translator, type Lang } from '../lang.js'
import { count, decimal, keyValues, money, pct, printJson, table } from '../output.js'
import { parseFlags } from '../validations/clv.js'
import { targetFlagsSchema } from '../validations/target.js'

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    throw InputError.single({ file: path, reason: 'file not found or not readable' })
  }
}

/** The persons of the simulator's retention campaign with their true effects per arm of `arms`. */
export function knownPersonsFromTruth(
  truth: GroundTruth,
  arms: ArmsFile,
  file: string,
): KnownPerson[] {
  const u = truth.uplift
  if (u === undefined) {
    throw InputError.single({
      file,
      field: 'uplift',
      reason: 'no simulated retention campaign in this truth file: simulate with --uplift-campaign',
    })
  }
  const offers = Object.entries(u.parameters.offers)
  const index = Object.entries(arms.arms).map(([name, a]) => {
    const k = offers.findIndex(([, o]) => o.offer === a.offer)
    if (k < 0) {
      throw InputError.single({
        file,
        field: `arms.${name}.offer`,
        value: a.offer,
        reason: `not an offer of the simulated campaign (${offers.map(([, o]) => o.offer).join(' | ')})`,
      })
    }
    return k
  })
  const configs = Object.values(arms.arms)
  return u.persons.map((p) => ({
    identityType: p.identityType,
    identityValue: p.identityValue,
    effects: configs.map((a, j) => {
      const k = index[j] as number
      return trueArmEffect(
        a,
        p.naturalAtEnd,
        p.induced[k] ?? 0,
        p.redemption[k] ?? 0,
        p.meanOrderValue,
      )
    }),
  }))
}

/** Plans, and with `truthFile` also evaluates against the simulator's truth. */
export async function runTargeting(
  driver: DuckDbDriver,
  arms: ArmsFile,
  options: {
    budget: number
    learner: UpliftLearner
    asOf?: string
    bootstrap: number
    seed: number
    truth?: { data: GroundTruth; file: string }
  },
): Promise<{
  plan: TargetingPlan & Parameters<typeof evaluateTargeting>[0]
  evaluation: TargetingEvaluation | null
}> {
  const known =
    options.truth === undefined
      ? null
      : await resolveKnownPersons(
          driver,
          knownPersonsFromTruth(options.truth.data, arms, options.truth.file),
        )
  const plan = await planTargeting(driver, arms, {
    budget: options.budget,
    learner: options.learner,
    bootstrap: options.bootstrap,
    seed: options.seed,
    ...(options.asOf === undefined ? {} : { asOf: options.asOf }),
    ...(known === null ? {} : { candidates: new Set(known.keys()) }),
  })
  return {
    plan,
    evaluation: known === null ? null : evaluateTargeting(plan, arms, known, options.seed),
  }
}

function withInterval(i: Interval, show: (v: number) => string, lang: Lang): string {
  const t = translator(lang)
  return i.low === null || i.high === null
    ? show(i.estimate)
    : `${show(i.estimate)}  ${t('(95% interval {low} … {high})', { low: show(i.low), high: show(i.high) })}`
}

/** The text view of a plan (and its evaluation). */
export function renderTargeting(
  plan: TargetingPlan,
  evaluation: TargetingEvaluation | null,
  lang: Lang,
  topN = 10,
): string {
  const t = translator(lang)
  const m = (v: number) => money(v, lang)
  const c = (v: number) => count(v, lang)
  const out: string[] = []
  out.push(
    pc.bold(
      t(
        'Uplift targeting — learnt from campaign {campaign} ({start}, {days}-day window), members as of {asOf}',
        {
          campaign: plan.campaignId,
          start: plan.campaignStart.slice(0, 10),
          days: plan.horizonDays,
          asOf: plan.asOf,
        },
      ),
    ),
  )
  out.push(
    `${t('randomised members')}: ${Object.entries(plan.randomised)
      .map(([arm, n]) => `${arm} ${c(n)}`)
      .join(' · ')}`,
  )
  out.push(
    '',
    pc.bold(t('Qini per arm on held-out randomised members (30 %), against random ranking')),
  )
  out.push(
    table(
      [
        t('arm'),
        t('learner'),
        'Qini',
        'AUUC',
        t('random'),
        t('uplift top 10%'),
        t('uplift top 30%'),
      ],
      plan.qini.map((q) => [
        q.arm,
        q.learner,
        decimal(q.qini, 4),
        decimal(q.auuc, 4),
        decimal(q.randomAuuc, 4),
        pct(q.upliftAt.find((u) => u.share === 0.1)?.uplift ?? null),
        pct(q.upliftAt.find((u) => u.share === 0.3)?.uplift ?? null),
      ]),
    ),
  )
  const p = plan.policy
  out.push(
    '',
    pc.bold(
      t('Plan within a budget of {budget} ({learner}, expected cost)', {
        budget: m(plan.budget),
        learner: plan.learner,
      }),
    ),
  )
  out.push(
    keyValues([
      [t('members targeted'), `${c(p.members)} / ${c(plan.candidates)}`],
      [
        t('by arm'),
        Object.entries(p.byArm)
          .map(([arm, a]) => `${arm} ${c(a.members)} (${m(a.cost)})`)
          .join(' · '),
      ],
      [t('left out: no positive net value'), c(plan.excludedNonPositive)],
      [t('incremental retained members'), withInterval(p.retained, (v) => c(Math.round(v)), lang)],
      [t('incremental revenue'), withInterval(p.revenue, m, lang)],
      [t('expected cost'), withInterval(p.cost, m, lang)],
      [t('net value (revenue − cost)'), withInterval(p.net, m, lang)],
      [
        t('ROI ((revenue − cost) / cost)'),
        p.roi === null ? '—' : withInterval(p.roi, (v) => `${v.toFixed(2)}×`, lang),
      ],
    ]),
  )
  const top = plan.rows.slice(0, topN)
  if (top.length > 0) {
    out.push(
      '',
      pc.bold(t('Best {n} by net value per cost', { n: top.length })),
      table(
        [t('member'), t('arm'), t('uplift'), t('order value'), t('cost'), t('net value')],
        top.map((r) => [
          String(r.memberId),
          r.arm,
          pct(r.uplift),
          money(r.orderValue, lang),
          money(r.cost, lang),
          money(r.net, lang),
        ]),
      ),
    )
  }
  if (evaluation !== null) {
    out.push(
      '',
      pc.bold(
        t('Against the true effects ({n} members with truth; comparison policies send {arm})', {
          n: c(evaluation.membersWithTruth),
          arm: evaluation.baselineArm,
        }),
      ),
      table(
        [
          t('policy'),
          t('members'),
          t('incremental retained members'),
          t('incremental revenue'),
          t('cost'),
          t('net value'),
        ],
        evaluation.policies.map((r) => [
          t(POLICY_NAMES[r.policy]),
          c(r.members),
          c(Math.round(r.retained)),
          m(r.revenue),
          m(r.cost),
          m(r.net),
        ]),
      ),
      keyValues([
        [t('share of the oracle’s net value'), pct(evaluation.shareOfOracle)],
        [
          t('share of the oracle by budget'),
          evaluation.byBudget.map((b) => `${m(b.budget)} ${pct(b.share)}`).join(' · '),
        ],
        [
          t('oracle’s spend without a budget'),
          `${m(evaluation.oracleUnlimitedCost)}  ${
            evaluation.oracleUnlimitedCost > plan.budget
              ? t('(the budget binds)')
              : t('(the budget does not bind: every member worth an offer fits)')
          }`,
        ],
        [
          t('true value inside the interval'),
          (['retained', 'revenue', 'net'] as const)
            .map(
              (k) =>
                `${t(k)} ${evaluation.insideInterval[k] === null ? '—' : evaluation.insideInterval[k] ? t('yes') : t('no')}`,
            )
            .join(' · '),
        ],
      ]),
    )
  }
  return out.join('\n')
}

const POLICY_NAMES = {
  uplift: 'uplift plan',
  oracle: 'oracle (true effects)',
  highest_risk: 'highest risk first',
  random: 'random',
} as const

/** Registers `memberlens target`. */
export function registerTargetCommands(program: Command): void {
  program
    .command('target')
    .description(
      'who gets which offer within a budget: uplift models learnt from a randomised campaign, expected incremental revenue minus cost, Qini per arm, bootstrap intervals, contact list; stores the report as a `target` run (API /api/v1/targeting, Risk page)',
    )
    .addOption(dbOption())
    .requiredOption(
      '--arms <file>',
      'arms file (YAML/JSON): campaign, horizon_days, baseline_arm, and per arm its offer text and costs (see examples/arms.yaml)',
    )
    .requiredOption('--budget <amount>', 'budget for the expected cost of the chosen offers (CNY)')
    .addOption(
      new Option(
        '--learner <learner>',
        'uplift model: bring-back (share of would-be non-buyers an offer brings back, by habit and order value), or an X- or T-learner on all features (see docs/targeting.md)',
      )
        .choices(UPLIFT_LEARNERS)
        .default('bring-back'),
    )
    .option('--as-of <date>', 'choose for members as of this day (default: the last purchase day)')
    .option('--bootstrap <n>', 'bootstrap resamples for the intervals (0: none)', '50')
    .option('--seed <n>', 'seed of the bootstrap and of the random comparison', '1')
    .option(
      '--evaluate',
      'compare with the oracle, highest-risk and random policies at the same budget, using the simulator truth',
      false,
    )
    .option(
      '--truth <file>',
      'truth.json of the simulated data (default: the demo’s, beside the database)',
    )
    .option(
      '--out <file>',
      'write the chosen members with identities and consent flags to this file',
    )
    .addOption(
      new Option('--format <format>', 'format of --out')
        .choices(TARGET_EXPORT_FORMATS)
        .default('csv'),
    )
    .option('--top <n>', 'chosen members to print', '10')
    .addOption(langOption('headers and labels'))
    .option('--json', 'machine-readable JSON on stdout', false)
    .addHelpText(
      'after',
      `
Examples:
  memberlens demo --uplift-campaign --no-serve     # a demo with a randomised four-arm campaign
  memberlens target --arms examples/arms.yaml --budget 50000 --evaluate
  memberlens target --arms arms.yaml --budget 50000 --out winback.csv --lang zh`,
    )
    .action(async (flags: unknown) => {
      const f = parseFlags(targetFlagsSchema, flags)
      const arms = parseArmsFile(await readText(f.arms), f.arms)
      let truth: { data: GroundTruth; file: string } | undefined
      if (f.evaluate) {
        const file = f.truth ?? join(dirname(f.db), '.memberlens', 'demo-data', 'truth.json')
        let data: GroundTruth
        try {
          data = JSON.parse(await readText(file)) as GroundTruth
        } catch (e) {
          if (e instanceof InputError) throw e
          throw InputError.single({ file, reason: 'not valid JSON' })
        }
        truth = { data, file }
      } else if (f.truth !== undefined) {
        throw InputError.single({ field: '--truth', reason: 'only with --evaluate' })
      }
      // Writes: the report is stored as a `target` run (the Risk page shows its Qini per arm).
      const result = await withDatabase(f.db, 'write', async (db) => {
        const r = await runTargeting(db.driver, arms, {
          budget: f.budget,
          learner: f.learner,
          bootstrap: f.bootstrap,
          seed: f.seed,
          ...(f.asOf === undefined ? {} : { asOf: f.asOf }),
          ...(truth === undefined ? {} : { truth }),
        })
        const runId = await saveTargetingRun(db.driver, r.plan, systemClock, arms)
        const exported =
          f.out === undefined ? null : await getTargetExportRows(db.driver, r.plan.rows)
        return { ...r, exported, runId }
      })
      if (f.out !== undefined && result.exported !== null) {
        await writeFile(f.out, formatTargetExport(result.exported, f.format))
      }
      const { internals: _internals, ...plan } = result.plan
      if (f.json) {
        printJson({
          runId: result.runId,
          ...plan,
          rows: plan.rows.slice(0, f.top),
          evaluation: result.evaluation,
          out: f.out ?? null,
        })
        return
      }
      const t = translator(f.lang)
      let text = renderTargeting(plan, result.evaluation, f.lang, f.top)
      if (f.out !== undefined)
        text += `\n\n${t('wrote {n} members to {file}', { n: plan.rows.length, file: f.out })}`
      process.stdout.write(`${text}\n`)
    })
}
