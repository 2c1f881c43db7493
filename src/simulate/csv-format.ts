/**
 * Fast formatting of CSV fields: ISO 8601 UTC timestamps, dates, money in cents and RFC 4180 quoting.
 * Timestamps are the hottest path of the simulator (millions per run), so day prefixes and times of day
 * are looked up in tables instead of going through `Date`.
 * @module
 */

const DAY = 86_400

/** '00'…'99'. */
const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) =>
  i < 10 ? `0${i}` : String(i),
)

/** Formats UTC seconds as `YYYY-MM-DDTHH:MM:SSZ` (fractions truncated) and `YYYY-MM-DD`. */
export class TimeFormat {
  private readonly firstDay: number
  private readonly dayPrefix: string[]
  private readonly days: string[]
  private readonly clock: string[]

  /** Table-backed for days in [fromSec, toSec]; other instants fall back to `Date`. */
  constructor(fromSec: number, toSec: number) {
    this.firstDay = Math.floor(fromSec / DAY)
    const lastDay = Math.floor(toSec / DAY)
    this.days = []
    this.dayPrefix = []
    for (let d = this.firstDay; d <= lastDay; d++) {
      const s = new Date(d * DAY * 1000).toISOString().slice(0, 10)
      this.days.push(s)
      this.dayPrefix.push(`${s}T`)
    }
    this.clock = new Array<string>(DAY)
    for (let s = 0; s < DAY; s++) {
      const h = Math.floor(s / 3600)
      const m = Math.floor((s % 3600) / 60)
      this.clock[s] = `${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[s % 60]}Z`
    }
  }

  /** ISO 8601 UTC timestamp with whole seconds, e.g. `2025-03-05T10:22:13Z`. */
  ts(sec: number): string {
    const s = Math.floor(sec)
    const day = Math.floor(s / DAY)
    const prefix = this.dayPrefix[day - this.firstDay]
    if (prefix === undefined) return `${new Date(s * 1000).toISOString().slice(0, 19)}Z`
    return prefix + this.clock[s - day * DAY]
  }

  /** `YYYY-MM-DD` of the UTC day containing `sec`. */
  date(sec: number): string {
    const day = Math.floor(sec / DAY)
    return this.days[day - this.firstDay] ?? new Date(day * DAY * 1000).toISOString().slice(0, 10)
  }
}

/** Integer cents (≥ 0) as a decimal with exactly two places: 12345 → `123.45`. */
export function money(cents: number): string {
  const whole = Math.floor(cents / 100)
  return `${whole}.${TWO_DIGITS[cents - whole * 100]}`
}

const NEEDS_QUOTES = /[",\r\n]/

/** RFC 4180 field: quoted (with doubled quotes) only when it contains a comma, quote or line break. */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

/** Compact JSON of `value`, quoted for CSV. */
export function csvJson(value: unknown): string {
  return csvField(JSON.stringify(value))
}
