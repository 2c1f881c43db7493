/**
 * `memberlens cohorts`: cohort retention tables (N-period or unbounded), bracket retention, LTV curves and
 * acquisition payback; any cell can be saved as a segment.
 * @module
 */
import { timeZoneOption } from '../time-zone-option.js'
import { Command, Option } from 'commander'
import pc from 'picocolors'
import { systemClock } from '../../core/clock.js'
import { InputError } from '../../core/errors.js'
import {
  getBracketRetention,
  parseBrackets,
  type BracketCohort,
} from '../../engine/cohorts/bracket-retention.js'
import {
  getCohortLtv,
  getCohortPayback,
  type LtvCurve,
  type PaybackRow,
} from '../../engine/cohorts/cohort-ltv.js'
import {
  getCohortRetention,
  RETENTION_FORMS,
  type RetentionForm,
  type RetentionTable,
} from '../../engine/cohorts/cohort-retention.js'
import {
  COHORT_ANCHORS,
  COHORT_GRAINS,
  cohortSpecSchema,
  type CohortSpec,
} from '../../engine/cohorts/cohort-spec.js'
import { dimensionSchema } from '../../engine/cohorts/dimension.js'
import type { Driver } from '../../engine/drivers/driver.js'
import { saveSegment } from '../../engine/segments/segment-store.js'
import { codeName, langOption, translator, type Lang } from '../lang.js'
import { MISSING, fmt, pct, printJson, table, money, toCsv } from '../output.js'
import {
  checkInstant,
  zonedAsOfOption,
  outputOptions,
  parseWith,
  resolveZonedAsOf,
} from '../validations/retention.js'
import { addEngineOptions, withEngine, type EngineFlags } from '../engine-options.js'
import { dbOption, withDatabase } from '../database.js'
import { renderRetention } from '../render/retention.js'

interface CohortFlags extends EngineFlags {
  db: string
  anchor: string
  grain: string
  activity: string
  periods: string
  from?: string
  to?: string
  asOf?: string
  tz: string
  by?: string
  form: string
  brackets?: string
  ltv: boolean
  payback: boolean
  saveCell?: string
  cohort?: string
  period?: string
  inactive: boolean
  lang?: Lang
  json: boolean
  csv: boolean
}

// Escape sequences of picocolors: CSI … m.

function retentionCsv(t: RetentionTable): string {
  return toCsv(
    ['cohort', 'dimension', 'size', 'period', 'active', 'eligible', 'rate', 'complete'],
    t.cohorts.flatMap((c) =>
      c.cells.map((x) => [
        c.cohort,
        c.dimension,
        c.size,
        x.period,
        x.active,
        x.eligible,
        x.rate,
        x.complete,
      ]),
    ),
  )
}

function renderBrackets(rows: BracketCohort[], lang: Lang): string {
  const tr = translator(lang)
  const brackets =
    rows[0]?.cells.map((c) => tr('{from}–{to} d', { from: c.bracket.from, to: c.bracket.to })) ?? []
  return table(
    [tr('cohort'), tr('dimension'), tr('members'), ...brackets],
    rows.map((r) => [
      r.cohort,
      r.dimension ?? MISSING,
      fmt(r.size),
      ...r.cells.map((c) =>
        c.rate === null ? MISSING : tr('{rate} of {n}', { rate: pct(c.rate), n: fmt(c.eligible) }),
      ),
    ]),
  )
}

function renderLtv(curves: LtvCurve[], periods: number, lang: Lang): string {
  const tr = translator(lang)
  return table(
    [
      tr('cohort'),
      tr('dimension'),
      tr('members'),
      ...Array.from({ length: periods + 1 }, (_, k) => `${k}`),
    ],
    curves.map((c) => [
      c.cohort,
      c.dimension ?? MISSING,
      fmt(c.size),
      ...c.points.map((p) => money(p.ltv, lang)),
    ]),
  )
}

