/**
 * The data commands: demo, simulate, ingest, members, overview and schema. Each action loads the code it runs
 * only when it runs, so that building the command line stays cheap.
 * @module
 */
import { timeZoneOption } from '../time-zone-option.js'
import { Command, InvalidArgumentError, Option } from 'commander'
import { InputError } from '../../core/errors.js'
import { INGEST_TABLES, isIngestTable, type IngestTable } from '../../core/schema.js'
import { ENCODINGS, SOURCE_FORMATS } from '../../duckdb/ingest/source.js'
import { UNKNOWN_IDENTITY_RULES } from '../../duckdb/ingest/ingest.js'
import { PRESETS } from '../../duckdb/ingest/presets/index.js'
import { addEngineOptions, withEngine } from '../engine-options.js'
import { langOption } from '../lang.js'
import { ingestFlagsSchema } from '../validations/ingest.js'
import { dbOption, withDatabase } from '../database.js'

function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer')
  return n
}

function nonNegativeInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError('expected a non-negative integer')
  return n
}

function isoDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new InvalidArgumentError('expected a date YYYY-MM-DD')
  }
  return value
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

function tableList(value: string): IngestTable[] {
  const names = value.split(',').map((s) => s.trim())
  for (const n of names) {
    if (!isIngestTable(n))
      throw new InvalidArgumentError(`unknown table ${n} (one of ${INGEST_TABLES.join(', ')})`)
  }
  return names as IngestTable[]
}

const jsonOption = () => new Option('--json', 'machine-readable JSON on stdout').default(false)

