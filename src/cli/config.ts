/**
 * The CLI's settings: the database, engine, ClickHouse URL, project time zone, the zone of timestamps without
 * offset at ingest, language, currency, ledger and how long to wait for a database another process holds. Each comes from, in order of precedence:
 *
 * 1. the command's flag (`--db`, `--engine`, `--url`, `--tz`, `--lang`, `--currency`, `--ledger`);
 * 2. the environment (`MEMBERLENS_DB`, `MEMBERLENS_ENGINE`, …, see {@link SETTINGS});
 * 3. the project file `memberlens.config.yaml`, in the current folder or the nearest folder above it (or the
 *    file `MEMBERLENS_CONFIG` names); a relative path in it is relative to the file's folder;
 * 4. the command's built-in default.
 *
 * A `preAction` hook ({@link installConfig}) fills the options a command declares from 2 and 3 before the
 * command runs, so every command sees the effective values as if they had been given as flags. This module
 * is light to import: it never loads DuckDB, and loads zod and the YAML parser only when a command runs.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import type { Command } from 'commander'
import type { ZodType } from 'zod'
import { ConfigError, NotFoundError } from '../core/errors.js'
import { setLockWaitPolicy } from '../store/db-lock.js'
import { DEFAULT_DB_PATH, databaseExists } from '../store/db-path.js'
import { DEFAULT_TIME_ZONE, isTimeZone } from '../core/time-zone.js'

export const CONFIG_FILE = 'memberlens.config.yaml'

/** Every setting: its key in the file, its variable, and its built-in default (for display). */
export const SETTINGS = {
  db: { env: 'MEMBERLENS_DB', builtIn: DEFAULT_DB_PATH, help: 'DuckDB database file' },
  engine: { env: 'MEMBERLENS_ENGINE', builtIn: 'duckdb', help: 'analytics engine' },
  url: {
    env: 'MEMBERLENS_URL',
    alias: 'MEMBERLENS_CLICKHOUSE_URL',
    builtIn: 'http://127.0.0.1:8123',
    help: 'ClickHouse HTTP endpoint (with engine clickhouse)',
  },
  tz: {
    env: 'MEMBERLENS_TZ',
    builtIn: DEFAULT_TIME_ZONE,
    help: 'project time zone: the days, weeks and months of every command and of the API',
  },
  ingest_tz: {
    env: 'MEMBERLENS_INGEST_TZ',
    builtIn: 'UTC',
    help: 'zone of timestamps without offset when ingesting (below --tz and a mapping file)',
  },
  lang: {
    env: 'MEMBERLENS_LANG',
    builtIn: 'en',
    help: 'language of the text output of every command (labels, headers, statuses, names) and of the dashboard until the viewer picks one',
  },
  currency: {
    env: 'MEMBERLENS_CURRENCY',
    builtIn: undefined,
    help: 'currency of ingested orders that have no currency column, and of money on the dashboard (default CNY)',
  },
  ledger: {
    env: 'MEMBERLENS_LEDGER',
    builtIn: undefined,
    help: 'loyalty ledger: directory (embedded) or postgres:// URL',
  },
  lock_wait: {
    env: 'MEMBERLENS_LOCK_WAIT',
    builtIn: 30,
    help: 'seconds to wait for a database that another process holds',
  },
} as const

export type SettingKey = keyof typeof SETTINGS
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[]

export type SettingSource =
  | { readonly kind: 'flag' }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'default' }

export interface Setting {
  readonly value: string | number | undefined
  readonly source: SettingSource
}

export interface EffectiveConfig {
  /** The project file that was read, if any. */
  readonly file: string | undefined
  readonly settings: Readonly<Record<SettingKey, Setting>>
}

