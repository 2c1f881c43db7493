/**
 * `memberlens lifecycle stages|flows|history|churn`: lifecycle stages (生命周期) as of a date with the
 * recommended action per stage, transitions between two dates, stage sizes over time, churn by period.
 * @module
 */
import { addTimeZoneOption } from '../time-zone-option.js'
import { Command, Option } from 'commander'
import pc from 'picocolors'
import { GRAINS, type Grain } from '../../engine/dialects/dialect.js'
import { getChurnFlows } from '../../engine/lifecycle/churn-flows.js'
import {
  LIFECYCLE_STAGES,
  STAGE_NAMES,
  stageActions,
} from '../../engine/lifecycle/lifecycle-config.js'
import { getStageCounts } from '../../engine/lifecycle/lifecycle-stages.js'
import {
  getStageSizesOverTime,
  getStageTransitions,
} from '../../engine/lifecycle/lifecycle-transitions.js'
import { langOption, translator, type Lang } from '../lang.js'
import { STAGE_ACTIONS_ZH } from '../messages.js'
import { fmt, pct, printJson, table, toCsv } from '../output.js'
import {
  zonedAsOfOption,
  checkInstant,
  outputOptions,
  resolveZonedAsOf,
} from '../validations/retention.js'
import { addEngineOptions, withEngine, type EngineFlags } from '../engine-options.js'
import { dbOption } from '../database.js'
import { loadLifecycleConfig } from '../validations/lifecycle.js'

interface Common extends EngineFlags {
  db: string
  tz: string
  config?: string
  lang: Lang
  json: boolean
  csv: boolean
}

/** Before registering, a member is in no stage: the flows' source of new members. */
const NOT_REGISTERED = { en: 'not yet registered', zh: '尚未注册' }

const name = (stage: string, lang: Lang) =>
  stage === 'not_registered'
    ? NOT_REGISTERED[lang]
    : ((STAGE_NAMES as Record<string, { en: string; zh: string }>)[stage]?.[lang] ?? stage)

function common(cmd: Command): Command {
  addEngineOptions(cmd)
    .addOption(dbOption())
    .option('--config <file>', 'lifecycle rules (YAML or JSON), see examples/lifecycle.yaml')
  addTimeZoneOption(cmd)
  cmd.addOption(langOption('stage names, actions and headers'))
  for (const o of outputOptions()) cmd.addOption(o)
  return cmd
}

