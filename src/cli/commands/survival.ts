/**
 * `memberlens survival`: Kaplan–Meier curve of time to churn, median lifetime with its confidence interval,
 * by dimension.
 * @module
 */
import { timeZoneOption } from '../time-zone-option.js'
import { Command, Option } from 'commander'
import pc from 'picocolors'
import { getSurvival } from '../../analytics/lifetime/survival.js'
import { SURVIVAL_ORIGINS, type SurvivalOrigin } from '../../engine/lifecycle/churn-durations.js'
import { fmt, pct, printJson, table, toCsv } from '../output.js'
import { dimensionSchema } from '../../engine/cohorts/dimension.js'
import {
  zonedAsOfOption,
  outputOptions,
  parseWith,
  resolveZonedAsOf,
} from '../validations/retention.js'
import { addEngineOptions, withEngine, type EngineFlags } from '../engine-options.js'
import { lifecycleConfigSchema } from '../../engine/lifecycle/lifecycle-config.js'
import { codeName, langOption, translator, type Lang } from '../lang.js'
import { dbOption } from '../database.js'
import { loadLifecycleConfig } from '../validations/lifecycle.js'

interface SurvivalFlags extends EngineFlags {
  db: string
  tz: string
  asOf?: string
  origin: SurvivalOrigin
  by?: string
  config?: string
  churnDays?: string
  confidence: string
  curve: boolean
  lang?: Lang
  json: boolean
  csv: boolean
}

/** Registers `memberlens survival`. */
export function registerSurvivalCommands(program: Command): void {
  const cmd = addEngineOptions(program.command('survival'))
    .description(
      'member lifetime: Kaplan–Meier curve of time to churn with censoring, median with CI',
    )
    .addOption(dbOption())
    .addOption(zonedAsOfOption())
    .addOption(timeZoneOption())
    .addOption(
      new Option('--origin <origin>', 'start of the clock')
        .choices(SURVIVAL_ORIGINS)
        .default('first-purchase'),
    )
    .option(
      '--by <dimension>',
      'one curve per value: registration_channel, region, experiment:<id>, …',
    )
    .option('--config <file>', 'lifecycle rules (churnDays is used)')
    .option(
      '--churn-days <n>',
      'days without a purchase that make a member churned (overrides the config)',
    )
    .option('--confidence <level>', 'confidence level of the intervals', '0.95')
    .option('--curve', 'print every step of the curve', false)
    .addOption(langOption())
  for (const o of outputOptions()) cmd.addOption(o)
  cmd
    .addHelpText(
      'after',
      `
Churn follows the lifecycle rules (churnDays without a purchase) and is dated at the last purchase, so the
curve moves from day 0. A churn is seen only churnDays later: members still buying after --as-of − churnDays
are censored there, and members whose origin is after it are left out. Intervals: Greenwood variance, log-log transform; median interval by
Brookmeyer–Crowley ("open" when the band never falls below 50 %).

Examples:
  memberlens survival
  memberlens survival --by registration_channel --churn-days 180
  memberlens survival --curve --csv > km.csv`,
    )
    .action(async (flags: SurvivalFlags) => {
      const base = await loadLifecycleConfig(flags.config)
      const config =
        flags.churnDays === undefined
          ? base
          : parseWith(
              lifecycleConfigSchema,
              { ...base, churnDays: Number(flags.churnDays) },
              '--churn-days value',
            )
      await withEngine(flags, async (driver) => {
        const at = await resolveZonedAsOf(driver, flags.asOf, flags.tz)
        const groups = await getSurvival(driver, {
          asOf: at.instant,
          origin: flags.origin,
          config,
          confidence: Number(flags.confidence),
          ...(flags.by === undefined
            ? {}
            : { dimension: parseWith(dimensionSchema, flags.by, '--by value') }),
        })
        if (flags.json)
          return printJson({
            asOf: at.local,
            timeZone: at.zone,
            churnDays: config.churnDays,
            origin: flags.origin,
            groups,
          })
        if (flags.curve || flags.csv) {
          const rows = groups.flatMap((g) =>
            g.curve.steps.map((s) => [
              g.dimension,
              s.time,
              s.atRisk,
              s.events,
              s.censored,
              s.survival,
              s.lower,
              s.upper,
            ]),
          )
          return void process.stdout.write(
            toCsv(
              ['dimension', 'days', 'at_risk', 'churned', 'censored', 'survival', 'lower', 'upper'],
              rows,
            ),
          )
        }
        const t = translator(flags.lang)
        if (groups.length === 0)
          return void process.stdout.write(
            `${t(
              'No buyer can be observed yet: a churn is seen {days} days after the last purchase, and no first purchase is that far before {asOf} (try a shorter --churn-days).',
              { days: config.churnDays, asOf: at.label },
            )}\n`,
          )
        const days = groups[0]?.checkpoints.map((c) => c.days) ?? []
        process.stdout.write(
          `${pc.bold(
            t('Time to churn ({days} days without a purchase) from {origin}, as of {asOf}', {
              days: config.churnDays,
              origin: codeName(flags.origin, flags.lang ?? 'en'),
              asOf: at.label,
            }),
          )}\n`,
        )
        process.stdout.write(
          `${table(
            [
              t('group'),
              t('members'),
              t('churned'),
              t('median days'),
              t('{level}% CI', { level: Math.round(Number(flags.confidence) * 100) }),
              ...days.map((d) => `S(${d})`),
            ],
            groups.map((g) => [
              g.dimension ?? t('all'),
              fmt(g.members),
              fmt(g.churned),
              g.medianDays === null ? t('not reached') : fmt(g.medianDays, 0),
              `${fmt(g.medianLowerDays, 0)} – ${g.medianUpperDays === null ? t('open') : fmt(g.medianUpperDays, 0)}`,
              ...g.checkpoints.map((c) => pct(c.survival)),
            ]),
          )}\n`,
        )
      })
    })
}