/** The nearest `memberlens.config.yaml` from `cwd` upwards, or undefined. */
export function findConfigFile(cwd: string): string | undefined {
  let dir = resolve(cwd)
  for (;;) {
    const candidate = join(dir, CONFIG_FILE)
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

let checks: Record<SettingKey, ZodType<string | number>> | undefined

/** The check of each setting, built on first use (zod is loaded only when a setting is read). */
async function settingChecks(): Promise<Record<SettingKey, ZodType<string | number>>> {
  if (checks) return checks
  const { z } = await import('zod')
  const pathLike = z.string().trim().min(1, 'must not be empty')
  checks = {
    db: pathLike,
    engine: z.enum(['duckdb', 'clickhouse'], 'must be duckdb or clickhouse'),
    url: z.url({
      protocol: /^https?$/,
      error: 'must be an http:// or https:// URL, e.g. http://127.0.0.1:8123',
    }),
    tz: z.string().refine(isTimeZone, 'must be an IANA time zone such as Asia/Shanghai or UTC'),
    ingest_tz: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as Asia/Shanghai or UTC'),
    lang: z.enum(['en', 'zh'], 'must be en or zh'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY'),
    ledger: pathLike,
    lock_wait: z.coerce
      .number('must be a number of seconds')
      .min(0, 'must be 0 or more seconds')
      .max(3600, 'must be at most 3600 seconds'),
  }
  return checks
}

/** A setting's value checked; the error names `where` (file, line and key, or the variable or flag). */
export async function checkValue(
  key: SettingKey,
  raw: unknown,
  where: string,
): Promise<string | number> {
  const parsed = (await settingChecks())[key].safeParse(raw)
  if (!parsed.success) {
    const reason = parsed.error.issues[0]?.message ?? 'is invalid'
    throw new ConfigError(`${where}: ${reason} (got ${JSON.stringify(raw)})`)
  }
  return parsed.data
}

/** Paths in the file are relative to the file's folder; URLs and `:memory:` stay as they are. */
function besideFile(file: string, value: string): string {
  if (value === ':memory:' || /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || isAbsolute(value))
    return value
  return resolve(dirname(file), value)
}

/** Reads and checks a project file; errors name the file, the line and the key. */
async function readConfigFile(file: string): Promise<Partial<Record<SettingKey, string | number>>> {
  const { LineCounter, parseDocument, isMap, isScalar } = await import('yaml')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new ConfigError(`${file}: cannot be read (${(e as Error).message})`)
  }
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
  const problem = doc.errors[0]
  if (problem)
    throw new ConfigError(
      `${file}:${problem.linePos?.[0].line ?? 1}: not valid YAML (${problem.message.split('\n')[0]})`,
    )
  if (doc.contents === null) return {}
  if (!isMap(doc.contents))
    throw new ConfigError(`${file}: must be a mapping of settings such as "db: ./members.duckdb"`)
  const out: Partial<Record<SettingKey, string | number>> = {}
  for (const pair of doc.contents.items) {
    const keyNode = pair.key
    const name = isScalar(keyNode) ? String(keyNode.value) : String(keyNode)
    const line = isScalar(keyNode) && keyNode.range ? lines.linePos(keyNode.range[0]).line : 1
    const where = `${file}:${line}: key "${name}"`
    if (!Object.hasOwn(SETTINGS, name))
      throw new ConfigError(`${where}: unknown setting (known: ${SETTING_KEYS.join(', ')})`)
    const key = name as SettingKey
    const valueNode = pair.value
    const raw = isScalar(valueNode) ? valueNode.value : valueNode?.toJSON()
    if (raw === null || raw === undefined) throw new ConfigError(`${where}: has no value`)
    if (typeof raw === 'object') throw new ConfigError(`${where}: must be a single value`)
    const value = await checkValue(key, key === 'lock_wait' ? raw : String(raw), where)
    out[key] =
      (key === 'db' || key === 'ledger') && typeof value === 'string'
        ? besideFile(file, value)
        : value
  }
  return out
}

/** The settings from the environment and the project file, over the built-in defaults (no flags yet). */
export async function loadConfig(
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<EffectiveConfig> {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const named = env['MEMBERLENS_CONFIG']
  let file: string | undefined
  if (named !== undefined && named !== '') {
    file = resolve(cwd, named)
    if (!existsSync(file))
      throw new ConfigError(`MEMBERLENS_CONFIG: no configuration file at ${file}`)
  } else {
    file = findConfigFile(cwd)
  }
  const fromFile = file === undefined ? {} : await readConfigFile(file)
  const settings = {} as Record<SettingKey, Setting>
  for (const key of SETTING_KEYS) {
    const spec: { readonly env: string; readonly alias?: string; readonly builtIn?: unknown } =
      SETTINGS[key]
    const name = [spec.env, spec.alias].find((n) => n !== undefined && (env[n] ?? '') !== '')
    const fromEnv = name === undefined ? undefined : env[name]
    if (name !== undefined && fromEnv !== undefined) {
      const value = await checkValue(key, fromEnv, `environment variable ${name}`)
      settings[key] = { value, source: { kind: 'env', name } }
    } else if (fromFile[key] !== undefined && file !== undefined) {
      settings[key] = { value: fromFile[key], source: { kind: 'file', path: file } }
    } else {
      settings[key] = { value: SETTINGS[key].builtIn, source: { kind: 'default' } }
    }
  }
  return { file, settings }
}

/** How a source reads in `memberlens config` and in messages. */
export function describeSource(source: SettingSource): string {
  switch (source.kind) {
    case 'flag':
      return 'flag'
    case 'env':
      return `env ${source.name}`
    case 'file':
      return `file ${source.path}`
    case 'default':
      return 'default'
    default: {
      const _exhaustive: never = source
      return _exhaustive
    }
  }
}

/** The settings a command's options receive: setting key → commander attribute name. */
const OPTION_OF: Readonly<Partial<Record<SettingKey, string>>> = {
  db: 'db',
  engine: 'engine',
  url: 'url',
  tz: 'tz',
  lang: 'lang',
  currency: 'currency',
  ledger: 'ledger',
}

/**
 * Settings a command does not take as a flag: `ingest` takes the currency of a mapping file over the configured
 * one (a flag still wins over both), and its `--tz` is the zone of timestamps without offset, which falls back to
 * `ingest_tz`, never to the project time zone (reading stored data in another zone would shift it).
 */
const FALLBACK_ONLY: Readonly<Record<string, readonly SettingKey[]>> = {
  ingest: ['tz', 'currency'],
}

/**
 * Commands that may run without an existing database file: they create one, or their `--db` only locates
 * files beside it. Every other command with `--db` stops with a hint when the file is missing.
 */
const NEEDS_NO_DATABASE = new Set([
  'demo',
  'ingest',
  'serve', // checks itself: refuses unless --create
  'keys create',
  'keys list',
  'keys revoke',
  'alerts add',
  'alerts list',
  'alerts remove',
  'alerts history',
  'config',
])

let current: EffectiveConfig | undefined

/** The configuration the running command was given (after {@link installConfig}'s hook ran). */
export function currentConfig(): EffectiveConfig | undefined {
  return current
}

/** A configured value a command applies below its own inputs (see FALLBACK_ONLY), if env or file set it. */
export function configuredFallback(key: SettingKey): string | undefined {
  const s = current?.settings[key]
  return s && s.source.kind !== 'default' && typeof s.value === 'string' ? s.value : undefined
}

export function commandPath(cmd: Command): string {
  const names: string[] = []
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}

/**
 * The language of a command's messages: its `--lang` (already filled from the environment and the project
 * file), else the configured language for a command without the flag.
 */
export function commandLang(
  cmd: Command,
  config: EffectiveConfig | undefined = current,
): 'en' | 'zh' {
  const flag = cmd.opts<{ lang?: unknown }>().lang
  const value = flag ?? config?.settings.lang.value
  return value === 'zh' ? 'zh' : 'en'
}

/** Fills a command's options from the environment and the project file, then checks its database exists. */
export async function applyConfig(
  cmd: Command,
  options: {
    readonly cwd?: string
    readonly env?: NodeJS.ProcessEnv
    readonly stderr?: (s: string) => void
  } = {},
): Promise<EffectiveConfig> {
  const config = await loadConfig(options)
  current = config
  const path = commandPath(cmd)
  const skip = new Set(FALLBACK_ONLY[path] ?? [])
  for (const key of SETTING_KEYS) {
    const attribute = OPTION_OF[key]
    const setting = config.settings[key]
    if (attribute === undefined || skip.has(key) || setting.source.kind === 'default') continue
    if (!cmd.options.some((o) => o.attributeName() === attribute)) continue
    const given = cmd.getOptionValueSource(attribute)
    if (given !== undefined && given !== 'default') continue
    cmd.setOptionValueWithSource(
      attribute,
      String(setting.value),
      setting.source.kind === 'env' ? 'env' : 'config',
    )
  }
  const write = options.stderr ?? ((s: string) => process.stderr.write(s))
  const lang = commandLang(cmd, config)
  const { lockWaitNote } = await import('./lang.js')
  setLockWaitPolicy({
    timeoutMs: Number(config.settings.lock_wait.value) * 1000,
    intervalMs: 100,
    onWait: (_note, wait) =>
      write(`${lockWaitNote(wait.path, wait.holder, Math.round(wait.timeoutMs / 1000), lang)}\n`),
  })
  checkDatabaseExists(cmd, path)
  return config
}

/** No database file at the path a command was given: the CLI prints it as one line with the commands that make one. */
export class MissingDatabaseError extends NotFoundError {
  constructor(
    readonly path: string,
    /** Where the path came from when it was not a flag: `MEMBERLENS_DB` or the project file. */
    readonly source: string | undefined,
  ) {
    super(
      `no database at ${path}${source === undefined ? '' : ` (from ${source})`}: build one with \`memberlens demo --db ${path}\` or load data with \`memberlens ingest <table> <files> --db ${path}\``,
    )
  }
}

function checkDatabaseExists(cmd: Command, path: string): void {
  if (NEEDS_NO_DATABASE.has(path)) return
  if (!cmd.options.some((o) => o.attributeName() === 'db')) return
  const flags = cmd.opts<{ db?: unknown; engine?: unknown }>()
  if (flags.engine === 'clickhouse' || typeof flags.db !== 'string') return
  if (databaseExists(flags.db)) return
  const source = cmd.getOptionValueSource('db')
  throw new MissingDatabaseError(
    flags.db,
    source === 'env'
      ? 'MEMBERLENS_DB'
      : source === 'config'
        ? (current?.file ?? CONFIG_FILE)
        : undefined,
  )
}

/** Installs the hook that applies the configuration before every command's action. */
export function installConfig(program: Command): void {
  program.addHelpText(
    'after',
    `
Settings: a flag that is not given (--db, --engine, --url, --tz, --lang, --currency, --ledger) takes its value
from MEMBERLENS_DB, MEMBERLENS_ENGINE, … or from ${CONFIG_FILE} in this folder or the nearest one above;
\`memberlens config\` shows the effective settings and where each came from.`,
  )
  program.hook('preAction', async (_program, action) => {
    await applyConfig(action)
  })
}
