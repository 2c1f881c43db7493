/**
 * `memberlens funnel`: key-event completion (关键事件完成率) over ordered steps within a conversion window.
 * @module
 */
import { utcTimestampText, wallTimeIn } from '../../core/time-zone.js'
import { timeZoneOption } from '../time-zone-option.js'
import { Command } from 'commander'
import pc from 'picocolors'
import { InputError } from '../../core/errors.js'
import {
  funnelSpecSchema,
  parseStepShorthand,
  type FunnelStep,
} from '../../engine/funnels/funnel-spec.js'
import { getFunnel } from '../../engine/funnels/funnel-query.js'
import { codeName, langOption, translator, type Lang } from '../lang.js'
import { MISSING, fmt, pct, printJson, table, toCsv } from '../output.js'
import { checkInstant, outputOptions, parseWith } from '../validations/retention.js'
import { addEngineOptions, withEngine, type EngineFlags } from '../engine-options.js'
import { dbOption } from '../database.js'
import { readConfigFile } from '../config-file.js'

interface FunnelFlags extends EngineFlags {
  db: string
  tz: string
  step: string[]
  window?: string
  from?: string
  to?: string
  by?: string
  config?: string
  lang?: Lang
  json: boolean
  csv: boolean
}

const duration = (s: number | null, lang: Lang) => {
  const t = translator(lang)
  return s === null
    ? MISSING
    : s < 120
      ? t('{n} s', { n: fmt(s) })
      : s < 7200
        ? t('{n} min', { n: fmt(s / 60, 1) })
        : s < 172_800
          ? t('{n} h', { n: fmt(s / 3600, 1) })
          : t('{n} d', { n: fmt(s / 86_400, 1) })
}

/** Registers `memberlens funnel`. */
export function registerFunnelCommands(program: Command): void {
  const cmd = addEngineOptions(program.command('funnel'))
    .description(
      'funnel conversion: members reaching each ordered step within a window, drop-off, time between steps',
    )
    .addOption(dbOption())
    .option(
      '--step <event[key=value,…]>',
      'a step (repeat in order)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--window <days>', 'days from the first step to complete the others (default 7)')
    .option('--from <date>', 'first steps on or after this date (in the project time zone --tz)')
    .option('--to <date>', 'first steps before this date (in the project time zone --tz)')
    .addOption(timeZoneOption())
    .option('--by <dimension>', 'split by a member dimension')
    .option(
      '--config <file>',
      'the funnel as YAML/JSON: steps, windowDays, from, to, dimension (flags override)',
    )
    .addOption(langOption())
  for (const o of outputOptions()) cmd.addOption(o)
  cmd
    .addHelpText(
      'after',
      `
Each member enters at their first step-1 event in [from, to); later steps must follow in order within the
window. Property filters match the event's properties JSON as text.

Examples:
  memberlens funnel --step page_view --step add_to_cart --step 'checkout_step[step=1]' --from 2026-09-01 --to 2026-10-01
  memberlens funnel --config checkout-funnel.yaml --by registration_channel --json`,
    )
    .action(async (flags: FunnelFlags) => {
      const file =
        flags.config === undefined
          ? {}
          : ((await readConfigFile(flags.config)) as Record<string, unknown>)
      let steps: FunnelStep[] | undefined
      try {
        steps = flags.step.length > 0 ? flags.step.map(parseStepShorthand) : undefined
      } catch (e) {
        throw InputError.single({ field: '--step', reason: (e as Error).message })
      }
      const spec = parseWith(funnelSpecSchema, {
        ...file,
        ...(steps === undefined ? {} : { steps }),
        ...(flags.window === undefined ? {} : { windowDays: Number(flags.window) }),
        ...(flags.from === undefined ? {} : { from: checkInstant('--from', flags.from) }),
        ...(flags.to === undefined ? {} : { to: checkInstant('--to', flags.to) }),
        ...(flags.by === undefined ? {} : { dimension: flags.by }),
      })
      await withEngine(flags, async (driver) => {
        // The range is read in the project time zone; the builder takes UTC instants.
        const inZone = (t: string) => utcTimestampText(wallTimeIn(t, flags.tz))
        const results = await getFunnel(driver, {
          ...spec,
          from: inZone(spec.from),
          to: inZone(spec.to),
        })
        if (flags.json) return printJson({ spec, timeZone: flags.tz, results })
        if (flags.csv) {
          return void process.stdout.write(
            toCsv(
              [
                'dimension',
                'step',
                'label',
                'members',
                'step_conversion',
                'overall_conversion',
                'drop_off',
                'median_seconds_from_previous',
              ],
              results.flatMap((r) =>
                r.steps.map((s) => [
                  r.dimension,
                  s.step,
                  s.label,
                  s.members,
                  s.stepConversion,
                  s.overallConversion,
                  s.dropOff,
                  s.medianSecondsFromPrevious,
                ]),
              ),
            ),
          )
        }
        const t = translator(flags.lang)
        if (results.length === 0)
          return void process.stdout.write(
            `${t('No member reached the first step in the range.')}\n`,
          )
        for (const r of results) {
          const range = t('({from} … {to}, window {days} d)', {
            from: spec.from ?? '',
            to: `${spec.to ?? ''} ${flags.tz}`,
            days: spec.windowDays,
          })
          process.stdout.write(
            `${pc.bold(`${t('Funnel')}${r.dimension === null ? '' : ` · ${r.dimension}`} ${range}`)}\n`,
          )
          process.stdout.write(
            `${table(
              [
                t('step'),
                t('members'),
                t('of previous'),
                t('of first'),
                t('drop-off'),
                t('median time'),
              ],
              r.steps.map((s) => [
                `${s.step}. ${codeName(s.label, flags.lang ?? 'en')}`,
                fmt(s.members),
                pct(s.stepConversion),
                pct(s.overallConversion),
                fmt(s.dropOff),
                duration(s.medianSecondsFromPrevious, flags.lang ?? 'en'),
              ]),
            )}\n\n`,
          )
        }
      })
    })
}
