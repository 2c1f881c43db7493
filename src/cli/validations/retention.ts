/**
 * Flag parsing shared by the retention commands (cohorts, survival, lifecycle, rfm, funnel, segments):
 * zod at the edge, one `InputError` listing every bad flag.
 * @module
 */
import { Option } from 'commander'
import type { z } from 'zod'
import { InputError } from '../../core/errors.js'
import { ISO_INSTANT_RE } from '../../engine/cohorts/time-sql.js'
import { findZonedAsOf, type ZonedAsOf } from '../../engine/lifecycle/default-as-of.js'
import type { Driver } from '../../engine/drivers/driver.js'

export type { ZonedAsOf } from '../../engine/lifecycle/default-as-of.js'
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

/**
 * `--as-of` read as a wall time in the project time zone `zone` if given, else the start of the day after the
 * latest activity (days counted in `zone`); an empty database is a user error.
 */
export async function resolveZonedAsOf(
  driver: Driver,
  flag: string | undefined,
  zone: string,
): Promise<ZonedAsOf> {
  if (flag !== undefined && (!ISO_INSTANT_RE.test(flag) || !isCalendarDate(flag)))
    throw InputError.single({ field: '--as-of', value: flag, reason: 'expected YYYY-MM-DD' })
  const at = await findZonedAsOf(driver, flag, zone)
  if (at === undefined)
    throw InputError.single({
      reason: 'the database holds no orders or events yet: load some with `memberlens ingest`',
    })
  return at
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

export const outputOptions = () => [
  new Option('--json', 'machine-readable JSON on stdout').default(false).conflicts('csv'),
  new Option('--csv', 'CSV on stdout').default(false),
]
