/**
 * Calendar periods between two dates, computed in TypeScript (UTC) so that the SQL receives them as
 * parameters instead of engine-specific series generators.
 * @module
 */
import type { Grain } from '../dialects/dialect.js'

export interface Period {
  /** First day, YYYY-MM-DD. */
  readonly start: string
  /** First day of the next period (exclusive end), YYYY-MM-DD. */
  readonly end: string
}

const DAY_MS = 86_400_000
const iso = (d: Date): string => d.toISOString().slice(0, 10)

/** Start of the period of `grain` holding `date` (YYYY-MM-DD). Weeks start on Monday (ISO). */
export function periodStart(grain: Grain, date: string): string {
  const d = new Date(`${date.slice(0, 10)}T00:00:00Z`)
  if (Number.isNaN(d.getTime())) throw new Error(`invalid date ${JSON.stringify(date)}`)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth()
  switch (grain) {
    case 'day':
      return iso(d)
    case 'week':
      return iso(new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY_MS))
    case 'month':
      return iso(new Date(Date.UTC(y, m, 1)))
    case 'quarter':
      return iso(new Date(Date.UTC(y, m - (m % 3), 1)))
    case 'year':
      return iso(new Date(Date.UTC(y, 0, 1)))
    default: {
      const _exhaustive: never = grain
      throw new Error(`unknown grain ${String(_exhaustive)}`)
    }
  }
}

/** The start of the period after the one starting at `start`. */
export function nextPeriodStart(grain: Grain, start: string): string {
  const d = new Date(`${start}T00:00:00Z`)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth()
  switch (grain) {
    case 'day':
      return iso(new Date(d.getTime() + DAY_MS))
    case 'week':
      return iso(new Date(d.getTime() + 7 * DAY_MS))
    case 'month':
      return iso(new Date(Date.UTC(y, m + 1, 1)))
    case 'quarter':
      return iso(new Date(Date.UTC(y, m + 3, 1)))
    case 'year':
      return iso(new Date(Date.UTC(y + 1, 0, 1)))
    default: {
      const _exhaustive: never = grain
      throw new Error(`unknown grain ${String(_exhaustive)}`)
    }
  }
}

/** The periods from the one holding `from` through the one holding `to` (inclusive). */
export function periodRange(grain: Grain, from: string, to: string, max = 5000): Period[] {
  const out: Period[] = []
  let s = periodStart(grain, from)
  const last = periodStart(grain, to)
  while (s <= last) {
    const e = nextPeriodStart(grain, s)
    out.push({ start: s, end: e })
    s = e
    if (out.length > max) throw new Error(`more than ${max} periods between ${from} and ${to}`)
  }
  return out
}