/** Registers `memberlens lifecycle …`. */
export function registerLifecycleCommands(program: Command): void {
  const lifecycle = program
    .command('lifecycle')
    .description(
      'lifecycle stages (生命周期): sizes, flows between dates, history, churn and reactivation',
    )
    .addHelpText(
      'after',
      `
Stages: ${LIFECYCLE_STAGES.join(', ')}. Rules and defaults: docs/lifecycle.md.

Examples:
  memberlens lifecycle stages --as-of 2026-07-01
  memberlens lifecycle flows --from 2026-04-01 --to 2026-07-01 --json     # Sankey links
  memberlens lifecycle history --from 2025-11-01 --to 2026-10-31 --grain month --csv
  memberlens lifecycle churn --from 2026-01-01 --to 2026-09-30 --grain month`,
    )

  common(
    lifecycle
      .command('stages', { isDefault: true })
      .description('stage sizes as of a date, with the recommended action'),
  )
    .addOption(zonedAsOfOption())
    .action(async (flags: Common & { asOf?: string }) => {
      const config = await loadLifecycleConfig(flags.config)
      await withEngine(flags, async (driver) => {
        const at = await resolveZonedAsOf(driver, flags.asOf, flags.tz)
        const counts = await getStageCounts(driver, at.instant, config)
        const actions = stageActions(config)
        const total = counts.reduce((s, c) => s + c.members, 0)
        const rows = counts.map((c) => ({
          ...c,
          share: total > 0 ? c.members / total : 0,
          action: actions[c.stage],
        }))
        if (flags.json)
          return printJson({ asOf: at.local, timeZone: at.zone, config, stages: rows })
        if (flags.csv)
          return void process.stdout.write(
            toCsv(
              ['stage', 'members', 'share', 'action'],
              rows.map((r) => [r.stage, r.members, r.share, r.action]),
            ),
          )
        const t = translator(flags.lang)
        // An action the config did not override is the default one, which has a Chinese wording.
        const action = (r: (typeof rows)[number]) =>
          flags.lang === 'zh' && config.actions?.[r.stage] === undefined
            ? STAGE_ACTIONS_ZH[r.stage]
            : r.action
        process.stdout.write(
          `${pc.bold(t('Lifecycle stages as of {asOf}', { asOf: at.label }))} (${t('{n} members', { n: fmt(total) })})\n`,
        )
        process.stdout.write(
          `${table(
            [t('stage'), t('members'), t('share'), t('recommended action')],
            rows.map((r) => [name(r.stage, flags.lang), fmt(r.members), pct(r.share), action(r)]),
          )}\n`,
        )
      })
    })

  common(
    lifecycle
      .command('flows')
      .description('transition matrix between two dates (links for a Sankey chart)'),
  )
    .requiredOption('--from <date>', 'first date')
    .requiredOption('--to <date>', 'second date')
    .action(async (flags: Common & { from: string; to: string }) => {
      const config = await loadLifecycleConfig(flags.config)
      await withEngine(flags, async (driver) => {
        // Both dates are wall times in the project time zone.
        const from = await resolveZonedAsOf(driver, checkInstant('--from', flags.from), flags.tz)
        const to = await resolveZonedAsOf(driver, checkInstant('--to', flags.to), flags.tz)
        const flows = await getStageTransitions(driver, from.instant, to.instant, config)
        if (flags.json)
          return printJson({ from: flags.from, to: flags.to, timeZone: flags.tz, flows })
        if (flags.csv)
          return void process.stdout.write(
            toCsv(
              ['from', 'to', 'members'],
              flows.map((f) => [f.from, f.to, f.members]),
            ),
          )
        const t = translator(flags.lang)
        process.stdout.write(
          `${pc.bold(t('Stage flows {from} → {to}', { from: from.label, to: to.label }))}\n`,
        )
        process.stdout.write(
          `${table(
            [t('from'), t('to'), t('members')],
            flows.map((f) => [name(f.from, flags.lang), name(f.to, flags.lang), fmt(f.members)]),
          )}\n`,
        )
      })
    })

  common(lifecycle.command('history').description('stage sizes at the end of each period'))
    .requiredOption('--from <date>', 'first period (the one holding this date)')
    .requiredOption('--to <date>', 'last period (the one holding this date)')
    .addOption(new Option('--grain <grain>', 'period').choices(GRAINS).default('month'))
    .action(async (flags: Common & { from: string; to: string; grain: Grain }) => {
      const config = await loadLifecycleConfig(flags.config)
      await withEngine(flags, async (driver) => {
        const rows = await getStageSizesOverTime(driver, {
          from: checkInstant('--from', flags.from),
          to: checkInstant('--to', flags.to),
          grain: flags.grain,
          config,
          timezone: flags.tz,
        })
        if (flags.json) return printJson({ timeZone: flags.tz, history: rows })
        const header = ['period', 'as_of', ...LIFECYCLE_STAGES]
        const body = rows.map((r) => [
          r.periodStart,
          r.asOf,
          ...LIFECYCLE_STAGES.map((s) => r.sizes[s]),
        ])
        if (flags.csv) return void process.stdout.write(toCsv(header, body))
        process.stdout.write(
          `${table(
            [translator(flags.lang)('period'), ...LIFECYCLE_STAGES.map((s) => name(s, flags.lang))],
            rows.map((r) => [r.periodStart, ...LIFECYCLE_STAGES.map((s) => fmt(r.sizes[s]))]),
          )}\n`,
        )
      })
    })

  common(
    lifecycle
      .command('churn')
      .description('churned, not-churned-at-start and reactivated members per period'),
  )
    .requiredOption('--from <date>', 'first period')
    .requiredOption('--to <date>', 'last period')
    .addOption(new Option('--grain <grain>', 'period').choices(GRAINS).default('month'))
    .action(async (flags: Common & { from: string; to: string; grain: Grain }) => {
      const config = await loadLifecycleConfig(flags.config)
      await withEngine(flags, async (driver) => {
        const rows = await getChurnFlows(driver, {
          from: checkInstant('--from', flags.from),
          to: checkInstant('--to', flags.to),
          grain: flags.grain,
          config,
          timezone: flags.tz,
        })
        if (flags.json)
          return printJson({ churnDays: config.churnDays, timeZone: flags.tz, periods: rows })
        if (flags.csv)
          return void process.stdout.write(
            toCsv(
              [
                'period_start',
                'period_end',
                'not_churned_at_start',
                'churned',
                'reactivated',
                'churn_rate',
              ],
              rows.map((r) => [
                r.periodStart,
                r.periodEnd,
                r.notChurnedAtStart,
                r.churned,
                r.reactivated,
                r.churnRate,
              ]),
            ),
          )
        const t = translator(flags.lang)
        process.stdout.write(
          `${table(
            [
              t('period'),
              t('not churned at start'),
              t('churned'),
              t('churn rate'),
              t('reactivated'),
            ],
            rows.map((r) => [
              r.periodStart,
              fmt(r.notChurnedAtStart),
              fmt(r.churned),
              pct(r.churnRate),
              fmt(r.reactivated),
            ]),
          )}\n`,
        )
      })
    })
}
