/**
 * The `memberlens` command line. Building it stays cheap: the table below names each top-level command and the
 * module that declares it, and only the module of the command being run is loaded (with the database engine,
 * the HTTP server or the chart renderer it needs). Flags are parsed in `validations/`, work is done in
 * `commands/`.
 * @module
 */
import { createRequire } from 'node:module'
import { Command, CommanderError } from 'commander'
import { currentConfig, installConfig } from './config.js'
import { EXIT_CANCELLED, withInterruptHandler } from './interrupt.js'
import { EXIT, reportError } from './output.js'

type Register = (program: Command) => void

interface CommandEntry {
  /** One line for the top-level help; the module gives the command's own description. */
  readonly summary: string
  /** Loads the module that declares the command (and the others it declares beside it). */
  readonly load: () => Promise<Register>
}

const data = async () => (await import('./commands/basics.js')).registerDataCommands
const metrics = async () => (await import('./commands/metrics.js')).registerMetricsCommands
const serve = async () => (await import('./commands/serve.js')).registerServeCommands

/** Every top-level command, in the order of the help. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  demo: {
    summary: 'simulate a member base, load it and print the summary (the main job)',
    load: data,
  },
  simulate: { summary: 'write simulated source files and their ground truth', load: data },
  ingest: {
    summary: 'validate and load files into a canonical table, or a data set by preset',
    load: data,
  },
  schema: { summary: 'the canonical tables and their fields', load: data },
  members: { summary: 'resolved members: look one up, list merges', load: data },
  overview: { summary: 'members, buyers, revenue and activity for a month', load: data },
  metrics: { summary: 'the metric catalog: list, read, find drivers', load: metrics },
  explain: {
    summary: 'the glossary: what a term or metric means',
    load: async () => (await import('./commands/explain.js')).registerExplainCommands,
  },
  tree: { summary: 'the metric tree with targets and status', load: metrics },
  'explain-change': {
    summary: 'why a metric moved: its change split exactly into its formula’s parts',
    load: async () => (await import('./commands/explain-change.js')).registerExplainChangeCommands,
  },
  calendar: {
    summary: 'the retail calendar: 春节, 618, 双11 and the brand events of a year',
    load: async () => (await import('./commands/calendar.js')).registerCalendarCommands,
  },
  cohorts: {
    summary: 'cohort retention, LTV and payback tables',
    load: async () => (await import('./commands/cohorts.js')).registerCohortCommands,
  },
  survival: {
    summary: 'Kaplan–Meier time to churn',
    load: async () => (await import('./commands/survival.js')).registerSurvivalCommands,
  },
  lifecycle: {
    summary: 'lifecycle stages, transitions and churn flows',
    load: async () => (await import('./commands/lifecycle.js')).registerLifecycleCommands,
  },
  rfm: {
    summary: 'RFM scores and named segments',
    load: async () => (await import('./commands/rfm.js')).registerRfmCommands,
  },
  funnel: {
    summary: 'ordered conversion funnels over events',
    load: async () => (await import('./commands/funnel.js')).registerFunnelCommands,
  },
  categories: {
    summary: 'product categories: share, penetration, purchase paths, cross-sell, mix',
    load: async () => (await import('./commands/categories.js')).registerCategoryCommands,
  },
  intervals: {
    summary: 'days between purchases: P10 … P90 per group or category',
    load: async () => (await import('./commands/categories.js')).registerCategoryCommands,
  },
  segments: {
    summary: 'saved member segments: save, show, compare (TGI), export',
    load: async () => (await import('./commands/segments.js')).registerSegmentCommands,
  },
  tags: {
    summary: 'member tags in groups: compute per month, import manual tags, history',
    load: async () => (await import('./commands/tags.js')).registerTagCommands,
  },
  clv: {
    summary: 'customer lifetime value models: fit, predict, report, renewals',
    load: async () => (await import('./commands/clv.js')).registerClvCommands,
  },
  risk: {
    summary: 'churn risk: train, score, list, export by class',
    load: async () => (await import('./commands/risk.js')).registerRiskCommands,
  },
  points: {
    summary: 'loyalty points: earn, redeem, returns, expiry, balance',
    load: async () => (await import('./commands/points.js')).registerPointsCommands,
  },
  tiers: {
    summary: 'membership tiers: review, history, downgrade warnings',
    load: async () => (await import('./commands/tiers.js')).registerTiersCommands,
  },
  loyalty: {
    summary: 'the loyalty program: replay, sync, metrics, backtest',
    load: async () => {
      const [group, backtest, farming] = await Promise.all([
        import('./commands/loyalty.js'),
        import('./commands/loyalty-backtest.js'),
        import('./commands/farming.js'),
      ])
      return (program) => {
        const loyalty = group.registerLoyaltyCommands(program)
        backtest.registerLoyaltyBacktest(loyalty)
        farming.registerFarmingCommands(loyalty)
      }
    },
  },
  ledger: {
    summary: "the loyalty ledger's database: apply its migrations",
    load: async () => (await import('./commands/ledger.js')).registerLedgerCommands,
  },
  experiments: {
    summary: 'A/B experiments: lift, CI, CUPED, SRM, planning',
    load: async () => (await import('./commands/experiments.js')).registerExperimentCommands,
  },
  effects: {
    summary: 'program and campaign effects against matched or held-out members',
    load: async () => (await import('./commands/effects.js')).registerEffectsCommands,
  },
  target: {
    summary: 'who gets which offer within a budget: uplift models, Qini per arm, contact list',
    load: async () => (await import('./commands/target.js')).registerTargetCommands,
  },
  'target-simulate': {
    summary:
      'before launch: cost, incremental value and break-even redemption of one arm for a segment',
    load: async () => (await import('./commands/target-simulate.js')).registerTargetSimulateCommand,
  },
  voice: {
    summary: 'voice of the member: NPS, sentiment, topics, service',
    load: async () => (await import('./commands/voice.js')).registerVoiceCommands,
  },
  alerts: {
    summary: 'metric alerts with webhooks',
    load: async () => (await import('./commands/alerts.js')).registerAlertCommands,
  },
  report: {
    summary: 'an HTML report of the main figures; reports sent on a schedule',
    load: async () => (await import('./commands/report.js')).registerReportCommands,
  },
  serve: { summary: 'serve the dashboard and the HTTP API', load: serve },
  keys: { summary: 'API keys: create, list, revoke', load: serve },
  clickhouse: {
    summary: 'ClickHouse: table DDL and loading a database into ClickHouse',
    load: async () => (await import('./commands/clickhouse.js')).registerClickHouseCommands,
  },
  rollups: {
    summary: 'the member × day activity rollup: rebuild, status',
    load: async () => (await import('./commands/rollups.js')).registerRollupCommands,
  },
  config: {
    summary: 'the effective settings and where each came from',
    load: async () => (await import('./commands/config.js')).registerConfigCommand,
  },
}

/** The package version, read from package.json (two folders up from both src/cli and dist/cli). */
function packageVersion(): string {
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string }
  return pkg.version
}

