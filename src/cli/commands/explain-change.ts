/**
 * `memberlens explain-change <metric> --period YYYY-MM`: why a metric moved. Its change against the previous
 * period (环比) and the same period last year (同比) is split exactly into the parts of its formula's children
 * (net revenue = buyers × purchase frequency × AOV), e.g. "Net revenue 2026-10 vs previous period −4.2%: Buyers
 * −5.1 pts, Average order value +0.9 pts". (`memberlens explain <term>` is the glossary.)
 * @module
 */
import { Command, Option } from 'commander'
import pc from 'picocolors'
import { readFileSync } from 'node:fs'
import {
  FORMULAS,
  explainChange,
  explainChangeBy,
  parseFormulas,
  type ChangeByDimension,
  type ChangeExplanation,
  type ChangePart,
  type ComparisonSplit,
  type DimensionDrill,
} from '../../analytics/reporting/change-explanation.js'
import { ConfigError } from '../../core/errors.js'
import { GRAINS, type Grain } from '../../engine/dialects/dialect.js'
import { parseCustomMetrics } from '../../engine/metrics/custom.js'
import { readConfigFile } from '../config-file.js'
import { dbOption } from '../database.js'
import { addEngineOptions, withEngine, type EngineFlags } from '../engine-options.js'
import { langOption, translator, type Lang } from '../lang.js'
import { DIMENSION_NAMES, type Message } from '../messages.js'
import { printJson, table } from '../output.js'
import { timeZoneOption } from '../time-zone-option.js'
import { formatValue } from '../render/tree.js'
import type { Unit } from '../../engine/metrics/catalog.js'

const MINUS = '\u2212'

/** A signed number with a typographic minus (+0.9, −5.1); `ascii` keeps "-" so table columns align as numbers. */
function signed(n: number, decimals: number, ascii = false): string {
  const text = Math.abs(n).toFixed(decimals)
  if (Number(text) === 0) return text
  return `${n < 0 ? (ascii ? '-' : MINUS) : '+'}${text}`
}

const METHOD: Readonly<Record<ComparisonSplit['method'], Message>> = {
  lmdi: 'change|log-mean Divisia index (LMDI)',
  shapley: 'change|Shapley values',
  sum: 'change|sum of the changes',
}

/** The headline of one comparison: "Net revenue 2026-10 vs previous period −4.2%: Buyers −5.1 pts, …". */
export function headline(e: ChangeExplanation, split: ComparisonSplit, lang: Lang): string {
  const t = translator(lang)
  const parts = split.parts
    .map((p) =>
      p.points === null
        ? `${p.name[lang]} ${signed(p.contribution, 2)}`
        : t('{name} {points} pts', { name: p.name[lang], points: signed(p.points * 100, 1) }),
    )
    .join(lang === 'zh' ? '，' : ', ')
  const rate = split.rate === null ? signed(split.change, 2) : `${signed(split.rate * 100, 1)}%`
  const vars = { metric: e.name[lang], label: e.label, base: split.baseLabel, rate, parts }
  return split.vs === 'pop'
    ? t('{metric} {label} vs previous period {rate}: {parts}', vars)
    : t('{metric} {label} vs {base} (same period last year) {rate}: {parts}', vars)
}