function renderPayback(rows: PaybackRow[], lang: Lang): string {
  const tr = translator(lang)
  return table(
    [
      tr('cohort'),
      tr('channel'),
      tr('members'),
      tr('spend'),
      tr('cost/member'),
      tr('LTV to date'),
      tr('payback period'),
    ],
    rows.map((r) => [
      r.cohort,
      r.channel === null || r.channel === undefined ? MISSING : codeName(r.channel, lang),
      fmt(r.members),
      money(r.spend, lang),
      money(r.costPerMember, lang),
      money(r.ltvToDate, lang),
      r.paybackPeriod === null ? tr('not yet') : String(r.paybackPeriod),
    ]),
  )
}

async function runCohorts(flags: CohortFlags): Promise<void> {
  // commander has checked --form against RETENTION_FORMS.
  const form = flags.form as RetentionForm
  const lang = flags.lang ?? 'en'
  const run = async (driver: Driver): Promise<void> => {
    // Periods, --as-of, --from and --to are counted in the project time zone.
    const asOf = (await resolveZonedAsOf(driver, flags.asOf, flags.tz)).local
    if (flags.by !== undefined) parseWith(dimensionSchema, flags.by, '--by value')
    const spec: CohortSpec = parseWith(cohortSpecSchema, {
      anchor: flags.anchor,
      grain: flags.grain,
      activity: flags.activity,
      periods: Number(flags.periods),
      asOf,
      timezone: flags.tz,
      ...(flags.from === undefined ? {} : { from: checkInstant('--from', flags.from) }),
      ...(flags.to === undefined ? {} : { to: checkInstant('--to', flags.to) }),
      ...(flags.by === undefined ? {} : { dimension: flags.by }),
    })
    if (flags.saveCell !== undefined) {
      if (flags.cohort === undefined)
        throw parseError(
          '--cohort',
          'required with --save-cell (YYYY-MM-DD, first day of the cohort)',
        )
      const saved = await saveSegment(
        driver,
        {
          name: flags.saveCell,
          description: `cohort ${flags.cohort}${flags.period === undefined ? '' : ` period ${flags.period}`}`,
          filter: {
            cohort: {
              anchor: spec.anchor,
              grain: spec.grain,
              activity: spec.activity,
              asOf,
              timezone: flags.tz,
              cohort: flags.cohort,
              ...(flags.period === undefined ? {} : { period: Number(flags.period) }),
              unbounded: form === 'unbounded',
              active: !flags.inactive,
            },
          },
        },
        systemClock,
      )
      if (flags.json) printJson({ saved })
      else
        process.stdout.write(
          `Saved segment ${pc.bold(saved.name)}: memberlens segments export ${saved.name} --db ${flags.db}\n`,
        )
      return
    }
    if (flags.brackets !== undefined) {
      let brackets
      try {
        brackets = parseBrackets(flags.brackets)
      } catch (e) {
        throw parseError('--brackets', (e as Error).message)
      }
      const rows = await getBracketRetention(driver, spec, brackets)
      if (flags.json) return printJson({ spec, brackets: rows })
      if (flags.csv) {
        return void process.stdout.write(
          toCsv(
            ['cohort', 'dimension', 'size', 'from_day', 'to_day', 'active', 'eligible', 'rate'],
            rows.flatMap((r) =>
              r.cells.map((c) => [
                r.cohort,
                r.dimension,
                r.size,
                c.bracket.from,
                c.bracket.to,
                c.active,
                c.eligible,
                c.rate,
              ]),
            ),
          ),
        )
      }
      return void process.stdout.write(`${renderBrackets(rows, lang)}\n`)
    }
    if (flags.payback) {
      const rows = await getCohortPayback(driver, {
        grain: spec.grain,
        periods: spec.periods,
        asOf,
        timezone: flags.tz,
        ...(spec.from ? { from: spec.from } : {}),
        ...(spec.to ? { to: spec.to } : {}),
      })
      if (flags.json) return printJson({ payback: rows })
      if (flags.csv)
        return void process.stdout.write(
          toCsv(
            [
              'cohort',
              'channel',
              'members',
              'spend',
              'cost_per_member',
              'payback_period',
              'ltv_to_date',
            ],
            rows.map((r) => [
              r.cohort,
              r.channel,
              r.members,
              r.spend,
              r.costPerMember,
              r.paybackPeriod,
              r.ltvToDate,
            ]),
          ),
        )
      return void process.stdout.write(`${renderPayback(rows, lang)}\n`)
    }
    if (flags.ltv) {
      const curves = await getCohortLtv(driver, spec)
      if (flags.json) return printJson({ spec, ltv: curves })
      if (flags.csv)
        return void process.stdout.write(
          toCsv(
            ['cohort', 'dimension', 'size', 'period', 'revenue', 'ltv'],
            curves.flatMap((c) =>
              c.points.map((p) => [c.cohort, c.dimension, c.size, p.period, p.revenue, p.ltv]),
            ),
          ),
        )
      return void process.stdout.write(`${renderLtv(curves, spec.periods, lang)}\n`)
    }
    const t = await getCohortRetention(driver, spec, form)
    if (flags.json) return printJson(t)
    if (flags.csv) return void process.stdout.write(retentionCsv(t))
    process.stdout.write(`${renderRetention(t, lang)}\n`)
  }
  // A saved cell is a segment, written to the DuckDB database whatever the engine.
  if (flags.saveCell !== undefined) await withDatabase(flags.db, 'write', (db) => run(db.driver))
  else await withEngine(flags, run)
}