/** commander's own usage errors in Chinese, by their English text (anything else is written as it is). */
const COMMANDER_ZH: ReadonlyArray<readonly [RegExp, string]> = [
  [/^error: unknown option '(.+?)'/, "错误：未知选项 '$1'"],
  [/^error: required option '(.+?)' not specified/, "错误：缺少必需的选项 '$1'"],
  [/^error: missing required argument '(.+?)'/, "错误：缺少必需的参数 '$1'"],
  [/^error: option '(.+?)' argument missing/, "错误：选项 '$1' 缺少取值"],
  [/^error: option '(.+?)' argument '(.*?)' is invalid\./, "错误：选项 '$1' 的取值 '$2' 无效。"],
  [/ ?Allowed choices are (.+)\./, '可选值：$1。'],
  [
    /^error: too many arguments(?: for '.+?')?\. Expected (\d+) arguments? but got (\d+)\./,
    '错误：参数过多：应为 $1 个，实际为 $2 个。',
  ],
  [/^error: unknown command '(.+?)'/, "错误：未知命令 '$1'"],
  [/\(Did you mean (.+?)\?\)/, '（是否要输入 $1？）'],
  [/^\(run with --help for usage\)/, '（加 --help 查看用法）'],
]

/** A line commander writes to stderr, in the language. */
export function commanderText(text: string, lang: 'en' | 'zh'): string {
  if (lang === 'en') return text
  return text
    .split('\n')
    .map((line) => COMMANDER_ZH.reduce((l, [re, zh]) => l.replace(re, zh), line))
    .join('\n')
}

