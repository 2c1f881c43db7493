/**
 * `memberlens rfm`: RFM segment sizes and value as of a date, movement from an earlier date, or every
 * member's scores.
 * @module
 */
import { timeZoneOption } from '../time-zone-option.js'
import { Command } from 'commander'
import pc from 'picocolors'
import { RFM_SEGMENT_NAMES, rfmConfigSchema, type RfmConfig } from '../../engine/rfm/rfm-config.js'
import { getRfmMovement, getRfmScores, getRfmSummary } from '../../engine/rfm/rfm-scores.js'
import { langOption, translator, type Lang } from '../lang.js'
import { fmt, pct, printJson, table, money, toCsv } from '../output.js'
import {
  zonedAsOfOption,
  checkInstant,
  outputOptions,
  parseWith,
  resolveZonedAsOf,
} from '../validations/retention.js'
import { addEngineOptions, withEngine, type EngineFlags } from '../engine-options.js'
import { dbOption } from '../database.js'
import { readConfigFile } from '../config-file.js'
import { idsOption } from '../member-options.js'
import { InputError } from '../../core/errors.js'
import type { IdentityType } from '../../core/schema.js'
import { identityValues, memberIdentityColumns } from '../../engine/segments/identity-columns.js'

interface RfmFlags extends EngineFlags {
  db: string
  tz: string
  asOf?: string
  compare?: string
  members: boolean
  ids?: IdentityType[]
  config?: string
  lang: Lang
  json: boolean
  csv: boolean
}

async function loadRfmConfig(path: string | undefined): Promise<RfmConfig> {
  if (path === undefined) return rfmConfigSchema.parse({})
  const raw = await readConfigFile(path)
  const body =
    raw !== null && typeof raw === 'object' && 'rfm' in raw ? (raw as { rfm: unknown }).rfm : raw
  return parseWith(rfmConfigSchema, body ?? {}, `${path} setting`)
}

/** `none`: not scored at that date (no purchase yet). */
const NOT_SCORED = { en: 'not scored (no purchase yet)', zh: '未评分（尚无购买）' }

const label = (s: string, lang: Lang) =>
  s === 'none'
    ? NOT_SCORED[lang]
    : ((RFM_SEGMENT_NAMES as Record<string, { en: string; zh: string }>)[s]?.[lang] ?? s)

/** Registers `memberlens rfm`. */
export function registerRfmCommands(program: Command): void {
  const cmd = addEngineOptions(program.command('rfm'))
    .description('RFM scores and named segments: sizes, value, movement between dates')
    .addOption(dbOption())
    .addOption(zonedAsOfOption())
    .option('--compare <date>', 'show movement between segments from this earlier date to --as-of')
    .addOption(timeZoneOption())
    .option('--members', 'every scored member (use with --csv or --json)', false)
    .addOption(idsOption('with --members: add these source identities as columns'))
    .option(
      '--config <file>',
      'scoring (quantiles or fixed cut points), lookback and segment grid (YAML/JSON)',
    )
    .addOption(langOption('segment names and headers'))
  for (const o of outputOptions()) cmd.addOption(o)
  cmd
    .addHelpText(
      'after',
      `
Scores 1–5 by quintile of rank (ties share a score) unless the config gives fixed cut points; segments from
R and FM = round((F + M) / 2). See docs/lifecycle.md#rfm.

Examples:
  memberlens rfm
  memberlens rfm --lang zh --as-of 2026-07-01
  memberlens rfm --compare 2026-04-01 --as-of 2026-07-01
  memberlens rfm --members --csv > rfm.csv
  memberlens rfm --members --ids customer_id,phone --csv > rfm.csv`,
    )
    .action(async (flags: RfmFlags) => {
      const config = await loadRfmConfig(flags.config)
      const t = translator(flags.lang)
      await withEngine(flags, async (driver) => {
        const at = await resolveZonedAsOf(driver, flags.asOf, flags.tz)
        const asOf = at.instant
        if (flags.ids !== undefined && !flags.members) {
          throw InputError.single({
            field: '--ids',
            value: flags.ids.join(','),
            reason: 'adds identity columns to the member list: use it with --members',
          })
        }
        if (flags.members) {
          const scores = await getRfmScores(driver, asOf, config)
          const ids = flags.ids ?? []
          const identities = await memberIdentityColumns(
            driver,
            scores.map((s) => s.memberId),
            ids,
          )
          const idValues = (memberId: number) => identityValues(identities, memberId, ids)
          if (flags.json)
            return printJson({
              asOf: at.local,
              timeZone: at.zone,
              scores:
                ids.length === 0
                  ? scores
                  : scores.map((s) => ({
                      ...s,
                      identities: Object.fromEntries(
                        ids.map((t, k) => [t, idValues(s.memberId)[k]]),
                      ),
                    })),
            })
          return void process.stdout.write(
            toCsv(
              [
                'member_id',
                ...ids,
                'recency_days',
                'frequency',
                'monetary',
                'r',
                'f',
                'm',
                'fm',
                'segment',
              ],
              scores.map((s) => [
                s.memberId,
                ...idValues(s.memberId),
                s.recencyDays,
                s.frequency,
                s.monetary,
                s.r,
                s.f,
                s.m,
                s.fm,
                s.segment,
              ]),
            ),
          )
        }
        if (flags.compare !== undefined) {
          const from = await resolveZonedAsOf(
            driver,
            checkInstant('--compare', flags.compare),
            flags.tz,
          )
          const moves = await getRfmMovement(driver, from.instant, asOf, config)
          if (flags.json)
            return printJson({
              from: from.local,
              to: at.local,
              timeZone: at.zone,
              movement: moves,
            })
          if (flags.csv)
            return void process.stdout.write(
              toCsv(
                ['from', 'to', 'members'],
                moves.map((m) => [m.from, m.to, m.members]),
              ),
            )
          process.stdout.write(
            `${pc.bold(t('RFM movement {from} → {to}', { from: from.label, to: at.label }))}\n`,
          )
          return void process.stdout.write(
            `${table(
              [t('from'), t('to'), t('members')],
              moves.map((m) => [
                label(m.from, flags.lang),
                label(m.to, flags.lang),
                fmt(m.members),
              ]),
            )}\n`,
          )
        }
        const summary = await getRfmSummary(driver, asOf, config)
        if (flags.json)
          return printJson({ asOf: at.local, timeZone: at.zone, config, segments: summary })
        if (flags.csv)
          return void process.stdout.write(
            toCsv(
              [
                'segment',
                'members',
                'share',
                'revenue',
                'revenue_share',
                'avg_recency_days',
                'avg_frequency',
                'avg_monetary',
              ],
              summary.map((s) => [
                s.segment,
                s.members,
                s.share,
                s.revenue,
                s.revenueShare,
                s.avgRecencyDays,
                s.avgFrequency,
                s.avgMonetary,
              ]),
            ),
          )
        process.stdout.write(`${pc.bold(t('RFM segments as of {asOf}', { asOf: at.label }))}\n`)
        process.stdout.write(
          `${table(
            [
              t('segment'),
              t('members'),
              t('share'),
              t('revenue'),
              t('of revenue'),
              t('avg days since'),
              t('avg orders'),
              t('avg value'),
            ],
            summary.map((s) => [
              label(s.segment, flags.lang),
              fmt(s.members),
              pct(s.share),
              money(s.revenue, flags.lang),
              pct(s.revenueShare),
              fmt(s.avgRecencyDays, 0),
              fmt(s.avgFrequency, 1),
              money(s.avgMonetary, flags.lang),
            ]),
          )}\n`,
        )
      })
    })
}