/** Registers the data commands. */
export function registerDataCommands(program: Command): void {
  program
    .command('demo')
    .description(
      'simulate a member base, load it into a fresh database and print the overview (the main job)',
    )
    .addOption(dbOption())
    .addOption(
      new Option('--members <n>', 'persons to simulate').default(20_000).argParser(positiveInt),
    )
    .addOption(new Option('--months <n>', 'months of history').default(24).argParser(positiveInt))
    .addOption(new Option('--seed <n>', 'random seed').default(42).argParser(nonNegativeInt))
    .addOption(
      new Option('--end <date>', 'last simulated day').default('2026-10-31').argParser(isoDate),
    )
    .addOption(timeZoneOption())
    .option(
      '--calendar-demand',
      'purchases follow the retail calendar: a 春节 dip after a 年货 lift, 618 and 双11 pre-sale rises (recorded in truth.json)',
      false,
    )
    .option(
      '--planted-covariates',
      'plant covariate effects for `clv fit --covariates`: store-registered members buy more, everyone buys more in the 年货节/618/双11 windows (other seasonality off; true effects in truth.json)',
      false,
    )
    .addOption(langOption('the summary'))
    .option(
      '--uplift-campaign',
      'also simulate a randomised multi-arm retention campaign (coupons, points, care call, holdout) and its per-person truth, for `memberlens target`',
      false,
    )
    .option(
      '--universal-holdout',
      'also hold 10 % of the members registered before t0 (200 days before the end) out of every member campaign from t0 on, assignment in experiments.csv, the programme’s true effect in truth.json, for `experiments report universal_holdout_… --control holdout`',
      false,
    )
    .option(
      '--identity-cases',
      'also plant the hard cases of identity resolution and load them last, for `memberlens members quality --truth <truth.json>`',
      false,
    )
    .option(
      '--planted-farming',
      'also plant points-farming rings and honest look-alike households (rings in truth.json), for `memberlens loyalty farming`',
      false,
    )
    .addOption(jsonOption())
    .option('--quiet', 'print nothing on success', false)
    .option('--no-serve', 'stop after the terminal summary instead of serving the dashboard')
    .addOption(
      new Option('--port <port>', 'dashboard port (another free one if taken)')
        .default(3000)
        .argParser(nonNegativeInt),
    )
    .action(async (flags) => (await import('./demo.js')).runDemo(flags))

  program
    .command('simulate')
    .description(
      'write simulated source files (CSV or Parquet) and their ground truth (truth.json)',
    )
    .requiredOption('--out <dir>', 'output directory')
    .addOption(
      new Option('--members <n>', 'persons to simulate').default(20_000).argParser(positiveInt),
    )
    .addOption(new Option('--months <n>', 'months of history').default(24).argParser(positiveInt))
    .addOption(new Option('--seed <n>', 'random seed').default(42).argParser(nonNegativeInt))
    .addOption(
      new Option('--end <date>', 'last simulated day').default('2026-10-31').argParser(isoDate),
    )
    .addOption(
      new Option('--format <format>', 'file format').choices(['csv', 'parquet']).default('csv'),
    )
    .option(
      '--calendar-demand',
      'purchases follow the retail calendar: a 春节 dip after a 年货 lift, 618 and 双11 pre-sale rises (recorded in truth.json)',
      false,
    )
    .option(
      '--planted-covariates',
      'plant covariate effects for `clv fit --covariates`: store-registered members buy more, everyone buys more in the 年货节/618/双11 windows (other seasonality off; true effects in truth.json)',
      false,
    )
    .addOption(langOption('the summary'))
    .addOption(
      new Option('--tables <list>', 'comma-separated tables to write (default: all)').argParser(
        tableList,
      ),
    )
    .option(
      '--identity-cases',
      'also plant the hard cases of identity resolution (placeholder numbers, mistyped e-mails, shared and recycled phones) in identity_cases.csv, with every registration record’s person in truth.json; the other files stay the same',
      false,
    )
    .option(
      '--planted-farming',
      'also plant points-farming rings (shared devices, addresses and number blocks, burst sign-ups, clockwork check-ins, one redeemer) and honest look-alike households, appended to members, orders and events, with the rings in truth.json; without it the files are unchanged',
      false,
    )
    .option(
      '--uplift-campaign',
      'also simulate a randomised multi-arm retention campaign (coupons, points, care call, holdout) and its per-person truth, for `memberlens target`',
      false,
    )
    .option(
      '--universal-holdout',
      'also hold 10 % of the members registered before t0 (200 days before the end) out of every member campaign from t0 on, assignment in experiments.csv, the programme’s true effect in truth.json, for `experiments report universal_holdout_… --control holdout`',
      false,
    )
    .addOption(jsonOption())
    .option('--quiet', 'print nothing on success', false)
    .action(async (flags) => (await import('./simulate.js')).runSimulate(flags))

  program
    .command('ingest')
    .description(
      'validate and load files into a canonical table, or load a known data set with a preset',
    )
    .argument(
      '<table>',
      `canonical table (${INGEST_TABLES.join(', ')}) or preset (${Object.keys(PRESETS).join(', ')})`,
    )
    .argument('<files...>', 'CSV (with header), JSON Lines or Parquet files, optionally .gz')
    .addOption(dbOption())
    .option(
      '--map <field=Column>',
      'map a source column to a canonical field or identity type (repeatable)',
      collect,
      [],
    )
    .option(
      '--mapping <file>',
      'mapping file (YAML or JSON): columns, ignore, timezone, date_format, currency, …',
    )
    .option('--ignore <columns>', 'comma-separated source columns to leave out')
    .option(
      '--tz <zone>',
      'IANA zone of timestamps without offset (or the mapping file, MEMBERLENS_INGEST_TZ, ingest_tz; default UTC; not the project zone)',
    )
    .option(
      '--date-format <fmt>',
      'strptime format of timestamps, e.g. "%d/%m/%Y %H:%M" (default ISO 8601)',
    )
    .option('--currency <code>', 'currency of orders when the file has no currency column')
    .option('--delimiter <char>', 'CSV delimiter (default ","; "\\t" for tab)')
    .addOption(
      new Option(
        '--encoding <name>',
        'text encoding of CSV and JSON Lines (gb18030/gbk: Chinese Excel exports)',
      ).choices(ENCODINGS),
    )
    .option(
      '--max-line-size <size>',
      'longest line accepted, in bytes or with KB/MB/GB (default 2MB)',
    )
    .addOption(
      new Option('--format <format>', 'file format (default: from the extension)').choices(
        SOURCE_FORMATS,
      ),
    )
    .option(
      '--country-code <digits>',
      'country calling code for national phone numbers (default 86)',
    )
    .option(
      '--deny-identity <value>',
      'identifier never used to merge members, type:value or a bare value (repeatable; adds to the built-in list)',
      collect,
      [],
    )
    .option(
      '--deny-identity-pattern <regex>',
      'regular expression of identifiers never used to merge, optionally type:-prefixed (repeatable)',
      collect,
      [],
    )
    .option(
      '--max-members-per-identity <n>',
      'an identifier shared by more than n members is not used to merge them (default 5)',
    )
    .option(
      '--exclusive-identity-types <list>',
      'identity types a person has at most one of, comma-separated, or none: a link giving a member two values of one is refused (default wechat_unionid,app_user_id)',
    )
    .option(
      '--recycled-phone-days <n>',
      'a registration whose phone leads to a member with no registration, order or event in the n days before it is not merged into that member (a reassigned number; the phone is listed as shared), or none (default 180)',
    )
    .option(
      '--no-attribute-conflicts',
      'merge a registration through its phone even when its birthday or gender differs from the member’s',
    )
    .option('--no-builtin-deny', 'do not apply the built-in deny list of placeholder identifiers')
    .addOption(
      new Option(
        '--unknown-identity <rule>',
        'records whose identities match no member: create the member, or reject the file',
      )
        .choices(UNKNOWN_IDENTITY_RULES)
        .default('create'),
    )
    .option('--dry-run', 'validate and resolve, then roll back', false)
    .addOption(langOption('the load report'))
    .addOption(
      new Option('--max-errors <n>', 'problems to list (all are counted)')
        .default(20)
        .argParser(positiveInt),
    )
    .addOption(jsonOption())
    .option('--quiet', 'print nothing on success', false)
    .addHelpText(
      'after',
      `
Each file is atomic (it lands whole or not at all) and idempotent (loading it again changes nothing).
Run \`memberlens schema <table>\` for the canonical fields. Exit codes: 0 ok, 2 bad input, 1 failure.

Examples:
  memberlens ingest members members.csv --map phone=mobile --map registered_at=signup_time --tz Asia/Shanghai
  memberlens ingest orders orders.jsonl.gz --mapping orders-mapping.yaml --dry-run
  memberlens ingest online-retail online_retail.csv.gz
  memberlens ingest cdnow CDNOW_master.txt`,
    )
    .action(async (target: string, files: string[], flags, cmd: Command) => {
      const parsed = ingestFlagsSchema.safeParse({
        ...flags,
        verbose: cmd.optsWithGlobals().verbose ?? false,
      })
      if (!parsed.success) {
        throw new InputError(
          'invalid flags',
          parsed.error.issues.map((i) => ({
            // The flag as typed: --max-line-size, not the option's property maxLineSize.
            field: `--${i.path.join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
            reason: i.message,
          })),
        )
      }
      const { runIngest } = await import('./ingest.js')
      await withDatabase(parsed.data.db, 'write', (db) => runIngest(db, target, files, parsed.data))
    })

  const members = program.command('members').description('resolved members')
  members
    .command('show')
    .description('print a member with all identities: by member id, identity value or type:value')
    .argument('<query>', 'member id, identity value, or type:value such as phone:13800138000')
    .addOption(dbOption())
    .option(
      '--country-code <digits>',
      'country calling code for national phone numbers (default 86)',
    )
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (query: string, flags) => {
      const { runMembersShow } = await import('./members.js')
      await withDatabase(flags.db, 'read', (db) => runMembersShow(db, query, flags))
    })
  members
    .command('merges')
    .description('list members merged by identity resolution, newest first')
    .addOption(dbOption())
    .addOption(new Option('--limit <n>', 'rows').default(50).argParser(positiveInt))
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (flags) => {
      const { runMembersMerges } = await import('./members.js')
      await withDatabase(flags.db, 'read', (db) => runMembersMerges(db, flags))
    })

  members
    .command('quality')
    .description(
      'identity resolution quality: members known in 1, 2, 3+ channels; with --truth, pairwise precision and recall',
    )
    .addOption(dbOption())
    .option(
      '--truth <file>',
      'a truth.json written by `memberlens simulate --identity-cases`, whose records were loaded into the database',
    )
    .option(
      '--country-code <digits>',
      'country calling code for national phone numbers (default 86)',
    )
    .addOption(langOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
The guards that keep placeholder and shared identifiers from merging people are set at load time:
\`memberlens ingest … --deny-identity phone:13800000000 --max-members-per-identity 3\` (docs/identity-resolution.md).

Example:
  memberlens simulate --out sim --members 5000 --identity-cases
  memberlens demo … (or ingest each file), then: memberlens ingest members sim/identity_cases.csv
  (or: memberlens demo --identity-cases, then --truth .memberlens/demo-data/truth.json)
  memberlens members quality --truth sim/truth.json`,
    )
    .action(async (flags) => {
      const { runMembersQuality } = await import('./members.js')
      await withDatabase(flags.db, 'read', (db) => runMembersQuality(db, flags))
    })

  addEngineOptions(program.command('overview'))
    .description('members, buyers, revenue and activity for a month and for all time')
    .addOption(dbOption())
    .option('--month <YYYY-MM>', "month to report (default: the data's last complete month)")
    .addOption(timeZoneOption())
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (flags) => {
      const { runOverview } = await import('./overview.js')
      await withEngine(flags, (driver) => runOverview(driver, flags))
    })

  program
    .command('schema')
    .description('list the canonical tables, or the fields of one')
    .argument('[table]', 'table name')
    .addOption(langOption('descriptions and headers'))
    .addOption(jsonOption())
    .action(async (name: string | undefined, flags) => {
      if (name !== undefined && !isIngestTable(name)) {
        throw InputError.single({
          field: 'table',
          value: name,
          reason: `unknown table (one of ${INGEST_TABLES.join(', ')})`,
        })
      }
      const { runSchema } = await import('./schema.js')
      runSchema(name, flags)
    })
}