function parseError(field: string, reason: string): InputError {
  return InputError.single({ field, reason })
}

/**
 * The retention part of the demo's main job: the monthly registration-cohort table of the last 12 cohorts
 * (12 periods, any activity) and the lifecycle stage sizes, as of the day after the latest activity.
 */
/** Registers `memberlens cohorts`. */
export function registerCohortCommands(program: Command): void {
  const cmd = addEngineOptions(program.command('cohorts'))
    .description(
      'cohort retention (留存): tables by registration or first-purchase period, brackets, LTV, payback',
    )
    .addOption(dbOption())
    .addOption(
      new Option('--anchor <anchor>', 'what puts a member in a cohort')
        .choices(COHORT_ANCHORS)
        .default('registration'),
    )
    .addOption(
      new Option('--grain <grain>', 'cohort period').choices(COHORT_GRAINS).default('month'),
    )
    .option('--activity <activity>', 'any | event | purchase | event:<type>', 'any')
    .option('--periods <n>', 'last period shown (0 = the cohort period)', '12')
    .addOption(
      new Option('--form <form>', 'active in period k, or in k or later')
        .choices(RETENTION_FORMS)
        .default('n-period'),
    )
    .option('--from <date>', 'first cohort (anchor on or after)')
    .option('--to <date>', 'cohorts anchored before this date')
    .addOption(zonedAsOfOption())
    .addOption(timeZoneOption())
    .option(
      '--by <dimension>',
      'split: registration_channel, region, city, gender, first_order_channel, experiment:<id>, attribute:<key>',
    )
    .option(
      '--brackets <ranges>',
      'bracket retention on days since the anchor, e.g. 1-7,8-30,31-90',
    )
    .option('--ltv', 'cumulative net revenue per cohort member (LTV curves)', false)
    .option(
      '--payback',
      'acquisition cost per member and payback period by registration cohort and channel',
      false,
    )
    .option(
      '--save-cell <name>',
      'save the members of one cell as a segment (with --cohort and --period); written to the DuckDB --db whatever the engine',
    )
    .option('--cohort <date>', 'the cell’s cohort (first day of its period)')
    .option('--period <k>', 'the cell’s period (omit for the whole cohort)')
    .option('--inactive', 'with --save-cell: the cohort members NOT active in the period', false)
    .addOption(langOption())
  for (const o of outputOptions()) cmd.addOption(o)
  cmd
    .addHelpText(
      'after',
      `
Period 0 is the cohort's own period (as Amplitude and PostHog). A cell is shown only once its period has
ended before --as-of; members too young for a period are not in its denominator. See docs/retention.md.

Examples:
  memberlens cohorts --periods 12
  memberlens cohorts --anchor first-purchase --activity purchase --grain quarter --periods 8
  memberlens cohorts --by registration_channel --form unbounded
  memberlens cohorts --brackets 1-7,8-30,31-90 --grain week
  memberlens cohorts --ltv --periods 24 --csv > ltv.csv
  memberlens cohorts --payback
  memberlens cohorts --save-cell jan-lapsed --cohort 2026-01-01 --period 3 --inactive`,
    )
    .action(async (flags: CohortFlags) => runCohorts(flags))
}
