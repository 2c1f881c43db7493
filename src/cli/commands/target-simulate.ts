/**
 * `memberlens target-simulate`: before a campaign runs, what one arm of the arms file would cost and bring
 * back if sent to a whole segment (a churn class of the latest risk scoring, or every buyer): expected cost
 * by part, incremental value with its interval, ROI and the break-even redemption rate of a coupon.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { Option, type Command } from 'commander'
import pc from 'picocolors'
import { churnClassMembers } from '../../analytics/risk/churn-reasons.js'
import type { ChurnClass } from '../../analytics/risk/early-warning.js'
import { parseArmsFile } from '../../analytics/targeting/arms.js'
import {
  simulateCampaign,
  type CampaignSimulation,
  type Interval,
} from '../../analytics/targeting/targeting.js'
import { InputError } from '../../core/errors.js'
import { UPLIFT_LEARNERS } from '../../models/uplift.js'
import { dbOption, withDatabase } from '../database.js'
import { langOption, translator, type Lang } from '../lang.js'
import { CHURN_CLASS_NAMES } from '../messages.js'
import { decimal, keyValues, money, pct, printJson } from '../output.js'
import { parseFlags } from '../validations/clv.js'
import { SIMULATION_SEGMENTS, targetSimulateFlagsSchema } from '../validations/target.js'

export function registerTargetSimulateCommand(program: Command): void {
  program
    .command('target-simulate')
    .description(
      'before launch: one arm sent to a whole segment — expected cost (contact, coupon face value × P(redeem), points at liability value), incremental value with an interval, ROI, break-even redemption rate',
    )
    .addOption(dbOption())
    .requiredOption('--arms <file>', 'arms file (YAML/JSON), as for `memberlens target`')
    .requiredOption('--arm <name>', 'the arm to send')
    .addOption(
      new Option(
        '--segment <segment>',
        'who gets it: every buyer, or a churn class of the latest risk scoring',
      )
        .choices(SIMULATION_SEGMENTS)
        .default('all'),
    )
    .addOption(
      new Option(
        '--learner <learner>',
        'uplift model: bring-back (share of would-be non-buyers an offer brings back, by habit and order value), or an X- or T-learner on all features (see docs/targeting.md)',
      )
        .choices(UPLIFT_LEARNERS)
        .default('bring-back'),
    )
    .option('--as-of <date>', 'members as of this day (default: the last purchase day)')
    .option('--bootstrap <n>', 'bootstrap resamples for the intervals (0: none)', '50')
    .option('--seed <n>', 'seed of the bootstrap', '1')
    .addOption(langOption('headers and labels'))
    .option('--json', 'machine-readable JSON on stdout', false)
    .addHelpText(
      'after',
      `
Examples:
  memberlens target-simulate --arms examples/arms.yaml --segment price-sensitive --arm coupon_20
  memberlens target-simulate --arms arms.yaml --segment service-dissatisfied --arm service_call --lang zh`,
    )
    .action(async (flags: unknown) => {
      const f = parseFlags(targetSimulateFlagsSchema, flags)
      let text: string
      try {
        text = await readFile(f.arms, 'utf8')
      } catch {
        throw InputError.single({ file: f.arms, reason: 'file not found or not readable' })
      }
      const arms = parseArmsFile(text, f.arms)
      const result = await withDatabase(f.db, 'read', async (db) => {
        const segment =
          f.segment === 'all'
            ? undefined
            : (await churnClassMembers(db.driver, f.segment as ChurnClass)).members
        return simulateCampaign(db.driver, arms, {
          arm: f.arm,
          ...(segment === undefined ? {} : { members: segment }),
          learner: f.learner,
          ...(f.asOf === undefined ? {} : { asOf: f.asOf }),
          bootstrap: f.bootstrap,
          seed: f.seed,
        })
      })
      if (f.json) {
        printJson({ segment: f.segment, ...result })
        return
      }
      process.stdout.write(renderCampaignSimulation(result, f.segment, f.lang))
    })
}

/** The simulation for people: the parts of the cost, then value, net, ROI and the break-even rate. */
export function renderCampaignSimulation(
  r: CampaignSimulation,
  segment: string,
  lang: Lang = 'en',
): string {
  const t = translator(lang)
  const seg =
    segment === 'all'
      ? t('every buyer')
      : lang === 'zh'
        ? (CHURN_CLASS_NAMES[segment as ChurnClass]?.zh ?? segment)
        : segment
  const range = (i: Interval, f: (x: number) => string): string =>
    i.low === null || i.high === null
      ? f(i.estimate)
      : `${f(i.estimate)} (95% ${f(i.low)} … ${f(i.high)})`
  const m = (x: number) => money(x, lang)
  return `${[
    pc.bold(
      t('Campaign simulation: {arm} to {segment} ({n} members)', {
        arm: r.arm,
        segment: seg,
        n: r.members,
      }),
    ),
    keyValues([
      [t('learned from'), `${r.learnedFrom} · ${r.learner} · ${t('as of {day}', { day: r.asOf })}`],
      [t('contact cost'), m(r.costParts.contact)],
      [
        t('coupon cost (face value × P(redeem))'),
        `${m(r.costParts.coupons)} · ${t('{n} expected redemptions', { n: decimal(r.expectedRedemptions, 1) })}`,
      ],
      [t('points cost (liability value)'), m(r.costParts.points)],
      [t('expected cost'), range(r.cost, m)],
      [t('members retained'), range(r.retained, (x) => decimal(x, 1))],
      [t('incremental value'), range(r.value, m)],
      [t('net value'), range(r.net, m)],
      [t('ROI ((revenue − cost) / cost)'), r.roi === null ? '—' : range(r.roi, (x) => pct(x, 1))],
      [
        t('break-even redemption rate'),
        r.breakEvenRedemptionRate === null ? t('no coupon') : pct(r.breakEvenRedemptionRate, 1),
      ],
    ]),
  ].join('\n')}\n`
}