/** The explanation as terminal text: a headline and a table per comparison. */
export function renderExplanation(e: ChangeExplanation, lang: Lang): string {
  const t = translator(lang)
  // Figures in their metric's unit, as the tree prints them (¥ and 万 for money, whole counts, %).
  const value = (v: number | null, unit: string) => formatValue(v, unit as Unit, lang)
  const signedValue = (v: number, unit: string) => `${v > 0 ? '+' : ''}${value(v, unit)}`
  const lines = [
    pc.bold(`${e.name[lang]} (${e.metric}) ${e.label}: ${value(e.value, e.unit)}`),
    pc.dim(t('Formula: {formula}', { formula: e.formula.text })),
  ]
  for (const [vs, split] of [
    ['pop', e.pop],
    ['yoy', e.yoy],
  ] as const) {
    lines.push('')
    if (split === null) {
      lines.push(
        t(
          vs === 'pop'
            ? 'change|No split against the previous period: a value is missing or a divisor is 0.'
            : 'change|No split against last year: a value is missing or a divisor is 0.',
        ),
      )
      continue
    }
    lines.push(pc.bold(headline(e, split, lang)))
    lines.push(
      table(
        [
          t('change|part'),
          split.baseLabel,
          e.label,
          t('change|own change'),
          t('change|contribution'),
          t('change|pts'),
        ],
        split.parts.map((p) => [
          p.name[lang],
          value(p.before, p.unit),
          value(p.after, p.unit),
          p.rate === null ? '–' : `${signed(p.rate * 100, 1, true)}%`,
          signedValue(p.contribution, e.unit),
          p.points === null ? '–' : signed(p.points * 100, 1, true),
        ]),
      ),
    )
    lines.push(
      pc.dim(
        t('{before} → {after}, change {change}; method: {method}', {
          before: value(split.before, e.unit),
          after: value(split.after, e.unit),
          change: signedValue(split.change, e.unit),
          method: t(METHOD[split.method]),
        }),
      ),
    )
  }
  return lines.join('\n')
}

const dimensionName = (d: string, lang: Lang): string => DIMENSION_NAMES[d]?.[lang] ?? d

/** A part as "Buyers −5.1 pts" (or its contribution when the base is 0). */
function partText(p: ChangePart, lang: Lang): string {
  return p.points === null
    ? `${p.name[lang]} ${signed(p.contribution, 2)}`
    : translator(lang)('{name} {points} pts', {
        name: p.name[lang],
        points: signed(p.points * 100, 1),
      })
}

/** The split by dimensions as text: a table per level and the largest source at the end. */
export function renderDrill(e: ChangeByDimension, drill: DimensionDrill, lang: Lang): string {
  const t = translator(lang)
  const money = (v: number) => formatValue(v, e.unit as Unit, lang)
  const signedValue = (v: number) => `${v > 0 ? '+' : ''}${money(v)}`
  const lines: string[] = []
  for (const level of drill.levels) {
    const title = t(
      drill.vs === 'pop'
        ? 'change|By {dimension}, vs previous period'
        : 'change|By {dimension}, vs last year',
      { dimension: dimensionName(level.dimension, lang) },
    )
    const within = level.within.map((w) => w.value ?? '–').join(' · ')
    lines.push(
      '',
      pc.bold(within === '' ? title : `${title} ${t('change|within {path}', { path: within })}`),
    )
    lines.push(
      table(
        [
          t('change|value'),
          t('change|change'),
          t('change|share of base'),
          t('change|surprise'),
          t('change|largest part'),
        ],
        level.groups.map((g) => [
          `${g.value ?? '–'}${g.value === level.drill ? ' ◀' : ''}`,
          signedValue(g.change),
          g.share === null ? '–' : `${(g.share * 100).toFixed(1)}%`,
          g.surprise === null ? '–' : signedValue(g.surprise),
          g.parts?.[0] === undefined ? '–' : partText(g.parts[0], lang),
        ]),
      ),
    )
  }
  if (drill.largest !== null) {
    const path = drill.largest.path.map((p) => p.value ?? '–').join(' · ')
    const part =
      drill.largest.part === null ? t('change|(none)') : partText(drill.largest.part, lang)
    lines.push(
      '',
      pc.bold(
        t(
          drill.vs === 'pop'
            ? 'change|Largest, vs previous period: {path} {part}'
            : 'change|Largest, vs last year: {path} {part}',
          { path, part },
        ),
      ),
    )
  }
  return lines.join('\n')
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (e) {
    throw new ConfigError(`${file}: cannot be read (${(e as Error).message})`)
  }
}

