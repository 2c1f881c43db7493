/**
 * `memberlens metrics list|get|drivers` and `memberlens tree`.
 * @module
 */
import { Command, Option } from 'commander'
import pc from 'picocolors'
import {
  analyzeDrivers,
  DEFAULT_CANDIDATES,
  type DriverResult,
} from '../../analytics/reporting/driver-analysis.js'
import { alignmentCalendar } from '../../calendar/index.js'
import { InputError } from '../../core/errors.js'
import { pushDownTreeTargets } from '../../analytics/reporting/target-pushdown.js'
import { GRAINS } from '../../engine/dialects/dialect.js'
import { type MetricDef, CATALOG } from '../../engine/metrics/catalog.js'
import { parseCustomMetrics } from '../../engine/metrics/custom.js'
import { runMetrics, type MetricResult } from '../../engine/metrics/run.js'
import { DEFAULT_TREE, evaluateTree } from '../../engine/metrics/tree.js'
import { timeZoneOption } from '../time-zone-option.js'
import { addEngineOptions, withEngine } from '../engine-options.js'
import { codeName, langOption, translator, type Lang } from '../lang.js'
import {
  DIMENSION_NAMES,
  DIRECTION_NAMES_ZH,
  FAMILY_NAMES_ZH,
  GENDER_NAMES_ZH,
  UNIT_NAMES_ZH,
} from '../messages.js'
import { STAGE_NAMES } from '../../engine/lifecycle/lifecycle-config.js'
import { RFM_SEGMENT_NAMES } from '../../engine/rfm/rfm-config.js'
import { MISSING, printJson, table } from '../output.js'
import { MEMBER_DIMENSIONS, ROW_DIMENSIONS } from '../../engine/metrics/dimensions.js'
import { metricDefinitionView, metricResultView } from '../../engine/metrics/views.js'
import { dbOption } from '../database.js'
import { readConfigFile } from '../config-file.js'
import { alignmentNote, renderTree, formatValue } from '../render/tree.js'

/** Custom metrics from `--metrics-file`, if given. */
export async function loadCustomMetrics(path: string | undefined): Promise<MetricDef[]> {
  return path === undefined ? [] : parseCustomMetrics(await readConfigFile(path), path)
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v)
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function metricResultCsv(r: MetricResult): string {
  const header = ['period', ...r.by, ...r.columns.map((c) => c.key)]
  const lines = r.rows.map((row) =>
    [row.label, ...r.by.map((b) => row.dims[b]), ...r.columns.map((c) => row.values[c.key])]
      .map(csvCell)
      .join(','),
  )
  return [header.map(csvCell).join(','), ...lines].join('\n')
}

/** A dimension's name in the language (an attribute or experiment dimension as given). */
function dimensionName(id: string, lang: Lang): string {
  return DIMENSION_NAMES[id]?.[lang] ?? id
}

/** A dimension's value in the language: stage, segment, gender and channel codes in words. */
export function dimensionValue(id: string, value: string, lang: Lang): string {
  if (id === 'lifecycle_stage')
    return (STAGE_NAMES as Record<string, { en: string; zh: string }>)[value]?.[lang] ?? value
  if (id === 'rfm_segment')
    return (RFM_SEGMENT_NAMES as Record<string, { en: string; zh: string }>)[value]?.[lang] ?? value
  if (lang === 'en') return value
  if (id === 'gender') return GENDER_NAMES_ZH[value] ?? value
  return codeName(value, lang)
}

function renderMetricResult(r: MetricResult, lang: Lang): string {
  const tr = translator(lang)
  const header = [
    tr('period'),
    ...r.by.map((b) => dimensionName(b, lang)),
    ...r.columns.map((c) =>
      c.trend ? `${c.metric.name[lang]} ${c.key.split(':')[1]}` : c.metric.name[lang],
    ),
  ]
  const rows = r.rows.map((row) => [
    row.label,
    ...r.by.map((b) => {
      const v = row.dims[b]
      return v === null || v === undefined ? tr('(none)') : dimensionValue(b, String(v), lang)
    }),
    ...r.columns.map((c) =>
      formatValue(
        row.values[c.key],
        c.trend ? (c.trend.kind === 'avg' ? c.metric.unit : 'change') : c.metric.unit,
        lang,
      ),
    ),
  ])
  // How each period was compared for :yoy_event (the same for every column and dimension value).
  const aligned = r.columns.find((c) => c.trend?.kind === 'yoy_event')
  const notes = new Map<string, string>()
  if (aligned !== undefined)
    for (const row of r.rows) {
      const a = row.alignments?.[aligned.key]
      if (a !== undefined && !notes.has(row.label))
        notes.set(row.label, alignmentNote(row.label, a, lang))
    }
  return notes.size === 0
    ? table(header, rows)
    : `${table(header, rows)}\n${pc.dim([...notes.values()].join('\n'))}`
}