/**
 * The top-level program, without commands. Flags not given on the command line take their values from the
 * environment and memberlens.config.yaml (a hook that runs before every command's action); commander's usage
 * errors are written in `lang`.
 */
function baseProgram(lang: 'en' | 'zh' = 'en'): Command {
  const program = new Command('memberlens')
    .description(
      'Member metrics and retention: ingest member data, resolve identities, analyse in DuckDB.',
    )
    .version(packageVersion())
    .option('--verbose', 'print stack traces of errors', false)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(commanderText(s, lang)) })
    .exitOverride()
  installConfig(program)
  return program
}

/** The command a command line runs: its first word that is not an option (`help X` runs X's help). */
export function commandName(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'))
  return words[0] === 'help' ? words[1] : words[0]
}

/**
 * The program for a command line: the named command's module fully declared, or, for the top-level help
 * and for unknown commands, every command by its summary (commander then suggests the nearest name).
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = baseProgram(errorLang(argv))
  const name = commandName(argv)
  const entry = name === undefined ? undefined : COMMANDS[name]
  if (entry !== undefined) {
    ;(await entry.load())(program)
    return program
  }
  for (const [command, { summary }] of Object.entries(COMMANDS)) {
    program.command(command).summary(summary)
  }
  return program
}

/** Every command fully declared (for documentation and tests of the whole command line). */
export async function buildFullProgram(): Promise<Command> {
  const program = baseProgram()
  const loaded = new Set<Register>()
  for (const { load } of Object.values(COMMANDS)) {
    const register = await load()
    if (loaded.has(register)) continue
    loaded.add(register)
    register(program)
  }
  return program
}

/** The one line printed when Ctrl+C stops a command. */
function reportCancelled(json: boolean): void {
  process.stderr.write(
    json
      ? `${JSON.stringify({ error: { code: 'CANCELLED', message: 'cancelled' } })}\n`
      : 'cancelled\n',
  )
}

/** The language of an error line: `--lang` as typed, else the configured language (MEMBERLENS_LANG, the project file). */
export function errorLang(argv: readonly string[]): 'en' | 'zh' {
  const i = argv.indexOf('--lang')
  const typed = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--lang='))?.slice(7)
  // The flag, then the variable, then the project file (read once the command's hook has run).
  const env = process.env['MEMBERLENS_LANG']
  const value = typed ?? (env === '' ? undefined : env) ?? currentConfig()?.settings.lang.value
  return value === 'zh' ? 'zh' : 'en'
}

/** Runs the CLI and returns the exit code (130 when Ctrl+C cancelled the command). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = await buildProgram(argv)
  const json = argv.includes('--json')
  try {
    const outcome = await withInterruptHandler(
      () => program.parseAsync([...argv]),
      () => {
        reportCancelled(json)
        process.exit(EXIT_CANCELLED)
      },
    )
    if (outcome.cancelled) {
      reportCancelled(json)
      return EXIT_CANCELLED
    }
    return EXIT.ok
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? EXIT.ok : EXIT.badInput
    }
    const opts = program.opts<{ verbose?: boolean }>()
    return reportError(error, { json, verbose: opts.verbose ?? false, lang: errorLang(argv) })
  }
}