interface Flags extends EngineFlags {
  db: string
  formulas?: string
  metricsFile?: string
  period?: string
  grain: Grain
  tz: string
  lang: Lang
  json: boolean
  by?: string
}

/** Registers `memberlens explain-change`. */
export function registerExplainChangeCommands(program: Command): void {
  addEngineOptions(program.command('explain-change'))
    .description(
      'why a metric moved: its change vs the previous period and last year split exactly into its formula’s parts',
    )
    .argument(
      '<metric>',
      `a metric with a product or sum formula (built in: ${Object.keys(FORMULAS).join(', ')}; or --formulas)`,
    )
    .addOption(dbOption())
    .option(
      '--period <date>',
      'period to explain (YYYY-MM or any date in it); default: the last complete period',
    )
    .addOption(new Option('--grain <grain>', 'period length').choices(GRAINS).default('month'))
    .option(
      '--formulas <file>',
      'formulas of your own (YAML): net_revenue: { sum: [gross_sales], minus: [returned_amount] }',
    )
    .option('--metrics-file <file>', 'custom metrics (YAML or JSON) the formulas may use')
    .option(
      '--by <dimensions>',
      'also split the change by up to three dimensions, drilling into the most surprising value (e.g. region,registration_channel)',
    )
    .addOption(timeZoneOption())
    .addOption(langOption('the explanation'))
    .option('--json', 'machine-readable JSON', false)
    .addHelpText(
      'after',
      `
Products are split by the log-mean Divisia index (LMDI) when every value is positive, otherwise by Shapley
values; sums give each part its own change. --formulas adds formulas of your own (checked against the data:
one that does not reproduce its metric is refused). The parts add up to the parent's change exactly; "pts" are
percentage points of the parent's change rate. See docs/metrics.md.

Examples:
  memberlens explain-change net_revenue --period 2026-10
  memberlens explain-change aov --period 2026-10 --lang zh
  memberlens explain-change net_revenue --formulas formulas.yaml --metrics-file metrics.yaml
  memberlens explain-change net_revenue --period 2026-07 --grain quarter --json
  memberlens explain-change net_revenue --period 2026-10 --by region,registration_channel

--by splits the change among a dimension's values (they add up to it exactly, so the metric must be a sum over
them: net revenue or orders by any dimension, buyers by a member dimension), then looks into the value whose
change is furthest from its share of the change above (surprise = change − change above × share of base) and
splits it by the next dimension.`,
    )
    .action(async (metric: string, flags: Flags) => {
      const extraMetrics =
        flags.metricsFile === undefined
          ? []
          : parseCustomMetrics(await readConfigFile(flags.metricsFile), flags.metricsFile)
      const formulas =
        flags.formulas === undefined ? {} : parseFormulas(readText(flags.formulas), flags.formulas)
      const options = {
        extraMetrics,
        formulas,
        ...(flags.period === undefined ? {} : { period: flags.period }),
        grain: flags.grain,
        timezone: flags.tz,
      }
      const by = flags.by
        ?.split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
      const e = await withEngine(flags, async (driver) =>
        by === undefined
          ? { explanation: await explainChange(driver, metric, options), drilled: undefined }
          : await explainChangeBy(driver, metric, by, options).then((d) => ({
              explanation: d as ChangeExplanation,
              drilled: d,
            })),
      )
      if (flags.json) {
        printJson(e.explanation)
        return
      }
      let text = renderExplanation(e.explanation, flags.lang)
      const d = e.drilled
      if (d !== undefined) {
        for (const drill of [d.drills.pop, d.drills.yoy])
          if (drill !== null) text += `\n${renderDrill(d, drill, flags.lang)}`
        text += `\n\n${pc.dim(translator(flags.lang)('change|The drill follows the value whose change is furthest from its share of the change above it (surprise = change − change above × share of base).'))}`
      }
      process.stdout.write(`${text}\n`)
    })
}
