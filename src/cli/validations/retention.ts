/**
 * Flag parsing shared by the retention commands (cohorts, survival, lifecycle, rfm, funnel, segments):
 * zod at the edge, one `InputError` listing every bad flag.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { Option } from 'commander'
import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { ConfigError, InputError } from '../../core/errors.js'
import { ISO_INSTANT_RE } from '../../engine/cohorts/time-sql.js'
import { findDefaultAsOf } from '../../engine/lifecycle/default-as-of.js'
import type { Driver } from '../../engine/drivers/driver.js'
import { DEFAULT_DB_PATH, openDatabase, type Database } from '../../store/database.js'
import { utcTimestampText, wallTimeIn } from '../../core/time-zone.js'

/** Parses with a zod schema; failures become one InputError naming each flag (or config path). */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  label = 'flag',
): z.infer<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  throw new InputError(
    `invalid ${label}s`,
    parsed.error.issues.map((i) => ({
      field:
        label === 'flag'
          ? `--${i.path.join('.')}`
          : i.path.join('.') ||
            (label.startsWith('--') ? (label.split(' ')[0] as string) : '(root)'),
      reason: i.message,
    })),
  )
}

/** Reads a YAML or JSON file (by extension) into a plain value. */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    throw InputError.single({ file: path, reason: 'file not found or not readable' })
  }
  try {
    return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  } catch (e) {
    throw new ConfigError(
      `${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
    )
  }
}

/** Opens the database read-only unless told otherwise, runs `fn`, closes it. */
export async function withDb<T>(
  path: string,
  fn: (db: Database) => Promise<T>,
  readOnly = true,
): Promise<T> {
  const db = await openDatabase(path, { readOnly })
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

/** An "as of" moment in the project time zone: as the user reads it, and as the builders take it. */
export interface ZonedAsOf {
  /** The local date (or date and time) in `zone`, as given or found: `2026-11-01`. */
  readonly local: string
  readonly zone: string
  /** The same moment as the engine's UTC timestamp text, `YYYY-MM-DD HH:MM:SS`, for the query builders. */
  readonly instant: string
  /** For text output: `2026-11-01 00:00 Asia/Shanghai`. */
  readonly label: string
}

/**
 * `--as-of` read as a wall time in the project time zone `zone` if given, else the start of the day after the
 * latest activity (days counted in `zone`); an empty database is a user error.
 */
export async function resolveZonedAsOf(
  driver: Driver,
  flag: string | undefined,
  zone: string,
): Promise<ZonedAsOf> {
  let local: string
  if (flag !== undefined) {
    if (!ISO_INSTANT_RE.test(flag) || !isCalendarDate(flag))
      throw InputError.single({ field: '--as-of', value: flag, reason: 'expected YYYY-MM-DD' })
    local = flag.replace('T', ' ')
  } else {
    const found = await findDefaultAsOf(driver, zone)
    if (found === undefined) {
      throw InputError.single({
        reason: 'the database holds no orders or events yet: load some with `memberlens ingest`',
      })
    }
    local = found
  }
  const at = wallTimeIn(local, zone)
  const time = local.length > 10 ? local.slice(11, 16) : '00:00'
  return {
    local,
    zone,
    instant: utcTimestampText(at),
    label: `${local.slice(0, 10)} ${time} ${zone}`,
  }
}

/** `--as-of` for the commands that read it in the project time zone. */
export const zonedAsOfOption = () =>
  new Option(
    '--as-of <date>',
    'state at the start of this day in the project time zone --tz (default: the day after the latest activity)',
  )

/**
 * True when `value` starts with a day of the calendar (YYYY-MM-DD: month 01–12, a day the month has), and its
 * time, if any, is a time of day. `Date.parse` alone lets 2026-02-30 through as 2 March.
 */
export function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value)
  if (m === null) return false
  const [y, mo, d, h, mi, se] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)))
  const date = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1))
  return (
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === (mo ?? 0) - 1 &&
    date.getUTCDate() === d &&
    (h ?? 0) < 24 &&
    (mi ?? 0) < 60 &&
    (se ?? 0) < 60
  )
}

/** Checks a date or instant flag (YYYY-MM-DD[ HH:MM[:SS]]) and returns it. */
export function checkInstant(field: string, value: string): string {
  if (!ISO_INSTANT_RE.test(value) || !isCalendarDate(value)) {
    throw InputError.single({ field, value, reason: 'expected a date YYYY-MM-DD' })
  }
  return value
}

export const dbOption = () => new Option('--db <file>', 'database file').default(DEFAULT_DB_PATH)
export const outputOptions = () => [
  new Option('--json', 'machine-readable JSON on stdout').default(false).conflicts('csv'),
  new Option('--csv', 'CSV on stdout').default(false),
]

/** A CSV document (RFC 4180) from a header and rows. */
export function toCsv(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null>>,
): string {
  const cell = (v: string | number | boolean | null) => {
    if (v === null) return ''
    const s = String(v)
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
  }
  return `${[header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`
}