function renderDrivers(d: DriverResult, lang: Lang): string {
  const tr = translator(lang)
  const f = (x: number | null) => (x !== null && Number.isFinite(x) ? x.toFixed(2) : MISSING)
  if (d.from === null)
    return tr('No orders or events yet: load data with `memberlens ingest` first.')
  const coreName = CATALOG.find((m) => m.id === d.core)?.name[lang] ?? d.core
  return [
    pc.bold(
      `${tr('Drivers of {core} across {groups} groups, {from} … {to}', { core: coreName, groups: d.groups, from: d.from, to: d.to ?? '' })}${d.r2 === null ? '' : ` ${lang === 'zh' ? '（' : '('}${tr('joint model R²')} ${f(d.r2)}${lang === 'zh' ? '）' : ')'}`}`,
    ),
    table(
      [tr('metric'), 'r', tr('{level}% CI', { level: 95 }), tr('beta'), tr('importance')],
      d.drivers.map((x) => [
        x.name[lang],
        f(x.r),
        x.ci === null ? MISSING : `${f(x.ci[0])} … ${f(x.ci[1])}`,
        f(x.beta),
        `${(x.importance * 100).toFixed(0)}%`,
      ]),
    ),
  ].join('\n')
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/** `--align`, `--reach` and `--events`: how `:yoy_event` aligns periods on the retail calendar. */
function addAlignmentOptions(c: Command): Command {
  return c
    .option(
      '--align <events>',
      ':yoy_event: comma-separated calendar event ids periods are aligned on (default spring_festival,mid_year_618,double_11; see memberlens calendar)',
      list,
    )
    .addOption(
      new Option(
        '--reach <days>',
        ':yoy_event: a period further than this from every event is compared by the calendar 同比 (default 31)',
      ).argParser(reachDays),
    )
    .option('--events <file>', "the brand's own events (YAML, docs/calendar.md) to align on")
}

function reachDays(value: string): number {
  const n = Number(value)
  if (!/^\d{1,3}$/.test(value) || n > 183)
    throw InputError.single({
      field: '--reach',
      value,
      reason: 'expected a whole number of days from 0 to 183',
    })
  return n
}

async function alignmentFrom(flags: { align?: string[]; reach?: number; events?: string }) {
  const brand =
    flags.events === undefined ? [] : (await import('./calendar.js')).readEvents(flags.events)
  return alignmentCalendar(brand, {
    ...(flags.align === undefined ? {} : { events: flags.align }),
    ...(flags.reach === undefined ? {} : { reachDays: flags.reach }),
  })
}

export function registerMetricsCommands(program: Command): void {
  const lang = () => langOption('metric names, headers and statuses')
  const metrics = program
    .command('metrics')
    .description('the metric catalog (指标): list, read, and find drivers')

  metrics
    .command('list')
    .description('list every metric with its formula, unit, direction and dimensions')
    .option('--metrics-file <file>', 'custom metrics (YAML or JSON)')
    .option(
      '--family <family>',
      'only one family: activity, purchase, retention, value, satisfaction, acquisition, loyalty',
    )
    .addOption(lang())
    .option('--json', 'machine-readable JSON', false)
    .action(async (flags: { metricsFile?: string; family?: string; lang: Lang; json: boolean }) => {
      const tr = translator(flags.lang)
      const defs = [...CATALOG, ...(await loadCustomMetrics(flags.metricsFile))].filter(
        (m) => flags.family === undefined || m.family === flags.family,
      )
      if (flags.json) {
        printJson({ metrics: defs.map(metricDefinitionView) })
        return
      }
      // In Chinese the formula is read in the metric's definition (`memberlens explain <id>`): the catalog's
      // formulas are written in English.
      const zh = flags.lang === 'zh'
      process.stdout.write(
        `${table(
          [
            'id',
            tr('name'),
            tr('family'),
            tr('unit'),
            tr('better'),
            ...(zh ? [] : [tr('formula')]),
          ],
          defs.map((m) => [
            m.id,
            m.name[flags.lang],
            zh ? FAMILY_NAMES_ZH[m.family] : m.family,
            zh ? UNIT_NAMES_ZH[m.unit] : m.unit,
            zh ? DIRECTION_NAMES_ZH[m.direction] : m.direction,
            ...(zh ? [] : [m.formula]),
          ]),
        )}\n`,
      )
      if (zh)
        process.stdout.write(
          pc.dim(`\n${tr('Formulas and definitions: memberlens explain <id>')}\n`),
        )
      process.stdout.write(
        pc.dim(
          `\n${tr('Trend forms of any metric: <id>:pop (vs previous period), <id>:yoy (vs last year), <id>:yoy_event (vs last year, aligned on the nearest calendar event), <id>:avgN (rolling mean).')}\n`,
        ),
      )
    })

  const get = addEngineOptions(metrics.command('get'))
    .description('read metrics over a period range, by grain and dimensions')
    .argument(
      '<metrics...>',
      'metric ids, e.g. net_revenue aov net_revenue:yoy net_revenue:yoy_event (同比 aligned on 春节, 618, 双11)',
    )
    .addOption(dbOption())
    .requiredOption('--from <date>', 'first period (YYYY-MM-DD, YYYY-MM or YYYY)')
    .requiredOption('--to <date>', 'last period, inclusive')
    .addOption(new Option('--grain <grain>', 'period grain').choices(GRAINS).default('month'))
    .option(
      '--by <dimensions>',
      `comma-separated dimensions: ${[...MEMBER_DIMENSIONS, ...ROW_DIMENSIONS].join(', ')}, attribute:<key>, experiment:<id> (lifecycle_stage and rfm_segment as of the end of the range, tier at the last ledger sync)`,
      list,
    )
    .option(
      '--where <condition>',
      'member filter, e.g. region=上海, lifecycle_stage=at_risk or "registration_channel in app|web" (repeatable)',
      collect,
      [],
    )
    .addOption(timeZoneOption())
    .option('--metrics-file <file>', 'custom metrics (YAML or JSON)')
    .addOption(lang())
    .option('--json', 'machine-readable JSON', false)
    .option('--csv', 'CSV on stdout', false)
  addAlignmentOptions(get).action(async (ids: string[], flags) => {
    const extraMetrics = await loadCustomMetrics(flags.metricsFile)
    const alignment = await alignmentFrom(flags)
    const r = await withEngine(flags, (driver) =>
      runMetrics(driver, {
        metrics: ids,
        from: flags.from,
        to: flags.to,
        grain: flags.grain,
        by: flags.by ?? [],
        where: flags.where,
        timezone: flags.tz,
        extraMetrics,
        alignment,
      }),
    )
    if (flags.json) printJson(metricResultView(r))
    else if (flags.csv) process.stdout.write(`${metricResultCsv(r)}\n`)
    else process.stdout.write(`${renderMetricResult(r, flags.lang)}\n`)
  })

  addEngineOptions(metrics.command('drivers'))
    .description(
      'rank related metrics by how strongly they move with a core metric (correlation with 95% CI, joint model)',
    )
    .argument('<core>', 'core metric, e.g. period_retention')
    .addOption(dbOption())
    .option(
      '--candidates <metrics>',
      `comma-separated related metrics (default: ${DEFAULT_CANDIDATES.join(', ')})`,
      list,
    )
    .option('--from <date>', 'first period (default: 12 periods before --to)')
    .option('--to <date>', "last period, inclusive (default: the data's last complete period)")
    .addOption(new Option('--grain <grain>', 'period grain').choices(GRAINS).default('month'))
    .option('--by <dimensions>', 'dimensions that make the groups (default cohort)', list)
    .option('--metrics-file <file>', 'custom metrics (YAML or JSON)')
    .addOption(lang())
    .option('--json', 'machine-readable JSON', false)
    .action(async (core: string, flags) => {
      const extraMetrics = await loadCustomMetrics(flags.metricsFile)
      const d = await withEngine(flags, (driver) =>
        analyzeDrivers(driver, {
          core,
          ...(flags.from === undefined ? {} : { from: flags.from }),
          ...(flags.to === undefined ? {} : { to: flags.to }),
          grain: flags.grain,
          ...(flags.candidates ? { candidates: flags.candidates } : {}),
          ...(flags.by ? { by: flags.by } : {}),
          extraMetrics,
        }),
      )
      if (flags.json) printJson(d)
      else process.stdout.write(`${renderDrivers(d, flags.lang)}\n`)
    })

  const tree = addEngineOptions(program.command('tree'))
    .description(
      'the metric tree (指标体系): goal → core → related → trend metrics with targets and status; for a target on a product or sum (net revenue = buyers × frequency × AOV), what each part needs to reach it',
    )
    .addOption(dbOption())
    .option('--config <file>', 'tree config (YAML or JSON); default: the fresh-food worked example')
    .option(
      '--period <date>',
      'period to evaluate (any date in it); default: the last complete period of the data',
    )
    .option('--metrics-file <file>', 'custom metrics (YAML or JSON)')
    .option(
      '--yoy-event',
      'also compare every node with last year aligned on the nearest calendar event (春节 ±N days, the 双11 window)',
      false,
    )
    .addOption(timeZoneOption())
    .addOption(lang())
    .option('--json', 'machine-readable JSON', false)
  addAlignmentOptions(tree).action(async (flags) => {
    const config = flags.config === undefined ? DEFAULT_TREE : await readConfigFile(flags.config)
    const extraMetrics = await loadCustomMetrics(flags.metricsFile)
    const alignment = await alignmentFrom(flags)
    const t = await withEngine(flags, (driver) =>
      evaluateTree(driver, config as typeof DEFAULT_TREE, {
        ...(flags.period ? { period: flags.period } : {}),
        extraMetrics,
        timezone: flags.tz,
        yoyEvent: flags.yoyEvent === true,
        alignment,
      }).then((tree) => pushDownTreeTargets(driver, tree, { extraMetrics, timezone: flags.tz })),
    )
    if (flags.json) printJson(t)
    else process.stdout.write(`${renderTree(t, flags.lang)}\n`)
  })
}
